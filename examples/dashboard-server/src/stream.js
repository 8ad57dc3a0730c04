'use strict'
// WebSocket streaming. `/ws/kpi/{code}?period=` pushes one KPI's updates; `/ws` carries any
// number of queries over one connection (`subscribe` / `unsubscribe` messages, see protocol.js).
// Subscribers of the same query as the same caller sees it (row filters included) share one
// engine view, a `Hub`. An upgrade passes the request checks first (URL, Host, Origin, rate
// limit, the per-address socket cap, credentials), then sockets are pinged and one that misses a
// pong is closed.

const { WebSocketServer } = require('ws')
const { HttpError, statusOf, requestUrl } = require('./http')
const { hostAllowed, originAllowed } = require('./guard')
const { Hub, hubKey } = require('./hub')
const { serveProtocol } = require('./protocol')

/** The route WebSocket upgrades are counted under in the request metrics, by path. */
const ROUTES = { kpi: '/ws/kpi/{code}', any: '/ws', alerts: '/ws/alerts' }
const PERIODS = new Set(['minute', 'hour', 'day'])
const REASONS = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 421: 'Misdirected Request', 429: 'Too Many Requests', 500: 'Internal Server Error' }

/** Serves WebSocket upgrades of `server`; returns `{ close }`. */
function attach(server, { engine, auth, access, limiter, metrics, slowBytes, alertHub, allowedOrigins = [], allowedHosts = [], limits, logger }) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.ws_max_payload })
  const hubs = new Map()
  const perAddress = new Map()
  metrics.subscribers = () => [...hubs.values()].map((h) => ({ kpi: h.label, period: h.period, sockets: h.members.size }))

  /** The hub of `query` (already scoped to its caller) at `period`, shared by equal keys. */
  const hubOf = (query, period) => {
    const key = hubKey(query, period)
    let hub = hubs.get(key)
    if (!hub || hub.closed) {
      hub = new Hub(engine, query, period, metrics, () => hubs.get(key) === hub && hubs.delete(key), slowBytes)
      hubs.set(key, hub)
    }
    return hub
  }

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (ws.alive === false) {
        ws.terminate()
        continue
      }
      ws.alive = false
      ws.ping()
    }
  }, limits.heartbeat_ms)
  heartbeat.unref()

  server.on('upgrade', async (req, socket, head) => {
    const started = process.hrtime.bigint()
    let route = 'unknown'
    const observe = (status) => metrics.observe(route, status, Number(process.hrtime.bigint() - started) / 1e9)
    const refuse = (status) => {
      observe(status)
      socket.end(`HTTP/1.1 ${status} ${REASONS[status] || 'Error'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
    }
    socket.on('error', (e) => logger.debug({ err: e }, 'upgrade socket error'))
    try {
      const url = requestUrl(req)
      if (!url) return refuse(400)
      const kpi = /^\/ws\/kpi\/([A-Za-z0-9_]+)$/.exec(url.pathname)
      route = kpi ? ROUTES.kpi : url.pathname === '/ws' ? ROUTES.any : url.pathname === '/ws/alerts' ? ROUTES.alerts : 'unknown'
      if (!hostAllowed(req, allowedHosts)) return refuse(421)
      if (!originAllowed(req, allowedOrigins)) return refuse(403)
      if (limiter.limited(req.socket.remoteAddress)) return refuse(429)
      if (route === 'unknown') return refuse(404)
      const period = url.searchParams.get('period') || 'minute'
      if (kpi && !PERIODS.has(period)) return refuse(400)
      const address = req.socket.remoteAddress || 'unknown'
      if ((perAddress.get(address) || 0) >= limits.sockets_per_client) return refuse(429)
      const principal = await auth.principal(req, url)
      principal.need(route === ROUTES.alerts ? 'staff' : 'read')
      if (kpi) access.needKpi(principal, kpi[1])
      wss.handleUpgrade(req, socket, head, (ws) => {
        observe(101)
        perAddress.set(address, (perAddress.get(address) || 0) + 1)
        metrics.sockets.inc()
        ws.alive = true
        ws.on('pong', () => (ws.alive = true))
        ws.on('error', (e) => logger.debug({ err: e }, 'websocket error'))
        ws.on('close', () => {
          metrics.sockets.dec()
          const left = (perAddress.get(address) || 1) - 1
          if (left > 0) perAddress.set(address, left)
          else perAddress.delete(address)
        })
        if (route === ROUTES.alerts) {
          const member = { ws, id: null }
          ws.on('close', () => alertHub.leave(member))
          alertHub.join(member)
        } else if (kpi) serveKpi(ws, hubOf(access.scope(principal, { kpi: kpi[1] }), period))
        else serveProtocol(ws, { principal, access, hubOf, alertHub, logger })
      })
    } catch (e) {
      if (!(e instanceof HttpError)) logger.error({ err: e }, 'upgrade failed')
      refuse(e.status || 500)
    }
  })

  return {
    close() {
      clearInterval(heartbeat)
      for (const ws of wss.clients) ws.close(1001, 'server shutting down')
      for (const hub of hubs.values()) hub.close()
    },
  }
}

/** Joins `ws` to `hub` (the per-KPI URL). A subscription the engine refuses is answered with
 *  an `error` message and close code 4000 + its HTTP status (4400 for an unknown KPI, so
 *  clients know not to reconnect; 4500 for a server fault). */
async function serveKpi(ws, hub) {
  const member = { ws, id: null }
  ws.on('close', () => hub.leave(member))
  try {
    await hub.join(member)
  } catch (e) {
    if (ws.readyState === ws.OPEN) {
      ws.send(JSON.stringify({ type: 'error', error: { code: e.code || 'ERROR', kind: e.kind, message: e.message } }))
      ws.close(4000 + (e.status || statusOf(e.code)), e.code || 'ERROR')
    }
  }
}

module.exports = { attach }
