#!/usr/bin/env node
'use strict'
// A bounded load run on loopback against the server in its own process (src/main.js, with live
// appends every second): SOCKETS WebSocket subscribers of one KPI, timing each pushed update
// from the moment the engine computed it (`computed_at`) to its arrival; then RATE requests/s on
// POST /calculate for SECONDS seconds, timing each. Prints p50/p99/max of both, and how the
// engine answered the requests (cache hits, patched cached results, full calculations).
// `node load/load.js` (env: SOCKETS=1000, RATE=200, SECONDS=10, ROWS=20000 demo orders).

const { fork } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const WebSocket = require('ws')

const SOCKETS = Number(process.env.SOCKETS || 1000)
const RATE = Number(process.env.RATE || 200)
const SECONDS = Number(process.env.SECONDS || 10)

const quantile = (xs, q) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * (xs.length - 1)))]
const report = (name, xs) =>
  console.log(`${name}: n=${xs.length} p50 ${quantile(xs, 0.5).toFixed(1)} ms, p99 ${quantile(xs, 0.99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`)

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

async function main() {
  const port = await freePort()
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpi-load-'))
  const server = fork(path.join(__dirname, '..', 'src', 'main.js'), [], {
    env: { ...process.env, PORT: String(port), KPI_DATA_DIR: dataDir, KPI_DEMO_ROWS: process.env.ROWS || '20000', KPI_RATE_LIMIT: '1000000' },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  })
  await new Promise((resolve) => server.stdout.on('data', (d) => String(d).includes('KPI dashboard server on') && resolve()))
  const base = `127.0.0.1:${port}`
  try {
    // 1. WebSocket subscribers.
    const latencies = []
    let snapshots = 0
    const sockets = []
    for (let i = 0; i < SOCKETS; i++) {
      const ws = new WebSocket(`ws://${base}/ws/kpi/revenue?period=minute`)
      let first = true
      ws.on('message', (m) => {
        const now = Date.now()
        const msg = JSON.parse(m)
        if (msg.type !== 'updates') return
        // The first message is the snapshot (possibly with changes merged in); later ones are pushes.
        if (first) {
          first = false
          snapshots += 1
          return
        }
        for (const u of msg.updates) latencies.push(now - Date.parse(u.computed_at))
      })
      ws.on('error', () => {})
      sockets.push(ws)
    }
    const t0 = Date.now()
    while (snapshots < SOCKETS && Date.now() - t0 < 60000) await new Promise((r) => setTimeout(r, 50))
    console.log(`websocket: ${snapshots}/${SOCKETS} subscribers have their snapshot after ${Date.now() - t0} ms`)
    await new Promise((r) => setTimeout(r, SECONDS * 1000))
    report(`websocket push latency (${SOCKETS} subscribers, live appends each second)`, latencies)
    for (const ws of sockets) ws.close()

    // 2. POST /calculate at a fixed rate.
    const queries = [
      { kpi: 'revenue', grain: 'day' },
      { kpi: 'perfect_order_rate', grain: 'week', by: ['orders.region'] },
      { kpi: 'average_order_value', grain: 'month', by: ['orders.channel'] },
      { kpi: 'on_time_delivery_rate', grain: 'day' },
    ]
    const times = []
    let failures = 0
    const pending = []
    const started = Date.now()
    for (let i = 0; i < RATE * SECONDS; i++) {
      const due = started + (i * 1000) / RATE
      const wait = due - Date.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      const sent = performance.now()
      pending.push(
        fetch(`http://${base}/calculate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(queries[i % queries.length]) })
          .then(async (res) => {
            await res.arrayBuffer()
            if (!res.ok) failures += 1
            times.push(performance.now() - sent)
          })
          .catch(() => (failures += 1)),
      )
    }
    await Promise.all(pending)
    const elapsed = (Date.now() - started) / 1000
    report(`POST /calculate at ${RATE}/s for ${SECONDS} s (achieved ${(times.length / elapsed).toFixed(0)}/s, ${failures} failures)`, times)
    // How the engine answered them: from the cache, by patching a cached result, or in full.
    const metrics = await (await fetch(`http://${base}/metrics`)).text()
    const counter = (name) => Number(new RegExp(`^kpi_engine_${name}_total (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0)
    console.log(`engine: ${counter('calculations')} calculations, ${counter('cache_hits')} cache hits, ${counter('cache_patches')} patched, ${counter('shared')} shared, ${counter('cache_misses') - counter('cache_patches')} other misses`)
  } finally {
    server.kill('SIGTERM')
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
