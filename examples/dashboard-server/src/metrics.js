'use strict'
// GET /metrics through prom-client: requests by route template and status, a latency histogram
// by route, WebSocket connections, subscribers per KPI and period, pushed updates, the process
// and event-loop metrics prom-client collects, and the embedded engine's own counters and
// storage gauges, read when Prometheus scrapes.

const client = require('prom-client')

/** Upper bounds (seconds) of the request latency histogram's buckets. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** Engine metrics that are amounts held now, not counts since start. */
const HELD = new Set(['cached_bytes', 'maintained_bytes'])

class Metrics {
  /** `engine`: the embedded engine, whose own counters are exported next to the server's. */
  constructor(engine) {
    const registry = new client.Registry()
    this.registry = registry
    this.engine = engine
    client.collectDefaultMetrics({ register: registry })
    this.requests = new client.Counter({ name: 'kpi_http_requests_total', help: 'HTTP requests by route and status.', labelNames: ['route', 'status'], registers: [registry] })
    this.latency = new client.Histogram({ name: 'kpi_http_request_duration_seconds', help: 'Time to answer a request, by route.', labelNames: ['route'], buckets: BUCKETS, registers: [registry] })
    /** Open WebSocket connections (`inc()` / `dec()`). */
    this.sockets = new client.Gauge({ name: 'kpi_websocket_connections', help: 'Open WebSocket connections.', registers: [registry] })
    /** Updates pushed to subscribers (`inc(n)`). */
    this.pushed = new client.Counter({ name: 'kpi_websocket_updates_total', help: 'Updates pushed to WebSocket subscribers.', registers: [registry] })
    /** Returns `[{ kpi, period, sockets }]`: set by the WebSocket side. */
    this.subscribers = () => []
    const self = this
    new client.Gauge({
      name: 'kpi_websocket_subscribers', help: 'WebSocket subscribers by KPI and period.', labelNames: ['kpi', 'period'], registers: [registry],
      collect() {
        this.reset()
        for (const s of self.subscribers()) this.inc({ kpi: s.kpi, period: s.period }, s.sockets)
      },
    })
    if (engine) this.engineMetrics(registry)
  }

  /** Counts a request answered with `status` after `seconds`, under its route template. */
  observe(route, status, seconds) {
    this.requests.inc({ route, status })
    this.latency.observe({ route }, seconds)
  }

  /** The Prometheus text exposition. */
  text() {
    return this.registry.metrics()
  }

  /** The engine's counters (`kpi_engine_<name>_total`), the bytes it holds now as gauges
   *  (`kpi_engine_cached_bytes`, `kpi_engine_maintained_bytes`) and storage gauges, read per scrape. */
  engineMetrics(registry) {
    const engine = this.engine
    for (const name of Object.keys(engine.metrics())) {
      if (HELD.has(name)) {
        new client.Gauge({
          name: `kpi_engine_${name}`, help: `The engine's ${name.replace(/_/g, ' ')} now.`, registers: [registry],
          collect() { this.set(engine.metrics()[name] ?? 0) },
        })
        continue
      }
      new client.Counter({
        name: `kpi_engine_${name}_total`, help: `The engine's ${name.replace(/_/g, ' ')} counter.`, registers: [registry],
        collect() {
          this.reset()
          this.inc(engine.metrics()[name] ?? 0)
        },
      })
    }
    const storage = () => engine.storage()
    const gauge = (name, help, labelNames, fill) => new client.Gauge({ name, help, labelNames, registers: [registry], collect() { this.reset(); fill(this, storage()) } })
    gauge('kpi_storage_rows', 'Rows per object model, active (hot, in memory) or archived (cold, Parquet).', ['object_model', 'tier'], (g, st) => {
      for (const m of st.models) {
        g.set({ object_model: m.object_model, tier: 'hot' }, m.hot_rows)
        g.set({ object_model: m.object_model, tier: 'cold' }, m.cold_rows)
      }
    })
    gauge('kpi_storage_bytes', 'Bytes per object model, hot (Arrow in memory) or cold (zstd Parquet).', ['object_model', 'tier'], (g, st) => {
      for (const m of st.models) {
        g.set({ object_model: m.object_model, tier: 'hot' }, m.hot_bytes)
        g.set({ object_model: m.object_model, tier: 'cold' }, m.cold_bytes)
      }
    })
    gauge('kpi_storage_expected_hot_bytes', 'Hot bytes the retention policy\'s storage estimate expects at the current rate.', ['object_model'], (g, st) => {
      for (const m of st.models) if (m.expected_hot_bytes !== null) g.set({ object_model: m.object_model }, Math.round(m.expected_hot_bytes))
    })
    gauge('kpi_storage_wal_bytes', 'Bytes of the write-ahead log since the last checkpoint.', [], (g, st) => g.set(st.wal_bytes))
  }
}

module.exports = { Metrics }
