'use strict'
// Counters for GET /metrics, in the Prometheus text format: requests by route and status, a
// latency histogram by route, WebSocket connections and subscribers per KPI and period, pushed
// updates, and the embedded engine's own counters (calculations, cache hits, ...).

/** Upper bounds (seconds) of the request latency histogram's buckets. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

class Metrics {
  /** `engine`: the embedded engine, whose own counters are exported next to the server's. */
  constructor(engine) {
    this.requests = new Map()
    this.latency = new Map()
    this.sockets = 0
    this.pushed = 0
    this.engine = engine
    /** Returns `[{ kpi, period, sockets }]`: set by the WebSocket side. */
    this.subscribers = () => []
  }

  observe(route, status, seconds) {
    const key = `route="${route}",status="${status}"`
    this.requests.set(key, (this.requests.get(key) || 0) + 1)
    let h = this.latency.get(route)
    if (!h) {
      h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 }
      this.latency.set(route, h)
    }
    const bucket = BUCKETS.findIndex((le) => seconds <= le)
    if (bucket >= 0) h.counts[bucket] += 1
    h.sum += seconds
    h.count += 1
  }

  text() {
    const histogram = [...this.latency].flatMap(([route, h]) => {
      let cumulative = 0
      return [
        ...BUCKETS.map((le, i) => `kpi_http_request_duration_seconds_bucket{route="${route}",le="${le}"} ${(cumulative += h.counts[i])}`),
        `kpi_http_request_duration_seconds_bucket{route="${route}",le="+Inf"} ${h.count}`,
        `kpi_http_request_duration_seconds_sum{route="${route}"} ${h.sum.toFixed(6)}`,
        `kpi_http_request_duration_seconds_count{route="${route}"} ${h.count}`,
      ]
    })
    const lines = [
      '# HELP kpi_http_requests_total HTTP requests by route and status.',
      '# TYPE kpi_http_requests_total counter',
      ...[...this.requests].map(([k, v]) => `kpi_http_requests_total{${k}} ${v}`),
      '# HELP kpi_http_request_duration_seconds Time to answer a request, by route.',
      '# TYPE kpi_http_request_duration_seconds histogram',
      ...histogram,
      '# HELP kpi_websocket_connections Open WebSocket connections.',
      '# TYPE kpi_websocket_connections gauge',
      `kpi_websocket_connections ${this.sockets}`,
      '# HELP kpi_websocket_subscribers WebSocket subscribers by KPI and period.',
      '# TYPE kpi_websocket_subscribers gauge',
      ...this.subscribers().map((s) => `kpi_websocket_subscribers{kpi="${s.kpi}",period="${s.period}"} ${s.sockets}`),
      '# HELP kpi_websocket_updates_total Updates pushed to WebSocket subscribers.',
      '# TYPE kpi_websocket_updates_total counter',
      `kpi_websocket_updates_total ${this.pushed}`,
      ...Object.entries(this.engine ? this.engine.metrics() : {}).flatMap(([name, n]) => [
        `# HELP kpi_engine_${name}_total The engine's ${name.replace(/_/g, ' ')} counter.`,
        `# TYPE kpi_engine_${name}_total counter`,
        `kpi_engine_${name}_total ${n}`,
      ]),
      ...this.storageLines(),
    ]
    return `${lines.join('\n')}\n`
  }

  /** Rows and bytes hot and cold per object model, against the policy's estimate. */
  storageLines() {
    if (!this.engine || typeof this.engine.storage !== 'function') return []
    const storage = this.engine.storage()
    const tiers = storage.models.flatMap((m) => [
      [m.object_model, 'hot', m.hot_rows, m.hot_bytes],
      [m.object_model, 'cold', m.cold_rows, m.cold_bytes],
    ])
    const expected = storage.models.filter((m) => m.expected_hot_bytes !== null)
    return [
      '# HELP kpi_storage_rows Rows per object model, active (hot, in memory) or archived (cold, Parquet).',
      '# TYPE kpi_storage_rows gauge',
      ...tiers.map(([m, tier, rows]) => `kpi_storage_rows{object_model="${label(m)}",tier="${tier}"} ${rows}`),
      '# HELP kpi_storage_bytes Bytes per object model, hot (Arrow in memory) or cold (zstd Parquet).',
      '# TYPE kpi_storage_bytes gauge',
      ...tiers.map(([m, tier, , bytes]) => `kpi_storage_bytes{object_model="${label(m)}",tier="${tier}"} ${bytes}`),
      '# HELP kpi_storage_expected_hot_bytes Hot bytes the retention policy\'s storage estimate expects at the current rate.',
      '# TYPE kpi_storage_expected_hot_bytes gauge',
      ...expected.map((m) => `kpi_storage_expected_hot_bytes{object_model="${label(m.object_model)}"} ${Math.round(m.expected_hot_bytes)}`),
      '# HELP kpi_storage_wal_bytes Bytes of the write-ahead log since the last checkpoint.',
      '# TYPE kpi_storage_wal_bytes gauge',
      `kpi_storage_wal_bytes ${storage.wal_bytes}`,
    ]
  }
}

/** Prometheus label value: backslashes, quotes and newlines escaped. */
const label = (text) => String(text).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')

module.exports = { Metrics }
