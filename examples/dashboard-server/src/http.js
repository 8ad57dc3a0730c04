'use strict'
// Small HTTP helpers: JSON responses, bounded JSON bodies, request errors with a status, and
// the status of an engine error.

/** An error answered with `status` and `{ error: { code, message } }`. */
class HttpError extends Error {
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** Answers `body`: JSON, text, or bytes (a Buffer, with its content type in `headers`). */
function send(res, status, body, headers = {}) {
  const text = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body)
  const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json'
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

/** The request's URL, or `null` when its request target is not one (`//a:99999/`, for
 *  example, which `new URL` refuses by throwing). */
function requestUrl(req) {
  try {
    return new URL(req.url, 'http://localhost')
  } catch {
    return null
  }
}

/** The request's JSON body, refusing more than `limit` bytes (413) and bad JSON (400). */
function readJson(req, limit) {
  return new Promise((resolve, reject) => {
    let size = 0
    const chunks = []
    req.on('data', (chunk) => {
      size += chunk.length
      // Past the limit the rest is read and dropped, so the 413 reaches the client.
      if (size > limit) reject(new HttpError(413, 'BODY_TOO_LARGE', `the request body is over ${limit} bytes`))
      else chunks.push(chunk)
    })
    req.on('end', () => {
      if (size > limit) return
      if (size === 0) return resolve({})
      // A body must say it is JSON: a form or text/plain POST (what a page on another site can
      // send without a preflight) is refused.
      const type = String(req.headers['content-type'] || '').split(';')[0].trim().toLowerCase()
      if (type !== 'application/json' && !type.endsWith('+json')) {
        return reject(new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `the request body must be application/json, not ${type || 'untyped'}`))
      }
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      } catch (e) {
        reject(new HttpError(400, 'BAD_JSON', `the request body is not JSON: ${e.message}`))
      }
    })
    req.on('error', reject)
  })
}

/** Checks that `body[field]` has `type` ('string', 'array', 'object', 'number'); 400 otherwise. */
function need(body, field, type, optional = false) {
  const v = body[field]
  if (v === undefined || v === null) {
    if (optional) return undefined
    throw new HttpError(400, 'BAD_REQUEST', `\`${field}\` is required`)
  }
  const ok = type === 'array' ? Array.isArray(v) : type === 'object' ? typeof v === 'object' && !Array.isArray(v) : typeof v === type
  if (!ok) throw new HttpError(400, 'BAD_REQUEST', `\`${field}\` must be ${type === 'array' ? 'an array' : `a ${type}`}`)
  return v
}

/** HTTP status of an engine error code: bad input is the caller's (4xx). */
function statusOf(code) {
  if (['KPI_FORMULA', 'KPI_QUERY', 'KPI_OPTION', 'KPI_SCHEMA', 'KPI_ALERT', 'KPI_REPORT', 'KPI_RETENTION'].includes(code)) return 400
  if (code === 'KPI_DELIVERY') return 502
  if (code === 'KPI_CATALOG' || code === 'KPI_DATA') return 404
  // A forecast without enough data, a definition that breaks others, a table a cluster cannot read.
  if (code === 'KPI_FORECAST' || code === 'KPI_DEFINITION' || code === 'KPI_LOCAL_ONLY') return 422
  if (code === 'KPI_TIMEOUT') return 504
  // A database or cluster that does not answer, or no memory left for now: try again later.
  if (code === 'KPI_SOURCE' || code === 'KPI_CLUSTER' || code === 'KPI_MEMORY') return 503
  if (code === 'KPI_PRICING') return 400
  return 500
}

module.exports = { HttpError, send, readJson, need, statusOf, requestUrl }
