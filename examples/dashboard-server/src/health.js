'use strict'
// Health: `/health` says the process answers, `/health/ready` whether it should get traffic
// (data registered, not shutting down), `/health/detailed` the engine, each configured data
// source, live feeds and the last successful calculation, for operators.

/** A location fit for a health page: a URL's password is left out. */
function redact(location) {
  try {
    const url = new URL(location)
    if (url.password) url.password = '***'
    return url.toString()
  } catch {
    return location
  }
}

class Health {
  /** `engine`; `sources`: the configuration's sources (`{ model, kind, location }`). */
  constructor(engine, sources = []) {
    this.engine = engine
    this.started = Date.now()
    this.ready = true
    this.stopping = false
    this.sources = sources.map((s) => ({ model: s.model, kind: s.kind, location: redact(s.location), error: null, checked_at: null }))
    this.feeds = []
    this.lastCalculation = null
    this.lastSourceError = null
  }

  /** Records the outcome of a source's registration (`error`: its message, or null). */
  source(model, error) {
    const s = this.sources.find((x) => x.model === model)
    if (s) Object.assign(s, { error, checked_at: new Date().toISOString() })
  }

  /** Records a calculation answered with `status`, and a data source's error (KPI_SOURCE). */
  calculated(route, status, errorCode, message) {
    const at = new Date().toISOString()
    if (status < 400) this.lastCalculation = { at, route }
    if (errorCode === 'KPI_SOURCE') this.lastSourceError = { at, message }
  }

  routes() {
    const registered = () => new Map(this.engine.registered().map((t) => [t.objectModel, t]))
    return [
      { method: 'GET', path: '/health', right: 'public', summary: 'Liveness: the process answers', response: { type: 'object', properties: { status: { const: 'ok' } } }, handler: () => ({ status: 'ok' }) },
      {
        method: 'GET', path: '/health/ready', right: 'public', summary: 'Readiness: data registered and not shutting down (503 otherwise)',
        response: { type: 'object', properties: { status: { enum: ['ready', 'starting', 'stopping'] } } },
        handler: () => {
          const status = this.stopping ? 'stopping' : this.ready && this.engine.registered().length > 0 ? 'ready' : 'starting'
          return status === 'ready' ? { status } : [503, { status }]
        },
      },
      {
        method: 'GET', path: '/health/detailed', right: 'staff', summary: 'The engine, each data source, live feeds and the last successful calculation',
        response: { type: 'object', properties: { status: { type: 'string' }, uptime_s: { type: 'number' }, engine: { type: 'object' }, sources: { type: 'array' }, feeds: { type: 'array' }, last_calculation: { type: ['object', 'null'] }, last_source_error: { type: ['object', 'null'] } } },
        handler: async () => {
          const tables = registered()
          const sources = this.sources.map((s) => {
            const t = tables.get(s.model)
            return { ...s, registered: Boolean(t), ok: Boolean(t) && !s.error }
          })
          const feeds = await Promise.all(this.feeds.map(async (f) => ({ model: f.model, status: await f.feed.status().catch((e) => ({ error: e.message })) })))
          const degraded = sources.some((s) => !s.ok) || feeds.some((f) => f.status?.error || f.status?.last_error)
          return {
            status: this.stopping ? 'stopping' : degraded ? 'degraded' : 'ok',
            uptime_s: Math.round((Date.now() - this.started) / 1000),
            engine: { tables: [...tables.values()], streams: this.engine.streams().length, metrics: this.engine.metrics(), cached_results: this.engine.cachedResults() },
            sources,
            feeds,
            last_calculation: this.lastCalculation,
            last_source_error: this.lastSourceError,
          }
        },
      },
    ]
  }
}

module.exports = { Health }
