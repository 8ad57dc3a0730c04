#!/usr/bin/env node
'use strict'
// Starts the dashboard server from its configuration (`--config FILE` or KPI_CONFIG, with
// environment variables over it; see config.js and docs/dashboard-server.md): the catalog, the
// data sources, users and limits. `--demo` (what `make demo` runs) adds a year of demo data with
// live appends at the history's pace, prints a first look at the dashboard's KPIs, and runs
// until Ctrl-C (or KPI_DEMO_SECONDS).

const path = require('node:path')
const { Catalog, Engine, demo } = require('kpi-engine')
const { createServer } = require('./app')
const { loadConfig, ConfigError } = require('./config')
const { createLogger } = require('./logging')
const { startLive, demoTime } = require('./live')

/** The KPIs the terminal summary shows (the web page's live dashboard shows the same). */
const SUMMARY_KPIS = ['revenue', 'average_order_value', 'perfect_order_rate', 'on_time_delivery_rate', 'new_customers']

/** The alert rules the demo starts with: the dashboard's rated KPIs per region and day against
 *  their own thresholds, and the live orders going quiet. */
const DEMO_ALERTS = [
  { name: 'perfect orders by region', kpi: 'perfect_order_rate', grain: 'day', by: ['orders.region'] },
  { name: 'on-time delivery by region', kpi: 'on_time_delivery_rate', grain: 'day', by: ['orders.region'] },
  { name: 'orders stopped arriving', when: 'source_stale', source: 'orders', after: '2min' },
]

/** `value` in `unit` for the terminal. */
function format(value, unit) {
  if (value === null || value === undefined) return '—'
  if (unit === 'ratio') return `${(value * 100).toFixed(1)} %`
  const n = value.toLocaleString('en', { maximumFractionDigits: 2 })
  return unit === 'currency' ? `$${n}` : n
}

/** The last complete month of each summary KPI against the month before, as terminal lines. */
async function summary(engine, now) {
  const monthStart = (y, m) => new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10)
  const [y, m] = [now.getUTCFullYear(), now.getUTCMonth()]
  const range = { grain: 'month', start: monthStart(y, m - 2), end: monthStart(y, m) }
  const dashboard = await engine.dashboard(SUMMARY_KPIS.map((kpi) => ({ kpi, ...range })))
  const title = `KPI (${new Date(Date.UTC(y, m - 1, 1)).toLocaleString('en', { month: 'long', year: 'numeric', timeZone: 'UTC' })})`
  const lines = [`${title.padEnd(28)} ${'value'.padStart(12)}  ${'vs previous'.padStart(11)}  status`]
  for (const item of dashboard.items) {
    if (!item.ok) {
      lines.push(`${item.query.padEnd(28)} ${item.error.code}: ${item.error.message.split('\n')[0]}`)
      continue
    }
    const s = item.result.summaries[0]?.summary
    const change = s?.trend?.change_pct
    const trend = change === undefined || change === null ? '' : `${change >= 0 ? '+' : ''}${change.toFixed(1)} %`
    lines.push(`${item.result.name.padEnd(28)} ${format(s?.value, item.result.unit).padStart(12)}  ${trend.padStart(11)}  ${s ? s.status.replace('_', ' ') : ''}`)
  }
  return lines.join('\n')
}

/** The catalog the configuration names: the standard one, or a YAML/JSON file. */
function catalogOf(config) {
  return config.catalog === 'standard' ? Catalog.standard() : Catalog.load(config.catalog)
}

/** Registers the configured data: each source, a PostgreSQL schema's tables, the demo. A
 *  source that fails is logged and reported by /health/detailed; the server still starts. */
