#!/usr/bin/env node
'use strict'
// A bounded load and soak run on loopback against the server in its own process (src/main.js
// with a configuration file: demo data, live appends at SPEED times the history's pace):
//  1. SOCKETS WebSocket subscribers over one connection each (`/ws`), spread over 100 queries
//     (the standard catalog's KPIs, then some of them by region), timing each pushed update
//     from the moment the engine computed it (`computed_at`) to its arrival;
//  2. RATE mixed requests/s for SECONDS seconds (calculations, dashboards, history, catalog);
//  3. CHURN seconds of sockets connecting, subscribing and leaving, with the server's RSS and
//     the engine's open views at the start and the end;
//  4. the page in headless Chromium: navigation timing and WebSocket connect time from the
//     browser's Performance API (skipped when CHROMIUM is missing).
// `node load/load.js` (env: SOCKETS=1000, RATE=200, SECONDS=10, CHURN=600, ROWS=20000, SPEED=2000).

const { fork } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const WebSocket = require('ws')
const { Catalog } = require('kpi-engine')

const SOCKETS = Number(process.env.SOCKETS || 1000)
const RATE = Number(process.env.RATE || 200)
const SECONDS = Number(process.env.SECONDS || 10)
const CHURN = Number(process.env.CHURN || 600)
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'

const quantile = (xs, q) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * (xs.length - 1)))]
const report = (name, xs) =>
  console.log(xs.length === 0 ? `${name}: no samples` : `${name}: n=${xs.length} p50 ${quantile(xs, 0.5).toFixed(1)} ms, p99 ${quantile(xs, 0.99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

/** 100 queries: every standard KPI, then the first ones again by region. */
function hundredQueries() {
  const kpis = Catalog.standard().kpis()
  const queries = kpis.map((k) => ({ kpi: k.code }))
  for (const k of kpis.filter((k) => (k.dimensions || []).includes('orders.region'))) {
    if (queries.length >= 100) break
    queries.push({ kpi: k.code, by: ['orders.region'] })
  }
  for (let i = 0; queries.length < 100; i++) queries.push({ kpi: kpis[i].code, grain: 'month' })
  return queries.slice(0, 100)
}

/** A socket on `/ws` subscribed to `query`; `onUpdate(ms)` gets each push's latency. */
function subscriber(base, query, onUpdate) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://${base}/ws`)
    let snapshot = false
    ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', id: 's', query, period: 'day' })))
    ws.on('message', (m) => {
      const now = Date.now()
      const msg = JSON.parse(m)
      if (msg.type === 'error') return resolve({ ws, error: msg.error })
      if (msg.type !== 'updates') return
      if (!snapshot) {
        snapshot = true
        return resolve({ ws })
      }
      for (const u of msg.updates) onUpdate(now - Date.parse(u.computed_at))
    })
    ws.on('error', (e) => resolve({ ws, error: e }))
  })
}

async function serverState(base) {
  const detailed = await (await fetch(`http://${base}/health/detailed`)).json()
  const metrics = await (await fetch(`http://${base}/metrics`)).text()
  const rss = Number(/^process_resident_memory_bytes (\d+)/m.exec(metrics)?.[1] ?? 0)
  return { rss, streams: detailed.engine.streams, metrics }
}

async function pushes(base, queries) {
  const latencies = []
  const t0 = Date.now()
  const subs = []
  for (let i = 0; i < SOCKETS; i += 50) {
    subs.push(...(await Promise.all(Array.from({ length: Math.min(50, SOCKETS - i) }, (_, j) => subscriber(base, queries[(i + j) % queries.length], (ms) => latencies.push(ms))))))
  }
  const failed = subs.filter((s) => s.error)
  console.log(`websocket: ${subs.length - failed.length}/${SOCKETS} subscribers over ${queries.length} queries have their snapshot after ${Date.now() - t0} ms${failed.length ? ` (${failed.length} refused: ${JSON.stringify(failed[0].error).slice(0, 200)})` : ''}`)
  await sleep(SECONDS * 1000)
  report(`websocket push latency (${SOCKETS} subscribers, live appends)`, latencies)
  for (const s of subs) s.ws.close()
}

async function mixed(base) {
  const requests = [
    ['POST', '/calculate', { kpi: 'revenue', grain: 'day' }],
    ['POST', '/calculate', { kpi: 'perfect_order_rate', grain: 'week', by: ['orders.region'] }],
    ['POST', '/calculate/dashboard', { kpis: ['revenue', 'average_order_value', 'new_customers'], grain: 'month' }],
    ['GET', '/kpis/on_time_delivery_rate/history?grain=month&by=orders.region'],
    ['GET', '/kpis'],
    ['GET', '/kpis/revenue'],
    ['POST', '/calculate', { kpi: 'average_order_value', grain: 'month', by: ['orders.channel'] }],
    ['GET', '/health/ready'],
  ]
  const times = []
  const byRequest = requests.map(() => [])
  let failures = 0
  const pending = []
  const started = Date.now()
  for (let i = 0; i < RATE * SECONDS; i++) {
    const due = started + (i * 1000) / RATE
    const wait = due - Date.now()
    if (wait > 0) await sleep(wait)
    const [method, url, body] = requests[i % requests.length]
    const sent = performance.now()
    pending.push(
      fetch(`http://${base}${url}`, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) })
        .then(async (res) => {
          await res.arrayBuffer()
          if (!res.ok) failures += 1
          times.push(performance.now() - sent)
          byRequest[i % requests.length].push(performance.now() - sent)
        })
        .catch(() => (failures += 1)),
    )
  }
  await Promise.all(pending)
  const elapsed = (Date.now() - started) / 1000
  report(`mixed requests at ${RATE}/s for ${SECONDS} s (achieved ${(times.length / elapsed).toFixed(0)}/s, ${failures} failures)`, times)
  requests.forEach(([method, url, body], i) => report(`  ${method} ${url}${body ? ` ${JSON.stringify(body)}` : ''}`, byRequest[i]))
}

