'use strict'
// WebSocket streaming: /ws/kpi/{code}?period=minute|hour|day pushes a KPI's updates. Sockets
// of the same KPI and period share one view in the engine.

const { WebSocketServer } = require('ws')
const { statusOf, requestUrl, originAllowed } = require('./http')

const PERIODS = new Set(['minute', 'hour', 'day'])
/** Unsent bytes past which a socket counts as slow and its pushes are held back and merged. */
const SLOW_BYTES = 1 << 20
/** The route WebSocket upgrades are counted under in the request metrics. */
const ROUTE = '/ws/kpi/{code}'

/** The period and dimension group an update is of. */
const cellOf = (u) => JSON.stringify([u.period, u.dimensions])

/** The time window a stream of `period` covers: recent minutes or hours around now (a year of
 *  minutes would be half a million periods); days cover all the data. */
function windowOf(period, now = new Date()) {
  const span = { minute: [2 * 3600e3, 2 * 3600e3], hour: [3 * 86400e3, 86400e3] }[period]
  if (!span) return {}
  const at = (ms) => new Date(now.getTime() + ms).toISOString().slice(0, 19)
  return { start: at(-span[0]), end: at(span[1]) }
}

/**
 * Serves WebSocket upgrades of `server`. An upgrade is checked like a request (path, period,
 * token, the caller's rate limit: refused with 404/400/401/429 before upgrading) and counted in
 * the request metrics with status 101 or the refusal's.
 */
function attach(server, { engine, authorize, limited, metrics, slowBytes = SLOW_BYTES, alertHub, allowedOrigins = [] }) {
  const wss = new WebSocketServer({ noServer: true })
  // The hubs of this server's engine, by KPI and period.
  const hubs = new Map()
  metrics.subscribers = () => [...hubs.values()].map((h) => ({ kpi: h.kpi, period: h.period, sockets: h.sockets.size }))
  server.on('upgrade', (req, socket, head) => {
    const started = process.hrtime.bigint()
    const observe = (status) => metrics.observe(ROUTE, status, Number(process.hrtime.bigint() - started) / 1e9)
    const url = requestUrl(req)
    if (!url) {
      observe(400)
      return socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
    }
    if (!originAllowed(req, allowedOrigins)) {
      observe(403)
      return socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
    }
    if (url.pathname === '/ws/alerts' && alertHub) {
      if (!authorize(req, url)) return socket.end('HTTP/1.1 401 Unauthorized\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
      if (limited(req)) return socket.end('HTTP/1.1 429 Too Many Requests\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
      return alertHub.accept(req, socket, head)
    }
    const match = /^\/ws\/kpi\/([A-Za-z0-9_]+)$/.exec(url.pathname)
    const period = url.searchParams.get('period') || 'minute'
    const refuse = (status, text) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
      observe(status)
    }
    if (!match) return refuse(404, 'Not Found')
    if (!PERIODS.has(period)) return refuse(400, 'Bad Request')
    if (!authorize(req, url)) return refuse(401, 'Unauthorized')
    if (limited(req)) return refuse(429, 'Too Many Requests')
    wss.handleUpgrade(req, socket, head, (ws) => {
      observe(101)
      serve(ws, { engine, hubs, metrics, slowBytes }, match[1], period)
    })
  })
  return wss
}

/**
 * One engine subscription per KPI and period, fanned out to every socket: each update batch is
 * serialized once and sent to all, and the hub keeps the latest value of every period and
 * group so a socket that joins later gets a snapshot at once. A slow socket (over `slowBytes`
 * unsent) is sent nothing meanwhile: the latest update of each period and group it
 * missed is kept, and sent in one message flagged `lagged` once it has room again, so it never
 * loses a value and holds at most one update per period and group.
 */
class Hub {
  constructor(engine, kpi, period, metrics, onEmpty, slowBytes = SLOW_BYTES) {
    this.kpi = kpi
    this.slowBytes = slowBytes
    this.period = period
    this.metrics = metrics
    this.sockets = new Set()
    this.latest = new Map()
    this.onEmpty = onEmpty
    this.ready = engine.open({ kpi, grain: period, ...windowOf(period) }).then((sub) => {
      this.sub = sub
      this.pump()
      return sub
    })
  }

  message(updates, lagged) {
    return JSON.stringify({ type: 'updates', kpi: this.kpi, period: this.period, updates, lagged, sent_at: new Date().toISOString() })
  }

  async join(ws) {
    this.sockets.add(ws)
    ws.on('close', () => this.leave(ws))
    await this.ready
    if (this.latest.size > 0 && ws.readyState === ws.OPEN) {
      const snapshot = [...this.latest.values()].map((u) => ({ ...u, kind: 'snapshot', previous_value: null }))
      ws.send(this.message(snapshot, false))
      this.metrics.pushed += snapshot.length
    }
  }

  leave(ws) {
    this.sockets.delete(ws)
    if (this.sockets.size === 0) {
      this.closed = true
      this.sub?.close()
      this.onEmpty()
    }
  }

  async pump() {
    while (!this.closed) {
      const batch = await this.sub.next(1000)
      if (batch === null) continue
      if (batch.error) {
        const text = JSON.stringify({ type: 'error', error: batch.error })
        for (const ws of this.sockets) if (ws.readyState === ws.OPEN) ws.send(text)
        continue
      }
      for (const u of batch.updates) this.latest.set(cellOf(u), u)
      const text = this.message(batch.updates, batch.lagged)
      for (const ws of this.sockets) {
        if (ws.readyState !== ws.OPEN) continue
        if (ws.bufferedAmount > this.slowBytes || ws.missed) {
          ws.missed ||= new Map()
          for (const u of batch.updates) ws.missed.set(cellOf(u), u)
          if (ws.bufferedAmount > this.slowBytes) continue
          const updates = [...ws.missed.values()]
          ws.missed = null
          ws.send(this.message(updates, true))
          this.metrics.pushed += updates.length
          continue
        }
        ws.send(text)
        this.metrics.pushed += batch.updates.length
      }
    }
  }
}

/** Joins `ws` to the hub of `kpi` and `period`. A subscription the engine refuses is answered
 *  with an `error` message and close code 4000 + its HTTP status (4400 for an unknown KPI, so
 *  clients know not to reconnect; 4500 for a server fault). */
async function serve(ws, { engine, hubs, metrics, slowBytes }, kpi, period) {
  metrics.sockets += 1
  ws.on('close', () => (metrics.sockets -= 1))
  const key = `${kpi}|${period}`
  let hub = hubs.get(key)
  if (!hub || hub.closed) {
    hub = new Hub(engine, kpi, period, metrics, () => hubs.get(key) === hub && hubs.delete(key), slowBytes)
    hubs.set(key, hub)
  }
  try {
    await hub.join(ws)
  } catch (e) {
    hubs.delete(key)
    if (ws.readyState === ws.OPEN) {
      ws.send(JSON.stringify({ type: 'error', error: { code: e.code || 'ERROR', kind: e.kind, message: e.message } }))
      ws.close(4000 + statusOf(e.code), e.code || 'ERROR')
    }
  }
}

module.exports = { attach, windowOf, Hub }
