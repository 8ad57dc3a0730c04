'use strict'
// Alerts, notifiers and reports on the Engine: options objects in camelCase become the core's
// rule, notifier, mail and report documents (checked in Rust, so Node refuses what Python and
// the server refuse); alert events arrive through an async iterator or a callback.

const { call, callAsync } = require('./errors')
const { doc } = require('./documents')

const RULE_DURATIONS = ['for', 'after', 'refresh']
const NOTIFIER_DURATIONS = ['backoff', 'timeout']

/** Alert events as they happen: `for await (const event of engine.alertEvents())`. */
class AlertEvents {
  constructor(native) {
    this._native = native
  }
  /** The next event, or `null` after `timeoutMs` or once closed. */
  async next(timeoutMs) {
    return callAsync(() => this._native.next(timeoutMs ?? null))
  }
  /** Stops the stream. */
  close() {
    this._native.close()
  }
  async *[Symbol.asyncIterator]() {
    try {
      for (;;) {
        const event = await this.next()
        if (event === null) return
        yield event
      }
    } finally {
      this.close()
    }
  }
}

/** Methods the Engine class gets (see index.d.ts for their documentation). */
const methods = {
  async addAlertRule(rule) {
    return callAsync(() => this._inner.addAlertRule(doc(rule, RULE_DURATIONS)))
  },
  removeAlertRule(name) {
    return this._inner.removeAlertRule(name)
  },
  alertRules() {
    return call(() => this._inner.alertRules())
  },
  alerts() {
    return call(() => this._inner.alerts())
  },
  alertHistory(limit = 100) {
    return call(() => this._inner.alertHistory(limit))
  },
  async evaluateAlerts() {
    return callAsync(() => this._inner.evaluateAlerts())
  },
  alertEvents() {
    return new AlertEvents(this._inner.alertEvents())
  },
  /** Calls `callback(event)` for every alert event; returns a function that stops it. */
  onAlert(callback) {
    const events = this.alertEvents()
    let open = true
    ;(async () => {
      while (open) {
        const event = await events.next().catch(() => null)
        if (event === null) return
        try {
          callback(event)
        } catch (e) {
          process.emitWarning(`onAlert callback threw: ${e && e.message}`)
        }
      }
    })()
    return () => {
      open = false
      events.close()
    }
  },
  setMail(settings) {
    call(() => this._inner.setMail(doc(settings, ['timeout'])))
  },
  async addNotifier(notifier) {
    return callAsync(() => this._inner.addNotifier(doc(notifier, NOTIFIER_DURATIONS)))
  },
  removeNotifier(name) {
    return this._inner.removeNotifier(name)
  },
  notifiers() {
    return call(() => this._inner.notifiers())
  },
  deadLetters() {
    return call(() => this._inner.deadLetters())
  },
  async addReport(report) {
    return callAsync(() => this._inner.addReport(doc(report)))
  },
  async updateReport(id, report) {
    return callAsync(() => this._inner.updateReport(id, doc(report)))
  },
  removeReport(id) {
    return this._inner.removeReport(id)
  },
  reports() {
    return call(() => this._inner.reports())
  },
  report(id) {
    return this._inner.report(id)
  },
  reportRuns(id) {
    return call(() => this._inner.reportRuns(id))
  },
  async runReport(id) {
    return callAsync(() => this._inner.runReport(id))
  },
  async renderReport(report) {
    return callAsync(() => this._inner.renderReport(doc(report)))
  },
}

/** Adds the alerting and reporting methods to `Engine`. */
function withAlerting(Engine) {
  Object.assign(Engine.prototype, methods)
  return Engine
}

module.exports = { AlertEvents, withAlerting }
