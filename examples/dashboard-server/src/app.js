'use strict'
// The dashboard server: the seeds' catalog, calculation and configuration endpoints over an
// embedded kpi-engine, WebSocket streaming, health, metrics and an OpenAPI document.

const { randomUUID } = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const { demo, pricing } = require('kpi-engine')
const { HttpError, send, readJson, need, statusOf, requestUrl, routeTemplate } = require('./http')
const { Clients } = require('./clients')
const { Metrics } = require('./metrics')
const { openapi } = require('./openapi')
const stream = require('./stream')
const alerting = require('./alerts')

const PUBLIC = path.join(__dirname, '..', 'public')
/** The page's files, by URL path: served without a token (the page sends it to the API). */
const ASSETS = {
  '/': [path.join(PUBLIC, 'index.html'), 'text/html; charset=utf-8'],
  '/static/app.js': [path.join(PUBLIC, 'app.js'), 'text/javascript; charset=utf-8'],
  '/static/style.css': [path.join(PUBLIC, 'style.css'), 'text/css; charset=utf-8'],
  '/vendor/mermaid.min.js': [require.resolve('mermaid/dist/mermaid.min.js'), 'text/javascript; charset=utf-8'],
}

/** A query from a request body: the engine's query document as it is (the engine checks
 *  every field and refuses unknown ones). */
/** A query document from a URL's query string: `grain`, `by` (repeated or comma-separated),
 *  `start`, `end`, `where`, `timezone`. */
function queryFromParams(kpi, params) {
  const query = { kpi }
  for (const key of ['grain', 'start', 'end', 'where', 'timezone']) if (params.has(key)) query[key] = params.get(key)
  const by = params.getAll('by').flatMap((b) => b.split(',')).filter(Boolean)
  if (by.length) query.by = by
  return query
}

/** An integer query-string parameter, or undefined when absent. */
function integer(params, name) {
  if (!params.has(name)) return undefined
  const text = params.get(name)
  if (!/^\d{1,9}$/.test(text)) throw new HttpError(400, 'BAD_REQUEST', `\`${name}\` must be a whole number, got \`${text}\``)
  return Number(text)
}

/** A number query-string parameter, or undefined when absent. */
function number(params, name) {
  if (!params.has(name)) return undefined
  const value = Number(params.get(name))
  if (!Number.isFinite(value)) throw new HttpError(400, 'BAD_REQUEST', `\`${name}\` must be a number`)
  return value
}

function queryOf(body) {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'BAD_REQUEST', 'a query must be a JSON object')
  return body
}

/**
 * The server (not yet listening). Options: `catalog`, `engine`, `clientsFile` (where client
 * configurations persist), `token` (bearer token required when set), `rateLimit` (requests per
 * second per client, default 200; WebSocket upgrades count as requests), `bodyLimit` (bytes,
 * default 1 MiB), `slowBytes` (unsent bytes past which a WebSocket counts as slow, default 1 MiB),
 * `allowedOrigins` (origins of pages on other sites that may open the WebSockets).
 */
