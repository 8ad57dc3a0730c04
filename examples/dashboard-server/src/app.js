'use strict'
// The dashboard server: the route table (routes.js, alerts.js, health.js) over node:http with
// the checks every request passes in order: a URL, an allowed Host, the per-address rate limit,
// the caller (auth.js) and its role, a JSON body valid against the route's schema. Errors are
// `{ error: { code, message, request_id } }`; a 500 says only that, its details go to the log.

const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const Ajv = require('ajv')
const { HttpError, send, readJson, statusOf, requestUrl } = require('./http')
const { Access } = require('./access')
const { Auth } = require('./auth')
const { Clients } = require('./clients')
const { LIMITS } = require('./config')
const { Health } = require('./health')
const { JsonFile } = require('./store')
const { Metrics } = require('./metrics')
const { openapi } = require('./openapi')
const { silent, traceOf } = require('./logging')
const { RateLimiter, hostAllowed, SECURITY_HEADERS } = require('./guard')
const { routes } = require('./routes')
const stream = require('./stream')
const alerting = require('./alerts')

const PUBLIC = path.join(__dirname, '..', 'public')
/** The page's files, by URL path: served without a credential (the page sends it to the API). */
const ASSETS = {
  '/': [path.join(PUBLIC, 'index.html'), 'text/html; charset=utf-8'],
  '/static/app.js': [path.join(PUBLIC, 'app.js'), 'text/javascript; charset=utf-8'],
  '/static/live.js': [path.join(PUBLIC, 'live.js'), 'text/javascript; charset=utf-8'],
  '/static/charts.js': [path.join(PUBLIC, 'charts.js'), 'text/javascript; charset=utf-8'],
  '/static/proposal.js': [path.join(PUBLIC, 'proposal.js'), 'text/javascript; charset=utf-8'],
  '/static/style.css': [path.join(PUBLIC, 'style.css'), 'text/css; charset=utf-8'],
  '/vendor/mermaid.min.js': [require.resolve('mermaid/dist/mermaid.min.js'), 'text/javascript; charset=utf-8'],
  // chart.js exports no subpath for its browser build: it sits next to its CommonJS one.
  '/vendor/chart.umd.js': [path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'text/javascript; charset=utf-8'],
}

/** Path parameters' patterns: codes and ids are words; an alert rule's name any segment. */
const PARAMETER = { name: '([^/]+)' }

/** `route` with its path compiled to a pattern and its body schema to a validator. */
function compile(route, ajv) {
  const source = route.path.replace(/[.]/g, '\\.').replace(/\{(\w+)\}/g, (_, name) => PARAMETER[name] || '([\\w-]+)')
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])
  return { ...route, pattern: new RegExp(`^${source}$`), names, validate: route.body ? ajv.compile(route.body) : null }
}

/** The path parameters of `match`, percent-decoded (400 when that fails). */
function parametersOf(route, match) {
  const out = {}
  route.names.forEach((name, i) => {
    try {
      out[name] = decodeURIComponent(match[i + 1])
    } catch {
      throw new HttpError(400, 'BAD_REQUEST', `the ${name} in the path is not valid percent-encoding`)
    }
  })
  return out
}

/** The first schema error of `validate` as a sentence. */
function schemaMessage(validate) {
  const e = validate.errors[0]
  const where = e.instancePath ? `\`${e.instancePath.slice(1).replace(/\//g, '.')}\`` : 'the body'
  const extra = e.keyword === 'enum' ? `: ${e.params.allowedValues.join(', ')}` : ''
  return `${where} ${e.message}${extra}`
}

/**
 * The server (not yet listening). Options: `catalog`, `engine`, `clientsFile` and `layoutsFile`
 * (where client configurations and users' layouts persist), `auth` (the configuration's auth
 * section; none: every caller is an anonymous admin, for loopback only), `limits` (config.js's
 * LIMITS), `allowedOrigins` (pages elsewhere that may open the WebSockets), `allowedHosts`
 * (Host names served; by default only loopback names when listening on loopback), `logger`
 * (pino), `dashboards`, `sources` (for /health/detailed), `slowBytes`.
 */