async function registerData(config, catalog, engine, health, log) {
  for (const source of config.sources) {
    try {
      if (source.kind === 'parquet') await engine.registerParquet(source.model, source.location)
      else if (source.kind === 'csv') await engine.registerCsv(source.model, source.location)
      else if (source.follow) health.feeds.push({ model: source.model, feed: await engine.followPostgres(source.model, source.location, { table: source.table }) })
      else await engine.registerPostgres(source.model, source.location, source.table ? { table: source.table } : undefined)
      health.source(source.model, null)
    } catch (e) {
      health.source(source.model, `${e.code || 'ERROR'}: ${e.message}`)
      log.error({ model: source.model, kind: source.kind, err: e }, 'data source failed to register')
    }
  }
  if (config.postgres) {
    const models = await engine.registerPostgresModels(config.postgres.dsn, { schema: config.postgres.schema })
    log.info({ models }, 'registered PostgreSQL tables')
  }
  if (config.demo) {
    const now = new Date()
    const yearAgo = new Date(now.getTime() - 365 * 86400e3)
    const data = demo.generate(catalog, { rows: config.demo.rows, seed: config.demo.seed, start: demoTime(yearAgo), end: demoTime(now) })
    for (const [name, ipc] of Object.entries(data)) engine.register(name, ipc)
  }
}

async function main() {
  const started = Date.now()
  let config
  try {
    config = loadConfig({ argv: process.argv.slice(2) })
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e
    console.error(`configuration: ${e.message}`)
    process.exit(2)
  }
  const log = createLogger({ level: config.logLevel })
  process.on('unhandledRejection', (e) => log.error({ err: e }, 'unhandled rejection'))
  process.on('uncaughtException', (e) => log.fatal({ err: e }, 'uncaught exception'))
  const catalog = catalogOf(config)
  const engine = new Engine(catalog, { max_result_rows: config.limits.max_result_rows, ...config.engine })
  if (config.retention) engine.setRetentionPolicy(config.retention)

  const server = createServer({
    catalog,
    engine,
    clientsFile: path.join(config.dataDir, 'clients.json'),
    auth: config.auth,
    limits: config.limits,
    allowedOrigins: config.allowedOrigins,
    allowedHosts: config.allowedHosts,
    dashboards: config.dashboards,
    sources: config.sources,
    logger: log,
  })
  server.health.ready = false
  await registerData(config, catalog, engine, server.health, log)
  server.health.ready = true
  // PORT=0 takes any free port; the URL printed says which. Without a port, a busy 8080 falls
  // back to a free port too; a port asked for is that port or an error.
  const port = config.port ?? 8080
  const host = config.host
  await new Promise((resolve) => {
    server.once('listening', resolve)
    server.on('error', (e) => {
      if (e.code === 'EADDRINUSE' && config.port === undefined) {
        console.log(`port ${port} is in use; taking a free one`)
        return server.listen(0, host)
      }
      const hint = e.code === 'EADDRINUSE' ? ` (port ${port} is in use: set PORT to another one)` : ''
      console.error(`the server cannot listen on ${host}:${port}: ${e.message}${hint}`)
      process.exit(1)
    })
    server.listen(port, host)
  })
  const shown = host.includes(':') ? `[${host}]` : host
  console.log(`KPI dashboard server on http://${shown}:${server.address().port}/ (OpenAPI: /openapi.json)`)
  let stopLive = () => {}
  if (config.demo) {
    for (const rule of DEMO_ALERTS) await engine.addAlertRule(rule)
    if (config.demo.live) stopLive = startLive(catalog, engine, { rows: config.demo.rows, speed: config.demo.speed, log })
    console.log(`${config.catalog === 'standard' ? 'standard catalog' : config.catalog}, ${config.demo.rows.toLocaleString('en')} demo orders over the last year${config.demo.live ? ', new orders at the same pace' : ''}; ready in ${Date.now() - started} ms\n`)
    console.log(await summary(engine, new Date()))
  } else {
    console.log(`${engine.registered().length} tables registered from ${config.file ?? 'the environment'}; ready in ${Date.now() - started} ms`)
  }

  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    stopLive()
    await server.shutdown()
    console.log('\nstopped')
    process.exit(0)
  }
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, stop)
  const seconds = Number(process.env.KPI_DEMO_SECONDS || 0)
  if (seconds > 0) setTimeout(stop, seconds * 1000)
  else console.log('\nopen the URL above in a browser; Ctrl-C stops the server')
}

main().catch((e) => {
  console.error(e.message)
  process.exit(1)
})