async function churn(base, queries) {
  await sleep(2000)
  const before = await serverState(base)
  const until = Date.now() + CHURN * 1000
  let cycles = 0
  let sampled = Date.now()
  const samples = []
  while (Date.now() < until) {
    if (Date.now() - sampled >= 60000) {
      sampled = Date.now()
      const { rss, metrics } = await serverState(base)
      const heap = Number(/^nodejs_heap_size_used_bytes (\d+)/m.exec(metrics)?.[1] ?? 0)
      samples.push(`${(rss / 1048576).toFixed(0)}/${(heap / 1048576).toFixed(0)}`)
    }
    const subs = await Promise.all(Array.from({ length: 20 }, (_, i) => subscriber(base, queries[(cycles * 20 + i) % queries.length], () => {})))
    for (const s of subs) s.ws.close()
    cycles += 1
    await sleep(200)
  }
  await sleep(3000)
  const after = await serverState(base)
  const mb = (b) => (b / 1048576).toFixed(0)
  // The first minute builds every query's view once (the allocator keeps what it took); a
  // leak shows as growth after it.
  const warm = samples.length ? Number(samples[0].split('/')[0]) * 1048576 : before.rss
  console.log(`churn: RSS/heap MB each minute: ${samples.join(' ')}`)
  console.log(`churn: ${cycles * 20} connections over ${CHURN} s; server RSS ${mb(before.rss)} MB before, ${mb(warm)} MB after the first minute, ${mb(after.rss)} MB at the end (${(((after.rss - warm) / warm) * 100).toFixed(1)} % since the first minute); engine views open before ${before.streams}, after ${after.streams} (the demo's alert rules hold 2)`)
}

async function browser(base) {
  if (!fs.existsSync(CHROMIUM)) return console.log(`browser: skipped (no ${CHROMIUM})`)
  const { chromium } = require('playwright-core')
  const b = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] })
  try {
    const page = await b.newPage()
    await page.goto(`http://${base}/`, { waitUntil: 'load' })
    await page.waitForSelector('#connection.online', { timeout: 30000 })
    const t = await page.evaluate(() => ({ nav: performance.getEntriesByType('navigation')[0].toJSON(), ws: performance.getEntriesByName('kpi:ws-connect')[0]?.duration }))
    console.log(`browser: page load ${t.nav.loadEventEnd.toFixed(0)} ms (DOMContentLoaded ${t.nav.domContentLoadedEventEnd.toFixed(0)} ms), WebSocket connect ${t.ws?.toFixed(1) ?? '?'} ms`)
  } finally {
    await b.close()
  }
}

async function main() {
  const port = await freePort()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpi-load-'))
  const config = path.join(dir, 'server.json')
  fs.writeFileSync(config, JSON.stringify({
    port, data_dir: dir, log_level: 'warn',
    demo: { rows: Number(process.env.ROWS || 20000), speed: Number(process.env.SPEED || 2000) },
    limits: { rate_limit: 1000000, sockets_per_client: 100000 },
  }))
  const server = fork(path.join(__dirname, '..', 'src', 'main.js'), ['--config', config], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
  await new Promise((resolve) => server.stdout.on('data', (d) => String(d).includes('KPI dashboard server on') && resolve()))
  const base = `127.0.0.1:${port}`
  const queries = hundredQueries()
  try {
    await pushes(base, queries)
    await mixed(base)
    if (CHURN > 0) await churn(base, queries)
    await browser(base)
    const { metrics } = await serverState(base)
    const counter = (name) => Number(new RegExp(`^kpi_engine_${name}_total (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0)
    console.log(`engine: ${counter('calculations')} calculations, ${counter('cache_hits')} cache hits, ${counter('cache_patches')} patched, ${counter('shared')} shared`)
    const gauge = (name) => Number(new RegExp(`^${name} ([\\d.e+-]+)$`, 'm').exec(metrics)?.[1] ?? NaN) * 1000
    console.log(`server event loop: lag p99 ${gauge('nodejs_eventloop_lag_p99_seconds').toFixed(1)} ms, max ${gauge('nodejs_eventloop_lag_max_seconds').toFixed(1)} ms`)
  } finally {
    server.kill('SIGTERM')
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