function createServer({ catalog, engine, clientsFile, layoutsFile, auth: authConfig = {}, limits: given = {}, allowedOrigins = [], allowedHosts = [], logger = silent(), dashboards = [], sources = [], slowBytes }) {
  const limits = { ...LIMITS, ...given }
  const auth = new Auth(authConfig)
  const clients = new Clients(clientsFile, logger)
  const layoutStore = new JsonFile(layoutsFile ?? (clientsFile ? path.join(path.dirname(clientsFile), 'layouts.json') : null), logger)
  const saved = layoutStore.read({})
  const layouts = {
    get: (subject) => saved[subject] ?? null,
    set: (subject, layout) => {
      saved[subject] = layout
      layoutStore.write(saved)
      return layout
    },
  }
  const access = new Access({ catalog: engine.catalog, clients, limits })
  const metrics = new Metrics(engine)
  const health = new Health(engine, sources)
  const limiter = new RateLimiter(limits.rate_limit)
  const ajv = new Ajv({ allErrors: false, strict: false })
  const table = [...health.routes(), ...routes({ catalog, engine, clients, access, layouts, dashboards }), ...alerting.routes(engine)].map((r) => compile(r, ajv))
  const document = openapi(table)
  table.push(compile({ method: 'GET', path: '/openapi.json', right: 'public', summary: 'This document', handler: () => document }, ajv))
  table.push(compile({ method: 'GET', path: '/metrics', right: 'staff', summary: 'Prometheus metrics', handler: async () => ({ text: await metrics.text(), type: metrics.registry.contentType }) }, ajv))

  const server = http.createServer(async (req, res) => {
    const started = process.hrtime.bigint()
    const trace = traceOf(req)
    const given = req.headers['x-request-id']
    const requestId = typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : trace.span
    const log = logger.child({ request_id: requestId, trace_id: trace.traceId, span_id: trace.span })
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value)
    res.setHeader('x-request-id', requestId)
    res.setHeader('traceparent', trace.header)
    let route = 'unknown'
    let status = 500
    let code
    let failure
    const url = requestUrl(req)
    try {
      if (!url) throw new HttpError(400, 'BAD_REQUEST', 'the request target is not a URL')
      if (!hostAllowed(req, allowedHosts)) throw new HttpError(421, 'HOST_NOT_ALLOWED', `this server does not answer for host \`${String(req.headers.host ?? '')}\``)
      if (limiter.limited(req.socket.remoteAddress)) throw new HttpError(429, 'RATE_LIMITED', `more than ${limits.rate_limit} requests per second from one address`)
      const asset = req.method === 'GET' && ASSETS[url.pathname]
      if (asset) {
        route = url.pathname
        status = 200
        res.writeHead(200, { 'content-type': asset[1], 'cache-control': 'no-cache' })
        return fs.createReadStream(asset[0]).pipe(res)
      }
      let match = null
      const found = table.find((r) => r.method === req.method && (match = r.pattern.exec(url.pathname)))
      if (!found) {
        const any = table.some((r) => r.pattern.test(url.pathname))
        throw any ? new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here`) : new HttpError(404, 'NOT_FOUND', `no route ${url.pathname}`)
      }
      route = found.path
      const principal = found.right === 'public' ? null : await auth.principal(req)
      if (principal) principal.need(found.right)
      const body = req.method === 'GET' || req.method === 'DELETE' ? {} : await readJson(req, limits.body_bytes)
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'BAD_REQUEST', 'the body must be a JSON object')
      if (found.validate && !found.validate(body)) throw new HttpError(400, 'BAD_REQUEST', schemaMessage(found.validate))
      const scope = (query) => access.scope(principal, query)
      const out = await found.handler({ params: parametersOf(found, match), query: url.searchParams, body, principal, scope })
      const [answered, payload] = Array.isArray(out) && out.length === 2 && typeof out[0] === 'number' ? out : [200, out]
      status = answered
      if (payload && Buffer.isBuffer(payload.document)) {
        // A rendered document (a report run): its bytes with its type, as a download.
        return send(res, status, payload.document, { 'content-type': payload.contentType, 'content-disposition': `attachment; filename="${payload.filename}"` })
      }
      if (found.path === '/metrics') return send(res, status, payload.text, { 'content-type': payload.type })
      send(res, status, payload)
    } catch (e) {
      status = e.status || statusOf(e.code)
      code = e.code || 'INTERNAL'
      let message = e.message
      failure = e.message
      if (status >= 500 && !(e instanceof HttpError) && !['KPI_SOURCE', 'KPI_CLUSTER', 'KPI_TIMEOUT', 'KPI_MEMORY'].includes(code)) {
        // The details (paths, internals) stay in the log; the caller gets the id to quote.
        log.error({ err: e, method: req.method, route }, 'request failed')
        message = `internal error; the server's log has the details under request id ${requestId}`
      }
      const headers = status === 413 ? { connection: 'close' } : {}
      if (status === 429) headers['retry-after'] = '1'
      send(res, status, { error: { code, kind: e.kind, message, request_id: requestId } }, headers)
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      metrics.observe(route, status, seconds)
      if (route.startsWith('/calculate') || route.startsWith('/kpis/{code}/')) health.calculated(route, status, code, failure)
      log.info({ method: req.method, route, status, ms: Math.round(seconds * 1e4) / 10, remote: req.socket.remoteAddress }, 'request')
    }
  })
  // A failing socket (a client resetting mid-request) is logged, never thrown.
  server.on('clientError', (e, socket) => {
    logger.debug({ err: e }, 'client error')
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
  })
  const alertHub = new alerting.AlertHub(engine, metrics)
  const sockets = stream.attach(server, { engine, auth, access, limiter, metrics, slowBytes, alertHub, allowedOrigins, allowedHosts, limits, logger })

  /** Stops accepting, closes WebSockets, and resolves when every request has been answered. */
  server.shutdown = () =>
    new Promise((resolve) => {
      health.stopping = true
      limiter.close()
      sockets.close()
      alertHub.close()
      server.close(() => resolve())
      server.closeIdleConnections()
    })
  server.metrics = metrics
  server.health = health
  server.openapi = document
  return server
}

module.exports = { createServer }
