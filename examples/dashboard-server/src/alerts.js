'use strict'
// Alerts and reports over HTTP and WebSocket: GET /alerts, the alert rules, the reports and
// their runs (a run of a report with no recipients answers with the document itself), and
// /ws/alerts, which sends the active alerts at once and then every event as it happens.

const { HttpError } = require('./http')
const schemas = require('./schemas')

/** A report id from a path, or 404. */
function reportOf(engine, id) {
  const report = /^\d{1,9}$/.test(id) ? engine.report(Number(id)) : null
  if (!report) throw new HttpError(404, 'NOT_FOUND', `no report ${id}`)
  return report
}

/** The routes, in routes.js's form: reading alerts and reports is for staff (admins and
 *  analysts: they show every group), changing them for admins. */
function routes(engine) {
  const ok = (description) => ({ type: 'array', description })
  return [
    { method: 'GET', path: '/alerts', right: 'staff', summary: 'Active alerts, critical first: rule, kpi or source, level, group, period, value, threshold, since, message', response: ok('alerts'), handler: () => engine.alerts() },
    {
      method: 'GET', path: '/alerts/history', right: 'staff', summary: 'The last alert events (?limit=, 100 by default): fired and resolved', response: ok('events'),
      handler: ({ query }) => {
        const limit = query.has('limit') ? Number(query.get('limit')) : 100
        if (!Number.isInteger(limit) || limit < 1 || limit > 10000) throw new HttpError(400, 'BAD_REQUEST', '`limit` must be a whole number from 1 to 10000')
        return engine.alertHistory(limit)
      },
    },
    { method: 'GET', path: '/alerts/rules', right: 'staff', summary: 'Alert rules with their state', response: ok('rules'), handler: () => engine.alertRules() },
    {
      method: 'POST', path: '/alerts/rules', right: 'admin', status: 201, body: schemas.alertRule, response: schemas.object,
      summary: 'Add an alert rule: name, kpi (with by, grain, where) or source, when (thresholds, above, below, change, no_data, source_stale, source_errors, late_rows), warning, critical, for, hysteresis',
      handler: async ({ body }) => [201, await engine.addAlertRule(body)],
    },
    {
      method: 'DELETE', path: '/alerts/rules/{name}', right: 'admin', summary: 'Remove an alert rule', response: schemas.object,
      handler: ({ params }) => {
        if (!engine.removeAlertRule(params.name)) throw new HttpError(404, 'NOT_FOUND', `no alert rule \`${params.name}\``)
        return { removed: params.name }
      },
    },
    { method: 'GET', path: '/reports', right: 'staff', summary: 'Reports with their next and last runs', response: ok('reports'), handler: () => engine.reports() },
    { method: 'POST', path: '/reports', right: 'admin', status: 201, summary: 'Add a report; with a schedule it runs in its time zone', body: schemas.report, response: schemas.object, handler: async ({ body }) => [201, await engine.addReport(body)] },
    { method: 'GET', path: '/reports/{id}', right: 'staff', summary: 'One report', response: schemas.object, handler: ({ params }) => reportOf(engine, params.id) },
    {
      method: 'PUT', path: '/reports/{id}', right: 'admin', summary: 'Replace a report', body: schemas.report, response: schemas.object,
      handler: ({ params, body }) => {
        reportOf(engine, params.id)
        return engine.updateReport(Number(params.id), body)
      },
    },
    {
      method: 'DELETE', path: '/reports/{id}', right: 'admin', summary: 'Remove a report', response: schemas.object,
      handler: ({ params }) => {
        if (!engine.removeReport(Number(params.id))) throw new HttpError(404, 'NOT_FOUND', `no report ${params.id}`)
        return { removed: Number(params.id) }
      },
    },
    {
      method: 'GET', path: '/reports/{id}/runs', right: 'staff', summary: 'A report\'s runs with their outcome', response: ok('runs'),
      handler: ({ params }) => {
        reportOf(engine, params.id)
        return engine.reportRuns(Number(params.id))
      },
    },
    {
      method: 'POST', path: '/reports/{id}/run', right: 'admin', response: { description: 'the document (CSV, JSON or PDF) or the run' },
      summary: 'Run a report now: without recipients the answer is the document itself; with them, the run (delivered_to, ok, error)',
      handler: async ({ params }) => {
        const report = reportOf(engine, params.id)
        const rendered = await engine.runReport(Number(params.id))
        if ((report.recipients ?? []).length > 0) return rendered.run
        return { document: rendered.data, contentType: rendered.contentType, filename: rendered.filename }
      },
    },
  ]
}

/**
 * Alert subscribers: each gets `{ type: 'alerts', active }` at once, then `{ type: 'alert',
 * event, active }` per event. A member is a socket of `/ws/alerts` (`id` null) or an `alerts`
 * subscription on `/ws` (its `id` in every message). One engine listener serves every member,
 * and stops with the last.
 */
class AlertHub {
  constructor(engine, metrics) {
    this.engine = engine
    this.metrics = metrics
    this.members = new Set()
  }

  static message(member, body) {
    return member.id === null ? body : `{"id":${JSON.stringify(member.id)},${body.slice(1)}`
  }

  /** Sends `member` (`{ ws, id }`) the active alerts, then every event until it leaves. */
  join(member) {
    this.members.add(member)
    member.ws.send(AlertHub.message(member, JSON.stringify({ type: 'alerts', active: this.engine.alerts() })))
    if (!this.stop) {
      this.stop = this.engine.onAlert((event) => {
        const text = JSON.stringify({ type: 'alert', event, active: this.engine.alerts() })
        for (const m of this.members) if (m.ws.readyState === m.ws.OPEN) m.ws.send(AlertHub.message(m, text))
        this.metrics.pushed.inc()
      })
    }
  }

  leave(member) {
    this.members.delete(member)
    if (this.members.size === 0 && this.stop) {
      this.stop()
      this.stop = null
    }
  }

  close() {
    this.stop?.()
    this.stop = null
  }
}

module.exports = { routes, AlertHub }