function createServer({ catalog, engine, clientsFile, token, rateLimit = 200, bodyLimit = 1 << 20, slowBytes, allowedOrigins = [] }) {
  const clients = new Clients(clientsFile)
  const metrics = new Metrics(engine)
  const buckets = new Map()

  const authorize = (req, url) => !token || req.headers.authorization === `Bearer ${token}` || (url && url.searchParams.get('token') === token)

  // A token bucket per client (bearer token, else address) holding a second's requests.
  const limited = (req) => {
    const who = req.headers.authorization || req.socket.remoteAddress || 'unknown'
    const now = Date.now()
    const b = buckets.get(who) || { tokens: rateLimit, at: now }
    b.tokens = Math.min(rateLimit, b.tokens + ((now - b.at) / 1000) * rateLimit)
    b.at = now
    buckets.set(who, b)
    if (b.tokens < 1) return true
    b.tokens -= 1
    return false
  }
  // A bucket idle for a second is full again, the same as no bucket: drop those, so clients
  // that come and go do not grow the map.
  const pruning = setInterval(() => {
    const now = Date.now()
    for (const [who, b] of buckets) if (now - b.at > 1000) buckets.delete(who)
  }, 10000)
  pruning.unref()

  const routes = [
    ['GET', /^\/health$/, async () => ({ status: 'ok' })],
    ['GET', /^\/openapi\.json$/, async () => openapi],
    ['GET', /^\/kpis$/, async () => engine.catalog.kpis()],
    ['GET', /^\/kpis\/module\/([\w-]+)$/, async (m) => engine.catalog.kpis({ module: m[1] })],
    ['GET', /^\/kpis\/([\w-]+)$/, async (m) => engine.catalog.kpi(m[1])],
    ['GET', /^\/kpis\/([\w-]+)\/history$/, async (m, body, params) => (await engine.calculate(queryFromParams(m[1], params))).toJSON()],
    ['GET', /^\/kpis\/([\w-]+)\/trend$/, async (m, body, params) => engine.trend(queryFromParams(m[1], params), { window: integer(params, 'window') })],
    ['GET', /^\/kpis\/([\w-]+)\/forecast$/, async (m, body, params) => {
      const seasonal = params.has('seasonal') ? params.get('seasonal') === 'true' : undefined
      const options = { horizon: integer(params, 'horizon'), seasonLength: integer(params, 'season_length'), level: number(params, 'level'), method: params.get('method') ?? undefined, trend: params.get('trend') ?? undefined, seasonal }
      return (await engine.forecast(queryFromParams(m[1], params), options)).toJSON()
    }],
    ['GET', /^\/definitions$/, async () => engine.catalog.kpis()],
    ['GET', /^\/definitions\/([\w-]+)$/, async (m) => engine.catalog.kpi(m[1])],
    ['POST', /^\/definitions\/validate$/, async (m, body) => {
      const formula = need(body, 'formula', 'string')
      const problems = engine.catalog.validateFormula(formula)
      return { valid: problems.length === 0, problems }
    }],
    ['POST', /^\/definitions$/, async (m, body) => {
      need(body, 'code', 'string')
      if (engine.catalog.kpis().some((k) => k.code === body.code)) throw new HttpError(409, 'CONFLICT', `KPI \`${body.code}\` exists; PUT /definitions/${body.code} changes it`)
      return [201, await engine.defineKpi(body)]
    }],
    ['PUT', /^\/definitions\/([\w-]+)$/, async (m, body) => {
      if (body.code !== undefined && body.code !== m[1]) throw new HttpError(400, 'BAD_REQUEST', '`code` must be the one in the path')
      if (!engine.catalog.kpis().some((k) => k.code === m[1])) throw new HttpError(404, 'NOT_FOUND', `no KPI \`${m[1]}\`; POST /definitions creates one`)
      return engine.defineKpi({ ...body, code: m[1] })
    }],
    ['DELETE', /^\/definitions\/([\w-]+)$/, async (m, body, params) => engine.removeKpi(m[1], { cascade: params.get('cascade') === 'true' })],
    ['POST', /^\/kpis\/([\w-]+)\/trigger$/, async (m) => ({ kpi: m[1], refreshed_views: await engine.trigger(m[1]) })],
    ['POST', /^\/compare$/, async (m, body) => {
      const { current, previous, ...query } = body
      need(body, 'current', 'array')
      if (previous !== undefined && typeof previous !== 'string' && !Array.isArray(previous)) throw new HttpError(400, 'BAD_REQUEST', '`previous` is a [start, end] range, "previous_period" or "last_year"')
      return engine.compare(queryOf(query), current, previous)
    }],
    ['GET', /^\/object-models$/, async () => catalog.objectModels()],
    ['GET', /^\/object-models\/([\w-]+)$/, async (m) => {
      const model = catalog.objectModels().find((o) => o.code === m[1])
      if (!model) throw new HttpError(404, 'NOT_FOUND', `no object model \`${m[1]}\``)
      return { ...model, diagram: catalog.diagram([m[1]]) }
    }],
    ['GET', /^\/modules$/, async () => catalog.modules()],
    ['GET', /^\/value-chains$/, async () => catalog.valueChains()],
    // Identical calculations at once run once: the engine shares one in flight.
    ['POST', /^\/calculate$/, async (m, body) => (await engine.calculate(queryOf(body))).toJSON()],
    ['POST', /^\/calculate\/batch$/, async (m, body) => {
      const queries = need(body, 'queries', 'array').map(queryOf)
      return { items: (await engine.dashboard(queries)).items }
    }],
    ['POST', /^\/calculate\/dashboard$/, async (m, body) => {
      const { kpis, ...shared } = body
      need(body, 'kpis', 'array')
      return engine.dashboard(kpis.map((kpi) => queryOf({ ...shared, kpi })))
    }],
    ['GET', /^\/clients$/, async () => clients.list()],
    ['POST', /^\/clients$/, async (m, body) => [201, clients.create(body, catalog)]],
    ['GET', /^\/clients\/([\w-]+)$/, async (m) => clients.get(m[1])],
    ['PUT', /^\/clients\/([\w-]+)$/, async (m, body) => clients.update(m[1], body, catalog)],
    ['POST', /^\/analysis\/required-objects$/, async (m, body) => catalog.requiredObjects(need(body, 'kpis', 'array'))],
    ['GET', /^\/proposals\/questionnaire$/, async () => pricing.questionnaire()],
    ['POST', /^\/proposals\/questionnaire$/, async (m, body) => pricing.questionnaire(catalog, need(body, 'kpis', 'array'))],
    ['POST', /^\/proposals$/, async (m, body) => {
      const proposal = pricing.price(catalog, { kpis: need(body, 'kpis', 'array'), answers: need(body, 'answers', 'object') })
      return { proposal: proposal.toJSON(), markdown: proposal.toMarkdown() }
    }],
    ...alerting.routes(engine),
    ['POST', /^\/demo\/generate$/, async (m, body) => {
      const rows = need(body, 'rows', 'number', true) ?? 10000
      if (!Number.isInteger(rows) || rows < 1 || rows > 1000000) throw new HttpError(400, 'BAD_REQUEST', '`rows` must be an integer from 1 to 1,000,000')
      const data = demo.generate(catalog, { rows, seed: body.seed ?? 42, start: body.start, end: body.end })
      for (const [name, ipc] of Object.entries(data)) engine.register(name, ipc)
      return { registered: Object.keys(data) }
    }],
  ]

  const server = http.createServer(async (req, res) => {
    const started = process.hrtime.bigint()
    // A correlation id: the caller's, or a new one; answered in the header and in errors.
    const given = req.headers['x-request-id']
    const requestId = typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID()
    res.setHeader('x-request-id', requestId)
    const url = requestUrl(req)
    if (!url) {
      metrics.observe('unknown', 400, Number(process.hrtime.bigint() - started) / 1e9)
      return send(res, 400, { error: { code: 'BAD_REQUEST', message: 'the request target is not a URL', request_id: requestId } })
    }
    let route = 'unknown'
    let status = 500
    try {
      const asset = req.method === 'GET' && ASSETS[url.pathname]
      if (asset) {
        route = url.pathname
        status = 200
        res.writeHead(200, { 'content-type': asset[1], 'cache-control': 'no-cache' })
        return fs.createReadStream(asset[0]).pipe(res)
      }
      if (url.pathname === '/metrics' && req.method === 'GET') {
        route = '/metrics'
        status = 200
        return send(res, 200, metrics.text(), { 'content-type': 'text/plain; version=0.0.4' })
      }
      const found = routes.find(([method, pattern]) => pattern.test(url.pathname) && method === req.method)
      if (!found) {
        const any = routes.some(([, pattern]) => pattern.test(url.pathname))
        throw any ? new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here`) : new HttpError(404, 'NOT_FOUND', `no route ${url.pathname}`)
      }
      route = routeTemplate(found[1])
      if (url.pathname !== '/health' && !authorize(req, null)) throw new HttpError(401, 'UNAUTHORIZED', 'a valid bearer token is required')
      if (limited(req)) throw new HttpError(429, 'RATE_LIMITED', `more than ${rateLimit} requests per second`)
      const body = req.method === 'GET' ? {} : await readJson(req, bodyLimit)
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'BAD_REQUEST', 'the body must be a JSON object')
      const out = await found[2](found[1].exec(url.pathname), body, url.searchParams)
      const [code, payload] = Array.isArray(out) && out.length === 2 && typeof out[0] === 'number' ? out : [200, out]
      status = code
      if (payload && Buffer.isBuffer(payload.document)) {
        // A rendered document (a report run): its bytes with its type, as a download.
        return send(res, code, payload.document, { 'content-type': payload.contentType, 'content-disposition': `attachment; filename="${payload.filename}"` })
      }
      send(res, code, payload)
    } catch (e) {
      status = e.status || statusOf(e.code)
      if (status >= 500) console.error(`${requestId} ${req.method} ${url.pathname}: ${e.stack || e.message}`)
      send(res, status, { error: { code: e.code || 'INTERNAL', kind: e.kind, message: e.message, request_id: requestId } }, status === 413 ? { connection: 'close' } : {})
    } finally {
      metrics.observe(route, status, Number(process.hrtime.bigint() - started) / 1e9)
    }
  })
  const alertHub = new alerting.AlertHub(engine, metrics)
  const wss = stream.attach(server, { engine, authorize, limited, metrics, slowBytes, alertHub, allowedOrigins })

  /** Stops accepting, closes WebSockets, and resolves when every request has been answered. */
  server.shutdown = () =>
    new Promise((resolve) => {
      clearInterval(pruning)
      for (const ws of wss.clients) ws.close(1001, 'server shutting down')
      alertHub.close()
      server.close(() => resolve())
      server.closeIdleConnections()
    })
  server.metrics = metrics
  return server
}

module.exports = { createServer }
