'use strict'
// WebSocket streaming: /ws/kpi/{code}?period=minute|hour|day pushes a KPI's updates. Sockets
// of the same KPI and period share one view in the engine.

const { WebSocketServer } = require('ws')

const PERIODS = new Set(['minute', 'hour', 'day'])

/** The time window a stream of `period` covers: recent minutes or hours around now (a year of
 *  minutes would be half a million periods); days cover all the data. */
function windowOf(period, now = new Date()) {
  const span = { minute: [2 * 3600e3, 2 * 3600e3], hour: [3 * 86400e3, 86400e3] }[period]
  if (!span) return {}
  const at = (ms) => new Date(now.getTime() + ms).toISOString().slice(0, 19)
  return { start: at(-span[0]), end: at(span[1]) }
}

function attach(server, { engine, authorize, metrics }) {
  const wss = new WebSocketServer({ noServer: true })
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url, 'http://localhost')
    const match = /^\/ws\/kpi\/([A-Za-z0-9_]+)$/.exec(url.pathname)
    const period = url.searchParams.get('period') || 'minute'
    const refuse = (status, text) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
    }
    if (!match) return refuse(404, 'Not Found')
    if (!PERIODS.has(period)) return refuse(400, 'Bad Request')
    if (!authorize(req, url)) return refuse(401, 'Unauthorized')
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, engine, match[1], period, metrics))
  })
  return wss
}

async function serve(ws, engine, kpi, period, metrics) {
  metrics.sockets += 1
  let sub = null
  ws.on('close', () => {
    metrics.sockets -= 1
    if (sub) sub.close()
  })
  try {
    sub = await engine.open({ kpi, grain: period, ...windowOf(period) })
    if (ws.readyState !== ws.OPEN) return sub.close()
    for (;;) {
      const batch = await sub.next(1000)
      if (ws.readyState !== ws.OPEN) break
      if (batch === null) continue
      metrics.pushed += batch.updates.length
      ws.send(JSON.stringify({ type: 'updates', kpi, period, ...batch, sent_at: new Date().toISOString() }))
    }
  } catch (e) {
    if (ws.readyState === ws.OPEN) {
      ws.send(JSON.stringify({ type: 'error', error: { code: e.code || 'ERROR', message: e.message } }))
      ws.close(1011)
    }
  }
}

module.exports = { attach, windowOf }
