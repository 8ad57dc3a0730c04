'use strict'
// Alerts and reports over HTTP and WebSocket: GET /alerts, the alert rules, the reports and
// their runs (a run of a report with no recipients answers with the document itself), and
// /ws/alerts, which sends the active alerts at once and then every event as it happens.

const { WebSocketServer } = require('ws')
const { HttpError, need } = require('./http')

/** A report id from a path, or 404. */
function reportOf(engine, id) {
  const report = engine.report(Number(id))
  if (!report) throw new HttpError(404, 'NOT_FOUND', `no report ${id}`)
  return report
}

/** The routes, in app.js's `[method, pattern, handler]` form. */
function routes(engine) {
  const object = (body) => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'BAD_REQUEST', 'the body must be a JSON object')
    return body
  }
  return [
    ['GET', /^\/alerts$/, async () => engine.alerts()],
    ['GET', /^\/alerts\/history$/, async (m, body, params) => {
      const limit = params.has('limit') ? Number(params.get('limit')) : 100
      if (!Number.isInteger(limit) || limit < 1 || limit > 10000) throw new HttpError(400, 'BAD_REQUEST', '`limit` must be a whole number from 1 to 10000')
      return engine.alertHistory(limit)
    }],
    ['GET', /^\/alerts\/rules$/, async () => engine.alertRules()],
    ['POST', /^\/alerts\/rules$/, async (m, body) => {
      need(body, 'name', 'string')
      return [201, await engine.addAlertRule(object(body))]
    }],
    ['DELETE', /^\/alerts\/rules\/([^/]+)$/, async (m) => {
      let name
      try {
        name = decodeURIComponent(m[1])
      } catch {
        throw new HttpError(400, 'BAD_REQUEST', 'the rule name in the path is not valid percent-encoding')
      }
      if (!engine.removeAlertRule(name)) throw new HttpError(404, 'NOT_FOUND', `no alert rule \`${name}\``)
      return { removed: name }
    }],
    ['GET', /^\/reports$/, async () => engine.reports()],
    ['POST', /^\/reports$/, async (m, body) => [201, await engine.addReport(object(body))]],
    ['GET', /^\/reports\/(\d{1,9})$/, async (m) => reportOf(engine, m[1])],
    ['PUT', /^\/reports\/(\d{1,9})$/, async (m, body) => {
      reportOf(engine, m[1])
      return engine.updateReport(Number(m[1]), object(body))
    }],
    ['DELETE', /^\/reports\/(\d{1,9})$/, async (m) => {
      if (!engine.removeReport(Number(m[1]))) throw new HttpError(404, 'NOT_FOUND', `no report ${m[1]}`)
      return { removed: Number(m[1]) }
    }],
    ['GET', /^\/reports\/(\d{1,9})\/runs$/, async (m) => {
      reportOf(engine, m[1])
      return engine.reportRuns(Number(m[1]))
    }],
    ['POST', /^\/reports\/(\d{1,9})\/run$/, async (m) => {
      const report = reportOf(engine, m[1])
      const rendered = await engine.runReport(Number(m[1]))
      if ((report.recipients ?? []).length > 0) return rendered.run
      return { document: rendered.data, contentType: rendered.contentType, filename: rendered.filename }
    }],
  ]
}

/**
 * Alert sockets: each gets `{ type: 'alerts', active }` at once, then `{ type: 'alert', event,
 * active }` per event. One engine listener serves every socket, and stops with the last.
 */
class AlertHub {
  constructor(engine, metrics) {
    this.engine = engine
    this.metrics = metrics
    this.sockets = new Set()
    this.wss = new WebSocketServer({ noServer: true })
  }

  accept(req, socket, head) {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.sockets.add(ws)
      this.metrics.sockets += 1
      ws.on('close', () => {
        this.metrics.sockets -= 1
        this.sockets.delete(ws)
        if (this.sockets.size === 0 && this.stop) {
          this.stop()
          this.stop = null
        }
      })
      ws.send(JSON.stringify({ type: 'alerts', active: this.engine.alerts() }))
      if (!this.stop) {
        this.stop = this.engine.onAlert((event) => {
          const text = JSON.stringify({ type: 'alert', event, active: this.engine.alerts() })
          for (const s of this.sockets) if (s.readyState === s.OPEN) s.send(text)
          this.metrics.pushed += 1
        })
      }
    })
  }

  close() {
    for (const ws of this.sockets) ws.close(1001, 'server shutting down')
    this.stop?.()
  }
}

module.exports = { routes, AlertHub }
