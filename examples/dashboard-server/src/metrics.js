'use strict'
// Counters for GET /metrics, in the Prometheus text format.

class Metrics {
  /** `engine`: the embedded engine, whose own counters are exported next to the server's. */
  constructor(engine) {
    this.requests = new Map()
    this.seconds = new Map()
    this.sockets = 0
    this.pushed = 0
    this.engine = engine
  }

  observe(route, status, seconds) {
    const key = `route="${route}",status="${status}"`
    this.requests.set(key, (this.requests.get(key) || 0) + 1)
    this.seconds.set(route, (this.seconds.get(route) || 0) + seconds)
  }

  text() {
    const lines = [
      '# HELP kpi_http_requests_total HTTP requests by route and status.',
      '# TYPE kpi_http_requests_total counter',
      ...[...this.requests].map(([k, v]) => `kpi_http_requests_total{${k}} ${v}`),
      '# HELP kpi_http_request_seconds_total Time spent answering, by route.',
      '# TYPE kpi_http_request_seconds_total counter',
      ...[...this.seconds].map(([r, v]) => `kpi_http_request_seconds_total{route="${r}"} ${v.toFixed(6)}`),
      '# HELP kpi_websocket_connections Open WebSocket connections.',
      '# TYPE kpi_websocket_connections gauge',
      `kpi_websocket_connections ${this.sockets}`,
      '# HELP kpi_websocket_updates_total Updates pushed to WebSocket subscribers.',
      '# TYPE kpi_websocket_updates_total counter',
      `kpi_websocket_updates_total ${this.pushed}`,
      ...Object.entries(this.engine ? this.engine.metrics() : {}).flatMap(([name, n]) => [
        `# HELP kpi_engine_${name}_total The engine's ${name.replace(/_/g, ' ')} counter.`,
        `# TYPE kpi_engine_${name}_total counter`,
        `kpi_engine_${name}_total ${n}`,
      ]),
    ]
    return `${lines.join('\n')}\n`
  }
}

module.exports = { Metrics }
