#!/usr/bin/env node
'use strict'
// Starts the dashboard server on the standard catalog with a year of demo data and live appends
// (`make demo`), prints its URL and a first look at the dashboard's KPIs, and runs until Ctrl-C.
// Environment: PORT (default 8080), HOST (default 127.0.0.1), KPI_TOKEN (bearer token, off by
// default), KPI_DATA_DIR (client configurations; default ./data), KPI_ALLOWED_ORIGINS (other
// sites whose pages may open the WebSockets, comma-separated), KPI_DEMO_ROWS (orders,
// default 50,000), KPI_DEMO_SECONDS (stop after this many seconds; default: run until stopped).

const path = require('node:path')
const { Catalog, Engine, demo } = require('kpi-engine')
const { createServer } = require('./app')
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

/** An integer of at least `min` from the environment variable `name`, or `fallback` when unset. */
function envInteger(name, fallback, min = 1) {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const n = Number(text)
  if (!Number.isInteger(n) || n < min) {
    console.error(`${name} must be an integer of at least ${min}, not \`${text}\``)
    process.exit(2)
  }
  return n
}

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

async function main() {
  const started = Date.now()
  const catalog = Catalog.standard()
  const engine = new Engine(catalog, { timezone: 'UTC' })
  const now = new Date()
  const yearAgo = new Date(now.getTime() - 365 * 86400e3)
  const rows = envInteger('KPI_DEMO_ROWS', 50000)
  const data = demo.generate(catalog, { rows, seed: 42, start: demoTime(yearAgo), end: demoTime(now) })
  for (const [name, ipc] of Object.entries(data)) engine.register(name, ipc)

  const server = createServer({
    catalog,
    engine,
    clientsFile: path.join(process.env.KPI_DATA_DIR || path.join(process.cwd(), 'data'), 'clients.json'),
    token: process.env.KPI_TOKEN || undefined,
    rateLimit: envInteger('KPI_RATE_LIMIT', 200),
    // Origins of pages elsewhere that may open the WebSockets (the server's own always may).
    allowedOrigins: (process.env.KPI_ALLOWED_ORIGINS || '').split(',').map((o) => o.trim()).filter(Boolean),
  })
  // PORT=0 takes any free port; the URL printed says which. Without PORT, a busy 8080 falls
  // back to a free port too; a PORT asked for is that port or an error.
  const port = envInteger('PORT', 8080, 0)
  const host = process.env.HOST || '127.0.0.1'
  await new Promise((resolve) => {
    server.once('listening', resolve)
    server.on('error', (e) => {
      if (e.code === 'EADDRINUSE' && !process.env.PORT) {
        console.log(`port ${port} is in use; taking a free one`)
        return server.listen(0, host)
      }
      const hint = e.code === 'EADDRINUSE' ? ` (port ${port} is in use: set PORT to another one)` : ''
      console.error(`the server cannot listen on ${host}:${port}: ${e.message}${hint}`)
      process.exit(1)
    })
    server.listen(port, host)
  })
  for (const rule of DEMO_ALERTS) await engine.addAlertRule(rule)
  const stopLive = startLive(catalog, engine)
  console.log(`KPI dashboard server on http://${host}:${server.address().port}/ (OpenAPI: /openapi.json)`)
  console.log(`standard catalog, ${rows.toLocaleString('en')} demo orders over the last year, new orders every second; ready in ${Date.now() - started} ms\n`)
  console.log(await summary(engine, now))

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
  const seconds = envInteger('KPI_DEMO_SECONDS', 0)
  if (seconds > 0) setTimeout(stop, seconds * 1000)
  else console.log('\nopen the URL above in a browser; Ctrl-C stops the server')
}

main().catch((e) => {
  console.error(e.message)
  process.exit(1)
})
