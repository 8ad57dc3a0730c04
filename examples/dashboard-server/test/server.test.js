'use strict'
// The server over HTTP and WebSocket on loopback: catalog, calculation and configuration
// endpoints, validation and limits, persistence across restarts, streaming and shutdown.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const WebSocket = require('ws')
const { Catalog, Engine, demo } = require('kpi-engine')
const { createServer } = require('../src/app')
const { Hub } = require('../src/hub')
const { Metrics } = require('../src/metrics')

const catalog = Catalog.standard()
const data = demo.generate(catalog, { rows: 2000, seed: 42, start: '2024-01-01', end: '2025-01-01' })

async function start(options = {}) {
  const engine = new Engine(catalog)
  for (const [name, ipc] of Object.entries(data)) engine.register(name, ipc)
  const dir = options.dir || fs.mkdtempSync(path.join(os.tmpdir(), 'kpi-server-'))
  const server = createServer({ catalog, engine, clientsFile: path.join(dir, 'clients.json'), ...options })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const base = `http://127.0.0.1:${server.address().port}`
  const call = async (method, url, body, headers = {}) => {
    const res = await fetch(base + url, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) })
    const text = await res.text()
    let json
    try { json = JSON.parse(text) } catch { json = text }
    return { status: res.status, body: json }
  }
  return { server, engine, base, call, dir }
}

test('catalog endpoints', async () => {
  const { server, call } = await start()
  try {
    assert.equal((await call('GET', '/health')).body.status, 'ok')
    const kpis = await call('GET', '/kpis')
    assert.ok(kpis.body.length > 50)
    assert.equal((await call('GET', '/kpis/perfect_order_rate')).body.code, 'perfect_order_rate')
    const module = (await call('GET', '/modules')).body[0].code
    assert.ok((await call('GET', `/kpis/module/${module}`)).body.length > 0)
    assert.ok((await call('GET', '/value-chains')).body.length > 0)
    const orders = await call('GET', '/object-models/orders')
    assert.match(orders.body.diagram, /orders/)
    assert.equal((await call('GET', '/kpis/nope')).status, 404)
    assert.equal((await call('GET', '/object-models/nope')).status, 404)
    assert.equal((await call('GET', '/openapi.json')).body.openapi, '3.1.0')
    assert.equal((await call('GET', '/nowhere')).status, 404)
    assert.equal((await call('DELETE', '/kpis')).status, 405)
  } finally {
    await server.shutdown()
  }
})

test('calculation endpoints and their validation', async () => {
  const { server, call } = await start()
  try {
    const one = await call('POST', '/calculate', { kpi: 'revenue', grain: 'month', by: ['orders.region'], start: '2024-01-01', end: '2025-01-01' })
    assert.equal(one.status, 200)
    assert.equal(one.body.rows.length, 12 * 4)
    const batch = await call('POST', '/calculate/batch', { queries: [{ kpi: 'revenue', grain: 'month' }, { kpi: 'nope' }] })
    assert.equal(batch.body.items[0].ok, true)
    assert.equal(batch.body.items[1].error.code, 'KPI_FORMULA')
    const board = await call('POST', '/calculate/dashboard', { kpis: ['revenue', 'perfect_order_rate'], grain: 'quarter' })
    assert.equal(board.body.items.length, 2)
    assert.equal((await call('POST', '/calculate', {})).status, 400)
    assert.equal((await call('POST', '/calculate', { kpi: 7 })).status, 400)
    assert.equal((await call('POST', '/calculate', '{bad json')).body.error.code, 'BAD_JSON')
    const bad = await call('POST', '/calculate', { kpi: 'revenue', where: 'orders.chanel = 1' })
    assert.equal(bad.status, 400)
    assert.equal(bad.body.error.code, 'KPI_FORMULA')
    assert.equal((await call('POST', '/calculate', { kpi: 'revenue', grain: 'fortnight' })).status, 400)
    // The body is the engine's query document: its fields pass through, unknown ones are refused.
    const typo = await call('POST', '/calculate', { kpi: 'revenue', grian: 'month' })
    assert.equal(typo.status, 400)
    assert.deepEqual([typo.body.error.code, typo.body.error.kind], ['KPI_QUERY', 'query'])
    assert.match(typo.body.error.message, /unknown field `grian`/)
    const all = await call('POST', '/calculate', { formula: 'count(orders)' })
    const north = await call('POST', '/calculate', { formula: 'count(orders)', security: { orders: "orders.region = 'europe'" } })
    assert.ok(north.body.rows[0].value > 0 && north.body.rows[0].value < all.body.rows[0].value, JSON.stringify([north.body, all.body]))
  } finally {
    await server.shutdown()
  }
})

test('history, trend, forecast and compare endpoints', async () => {
  const { server, call } = await start()
  try {
    const history = await call('GET', '/kpis/revenue/history?grain=month&by=orders.region')
    assert.equal(history.status, 200)
    assert.equal(history.body.rows.length, 12 * 4)
    const trend = await call('GET', '/kpis/order_count/trend?grain=month&window=6')
    assert.equal(trend.status, 200)
    assert.equal(trend.body.groups[0].observed, 6)
    const forecast = await call('GET', '/kpis/revenue/forecast?grain=month&horizon=3&by=orders.region&level=0.8')
    assert.equal(forecast.status, 200)
    assert.equal(forecast.body.groups.length, 4)
    assert.equal(forecast.body.level, 0.8)
    assert.equal(forecast.body.groups[0].forecast[0].period, '2025-01-01T00:00:00Z')
    const cmp = await call('POST', '/compare', { kpi: 'revenue', by: ['orders.region'], current: ['2024-07-01', '2024-10-01'], previous: 'previous_period' })
    assert.equal(cmp.status, 200)
    assert.equal(cmp.body.previous.start, '2024-04-01T00:00:00Z')
    assert.equal(cmp.body.rows.length, 4)
    // Bad input: a series too short, options out of range, a wrong type, an unknown baseline.
    const short = await call('GET', '/kpis/revenue/forecast?grain=quarter')
    assert.deepEqual([short.status, short.body.error.code], [422, 'KPI_FORECAST'])
    assert.equal((await call('GET', '/kpis/revenue/forecast?grain=month&horizon=100000000')).status, 400)
    assert.equal((await call('GET', '/kpis/revenue/forecast?grain=month&horizon=abc')).status, 400)
    assert.equal((await call('GET', '/kpis/revenue/forecast?grain=month&method=prophet')).status, 400)
    assert.equal((await call('GET', '/kpis/revenue/forecast')).status, 400)
    assert.equal((await call('GET', '/kpis/revenue/trend?grain=month&window=1')).status, 400)
    assert.equal((await call('POST', '/compare', { kpi: 'revenue' })).status, 400)
    assert.equal((await call('POST', '/compare', { kpi: 'revenue', current: ['2024-07-01', '2024-10-01'], previous: 'last_week' })).status, 400)
    assert.equal((await call('POST', '/compare', { kpi: 'revenue', current: ['2024-07-01', '2024-10-01'], previous: 7 })).status, 400)
    assert.equal((await call('GET', '/kpis/nope/history?grain=month')).status, 400)
  } finally {
    await server.shutdown()
  }
})

test('definitions are created, validated, changed, removed and triggered in the running server', async () => {
  const { server, call } = await start()
  try {
    const ok = await call('POST', '/definitions/validate', { formula: 'revenue / order_count' })
    assert.deepEqual([ok.status, ok.body.valid], [200, true])
    const bad = await call('POST', '/definitions/validate', { formula: 'sum(orders.ordr_value)' })
    assert.equal(bad.body.valid, false)
    assert.match(JSON.stringify(bad.body.problems), /order_value/)
    const created = await call('POST', '/definitions', { code: 'web_orders', name: 'Web orders', formula: "count(orders where orders.channel = 'web')" })
    assert.deepEqual([created.status, created.body.action], [201, 'created'])
    assert.equal((await call('GET', '/kpis/web_orders')).body.name, 'Web orders')
    assert.equal((await call('POST', '/definitions', { code: 'web_orders', name: 'x', formula: 'count(orders)' })).status, 409)
    const before = (await call('POST', '/calculate', { kpi: 'web_orders' })).body.rows[0].value
    const changed = await call('PUT', '/definitions/web_orders', { name: 'Web orders', formula: "count(orders where orders.channel = 'web') * 3" })
    assert.equal(changed.status, 200)
    assert.equal((await call('POST', '/calculate', { kpi: 'web_orders' })).body.rows[0].value, before * 3)
    const refused = await call('PUT', '/definitions/revenue', { ...(await call('GET', '/definitions/revenue')).body, formula: 'revenue_growth * 2' })
    assert.deepEqual([refused.status, refused.body.error.code], [422, 'KPI_DEFINITION'])
    assert.equal((await call('PUT', '/definitions/nope', { name: 'n', formula: 'count(orders)' })).status, 404)
    assert.equal((await call('DELETE', '/definitions/revenue')).status, 422)
    assert.equal((await call('POST', '/kpis/revenue/trigger')).body.refreshed_views, 0)
    assert.equal((await call('POST', '/kpis/nope/trigger')).status, 404)
    const removed = await call('DELETE', '/definitions/web_orders')
    assert.deepEqual([removed.status, removed.body.action], [200, 'removed'])
    assert.equal((await call('GET', '/kpis/web_orders')).status, 404)
  } finally {
    await server.shutdown()
  }
})

test('clients persist across restarts; analysis, proposals and demo data', async () => {
  const first = await start()
  const created = await first.call('POST', '/clients', { name: 'Acme', kpis: ['perfect_order_rate'] })
  assert.equal(created.status, 201)
  assert.equal((await first.call('POST', '/clients', { name: 'X', kpis: ['nope'] })).status, 400)
  assert.equal((await first.call('POST', '/clients', { kpis: [] })).status, 400)
  const updated = await first.call('PUT', `/clients/${created.body.id}`, { name: 'Acme Retail' })
  assert.equal(updated.body.name, 'Acme Retail')
  await first.server.shutdown()

  const second = await start({ dir: first.dir })
  try {
    const again = await second.call('GET', `/clients/${created.body.id}`)
    assert.deepEqual([again.body.name, again.body.kpis], ['Acme Retail', ['perfect_order_rate']])
    assert.equal((await second.call('GET', '/clients')).body.length, 1)
    assert.equal((await second.call('GET', '/clients/nope')).status, 404)
    const needed = await second.call('POST', '/analysis/required-objects', { kpis: ['perfect_order_rate'] })
    assert.match(JSON.stringify(needed.body), /orders/)
    assert.ok((await second.call('GET', '/proposals/questionnaire')).body.steps.length > 0)
    const answers = {
      license_term: 1,
      default_integration: { method: 'batch_conformed' },
      environment: { platform: 'none' },
      infrastructure: { daily_gb: 1, concurrent_users: 10, refresh: 'hour' },
      managed_services: { retainer: false },
    }
    const proposal = await second.call('POST', '/proposals', { kpis: ['revenue'], answers })
    assert.equal(proposal.status, 200)
    assert.match(proposal.body.markdown, /^#/)
    assert.equal((await second.call('POST', '/proposals', { kpis: ['revenue'], answers: { license_term: 4 } })).status, 400)
    assert.equal((await second.call('POST', '/demo/generate', { rows: 0 })).status, 400)
    const generated = await second.call('POST', '/demo/generate', { rows: 100, seed: 3 })
    assert.ok(generated.body.registered.includes('orders'))
  } finally {
    await second.server.shutdown()
  }
})

/** Waits out the per-address rate limit's second. */
const nextSecond = () => new Promise((r) => setTimeout(r, 1100))

test('API key, body size limit, rate limit and metrics', async () => {
  const { server, call } = await start({ auth: { api_keys: [{ name: 'ops', key: 'secret-key-0123456789', role: 'admin' }] }, limits: { rate_limit: 5, body_bytes: 1024 } })
  try {
    assert.equal((await call('GET', '/kpis')).status, 401)
    assert.equal((await call('GET', '/health')).status, 200)
    const auth = { authorization: 'Bearer secret-key-0123456789' }
    assert.equal((await call('POST', '/calculate', { kpi: 'x'.repeat(2000) }, auth)).status, 413)
    const statuses = []
    for (let i = 0; i < 10; i++) statuses.push((await call('GET', '/modules', undefined, auth)).status)
    assert.ok(statuses.includes(429), statuses.join(','))
    await nextSecond()
    const metrics = await call('GET', '/metrics', undefined, auth)
    assert.match(metrics.body, /kpi_http_requests_total\{route=".*",status="429"\} \d+/)
    assert.match(metrics.body, /^kpi_engine_rows_ingested_total [1-9]\d*$/m)
    assert.match(metrics.body, /^# TYPE kpi_engine_cached_bytes gauge$/m)
    assert.match(metrics.body, /^kpi_engine_maintained_bytes \d+$/m)
    assert.match(metrics.body, /^kpi_storage_rows\{object_model="orders",tier="hot"\} [1-9]\d*$/m)
    assert.match(metrics.body, /^kpi_storage_bytes\{object_model="orders",tier="cold"\} 0$/m)
    assert.match(metrics.body, /^kpi_http_request_duration_seconds_bucket\{le="\+Inf",route="\/modules"\} \d+$/m)
    // prom-client's process and event-loop metrics.
    assert.match(metrics.body, /^process_resident_memory_bytes \d+/m)
    assert.match(metrics.body, /^nodejs_eventloop_lag_p99_seconds /m)
    // Route labels are templates Prometheus' parser takes, not regular expressions.
    assert.doesNotMatch(metrics.body, /route="[^"]*[\^$\\()[\]+]/)
    // Errors carry a correlation id, the caller's when it sent a usable one.
    const traced = await call('GET', '/nowhere', undefined, { ...auth, 'x-request-id': 'trace-42' })
    assert.equal(traced.body.error.request_id, 'trace-42')
  } finally {
    await server.shutdown()
  }
})

test('a request line that is not a URL is a 400, cross-site requests are refused, and the server lives on', async () => {
  const { server, call } = await start()
  const net = require('node:net')
  const raw = (text) =>
    new Promise((resolve, reject) => {
      const socket = net.connect(server.address().port, '127.0.0.1', () => socket.end(text))
      let answer = ''
      socket.on('data', (chunk) => (answer += chunk))
      socket.on('end', () => resolve(answer))
      socket.on('error', reject)
    })
  try {
    const plain = await raw('GET //a:99999/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    assert.match(plain, /^HTTP\/1\.1 400 /)
    assert.match(plain, /"code":"BAD_REQUEST"/)
    const upgrade = await raw('GET //a:99999/ HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n')
    assert.match(upgrade, /^HTTP\/1\.1 400 /)
    // A WebSocket opened by a page on another site is refused; the server's own page may.
    const port = server.address().port
    const handshake = (origin) => raw(`GET /ws/kpi/revenue HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: ${origin}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`)
    assert.match(await handshake('http://evil.example'), /^HTTP\/1\.1 403 /)
    assert.match(await handshake(`http://127.0.0.1:${port}`), /^HTTP\/1\.1 101 /)
    // A body that does not say it is JSON (a cross-site form or text/plain POST) is refused.
    const text = await call('POST', '/demo/generate', '{"rows": 10}', { 'content-type': 'text/plain' })
    assert.equal(text.status, 415)
    assert.equal(text.body.error.code, 'UNSUPPORTED_MEDIA_TYPE')
    assert.equal((await call('GET', '/health')).body.status, 'ok')
  } finally {
    server.close()
  }
})

test('a WebSocket subscriber gets a snapshot, then live updates', async () => {
  const { server, engine, base } = await start()
  try {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws/kpi/revenue?period=day`)
    const messages = []
    let wake = () => {}
    ws.on('message', (m) => {
      messages.push(JSON.parse(m))
      wake()
    })
    const waitFor = (pred) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out: ${JSON.stringify(messages).slice(0, 300)}`)), 10000)
      wake = () => {
        if (pred()) {
          clearTimeout(timer)
          resolve()
        }
      }
      wake()
    })
    await waitFor(() => messages.length > 0)
    assert.equal(messages[0].type, 'updates')
    assert.ok(messages[0].updates.every((u) => u.kind === 'snapshot'))
    const more = demo.generate(catalog, { rows: 50, seed: 9, start: '2024-12-31', end: '2025-01-01' })
    engine.append('orders', more.orders)
    await waitFor(() => messages.some((m) => m.updates && m.updates.some((u) => u.kind !== 'snapshot')))
    const metrics = await (await fetch(`${base}/metrics`)).text()
    assert.match(metrics, /^kpi_websocket_subscribers\{kpi="revenue",period="day"\} 1$/m)
    const closed = new Promise((r) => ws.on('close', r))
    await server.shutdown()
    await closed
  } finally {
    server.close()
  }
  // The server is gone; a fresh one refuses a bad period, an unknown path, a missing token and,
  // past the caller's rate limit, an upgrade before upgrading, and an unknown KPI after it.
  const T = 'ws-token-0123456789'
  const again = await start({ auth: { api_keys: [{ key: T, role: 'analyst' }] }, limits: { rate_limit: 3 } })
  try {
    const wsBase = again.base.replace('http', 'ws')
    const unknown = new WebSocket(`${wsBase}/ws/kpi/no_such_kpi?period=day&token=${T}`)
    const [closeCode, error] = await new Promise((resolve) => {
      let error
      unknown.on('message', (m) => (error = JSON.parse(m).error))
      unknown.on('close', (code) => resolve([code, error]))
    })
    assert.equal(closeCode, 4400)
    assert.equal(error.code, 'KPI_FORMULA')
    assert.match(error.message, /no_such_kpi/)
    const cases = [
      [`${wsBase}/ws/kpi/revenue?period=fortnight&token=${T}`, 400],
      [`${wsBase}/ws/other?token=${T}`, 404],
      [`${wsBase}/ws/kpi/revenue?period=day`, 401],
    ]
    await nextSecond()
    // The HTTP status of an upgrade: 101 when it opens (closed at once), else the refusal's.
    const upgrade = (url) => new Promise((resolve) => {
      const ws = new WebSocket(url)
      ws.on('unexpected-response', (req, res) => resolve(res.statusCode))
      ws.on('open', () => {
        ws.close()
        resolve(101)
      })
      ws.on('error', () => {})
    })
    for (const [url, want] of cases) assert.equal(await upgrade(url), want, url)
    await nextSecond()
    const statuses = []
    for (let i = 0; i < 6; i++) statuses.push(await upgrade(`${wsBase}/ws/kpi/revenue?period=day&token=${T}`))
    assert.ok(statuses.includes(101) && statuses.includes(429), statuses.join(','))
    await nextSecond()
    const metrics = await (await fetch(`${again.base}/metrics`, { headers: { 'x-api-key': T } })).text()
    const counted = (status) => Number(new RegExp(`^kpi_http_requests_total\\{route="/ws/kpi/\\{code\\}",status="${status}"\\} (\\d+)$`, 'm').exec(metrics)?.[1])
    assert.equal(counted(101), 1 + statuses.filter((s) => s === 101).length)
    assert.equal(counted(429), statuses.filter((s) => s === 429).length)
  } finally {
    await again.server.shutdown()
  }
})

/** A stand-in for a `ws` socket whose unsent bytes the test sets; keeps what it is sent. */
function socketWithBuffer() {
  const received = []
  return { OPEN: 1, readyState: 1, bufferedAmount: 0, received, send: (text) => received.push(JSON.parse(text)), on() {} }
}

test('a slow WebSocket subscriber is sent nothing meanwhile, then one lagged message with the latest of each period it missed', async () => {
  const engine = new Engine(catalog)
  for (const [name, ipc] of Object.entries(data)) engine.register(name, ipc)
  const hub = new Hub(engine, { kpi: 'revenue' }, 'day', new Metrics(engine), () => {})
  const fast = { ws: socketWithBuffer(), id: null }
  const slow = { ws: socketWithBuffer(), id: null }
  const until = async (pred) => {
    const deadline = Date.now() + 10000
    while (!pred()) {
      if (Date.now() > deadline) throw new Error('timed out')
      await new Promise((r) => setTimeout(r, 10))
    }
  }
  const live = (member) => member.ws.received.filter((m) => m.updates.some((u) => u.kind !== 'snapshot'))
  const append = async (seed, start, end) => {
    const seen = live(fast).length
    engine.append('orders', demo.generate(catalog, { rows: 20, seed, start, end }).orders)
    await until(() => live(fast).length > seen)
  }
  try {
    await hub.join(fast)
    await hub.join(slow)
    await until(() => fast.ws.received.length > 0 && slow.ws.received.length > 0)
    slow.ws.bufferedAmount = 2 << 20
    await append(1, '2024-12-29', '2024-12-30')
    await append(2, '2024-12-29', '2024-12-31')
    assert.equal(live(slow).length, 0)
    slow.ws.bufferedAmount = 0
    await append(3, '2024-12-31', '2025-01-01')
    await until(() => live(slow).length > 0)
    await new Promise((r) => setTimeout(r, 100))
    // One message for the three appends, flagged lagged, with the latest value of every day
    // they touched: the same values the fast socket has.
    assert.equal(live(slow).length, 1)
    const [caughtUp] = live(slow)
    assert.equal(caughtUp.lagged, true)
    const latest = new Map()
    for (const m of live(fast)) for (const u of m.updates) latest.set(u.period, u.value)
    const days = caughtUp.updates.map((u) => u.period).sort()
    assert.deepEqual(days, [...latest.keys()].sort())
    assert.ok(days.length >= 3, days.join(','))
    for (const u of caughtUp.updates) assert.equal(u.value, latest.get(u.period))
  } finally {
    hub.leave(fast)
    hub.leave(slow)
  }
})

test('the demo (`make demo`) prints its URL and a summary, serves the page, and stops after KPI_DEMO_SECONDS', async () => {
  const { spawn } = require('node:child_process')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpi-demo-'))
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'src', 'main.js'), '--demo'], {
    env: { ...process.env, PORT: '0', KPI_DATA_DIR: dir, KPI_DEMO_ROWS: '3000', KPI_DEMO_SECONDS: '3' },
  })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  const exited = new Promise((resolve) => child.on('exit', resolve))
  const deadline = Date.now() + 20000
  while (!/on (http:\S+)/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  const url = /on (http:\S+)/.exec(out)?.[1]
  assert.ok(url, out)
  const page = await fetch(url)
  assert.equal(page.status, 200)
  assert.match(await page.text(), /<html/i)
  assert.equal(await exited, 0, out)
  assert.match(out, /Revenue\s+\$[\d,.]+/)
  assert.match(out, /3,000 demo orders/)
})

test('alerts and reports over HTTP and the alert WebSocket', async () => {
  const { server, base, call } = await start()
  try {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws/alerts`)
    const messages = []
    ws.on('message', (m) => messages.push(JSON.parse(m)))
    await new Promise((r) => ws.once('open', r))
    const until = async (done) => {
      for (let i = 0; i < 300 && !done(); i++) await new Promise((r) => setTimeout(r, 20))
      return done()
    }
    assert.ok(await until(() => messages.length === 1))
    assert.deepEqual(messages[0], { type: 'alerts', active: [] })

    const bad = await call('POST', '/alerts/rules', { name: 'x', kpi: 'revenue', when: 'above', warning: 10, critical: 5 })
    assert.deepEqual([bad.status, bad.body.error.code], [400, 'KPI_ALERT'])
    assert.match(bad.body.error.message, /contradicting thresholds/)
    assert.equal((await call('POST', '/alerts/rules', { kpi: 'revenue' })).status, 400, 'a rule needs a name')
    const rule = await call('POST', '/alerts/rules', { name: 'busy months', kpi: 'order_count', grain: 'month', when: 'above', critical: 1 })
    assert.equal(rule.status, 201)
    assert.ok(await until(() => messages.some((m) => m.type === 'alert')))
    const pushed = messages.find((m) => m.type === 'alert')
    assert.equal(pushed.event.rule, 'busy months')
    assert.equal(pushed.event.level, 'critical')
    assert.equal(pushed.active[0].rule, 'busy months')
    const active = await call('GET', '/alerts')
    assert.equal(active.body[0].kpi, 'order_count')
    assert.ok((await call('GET', '/alerts/history?limit=5')).body.length >= 1)
    assert.equal((await call('GET', '/alerts/history?limit=abc')).status, 400)
    assert.equal((await call('GET', '/alerts/rules')).body[0].active, 1)
    assert.equal((await call('DELETE', '/alerts/rules/busy%20months')).status, 200)
    assert.equal((await call('DELETE', '/alerts/rules/busy%20months')).status, 404)
    assert.equal((await call('DELETE', '/alerts/rules/%E0%A4%A')).status, 400)
    assert.deepEqual((await call('GET', '/alerts')).body, [])
    ws.close()

    const many = Array.from({ length: 10000 }, (_, i) => `k${i}`)
    const big = await call('POST', '/reports', { name: 'big', kpis: many })
    assert.deepEqual([big.status, big.body.error.code], [400, 'BAD_REQUEST'])
    assert.match(big.body.error.message, /`kpis` must NOT have more than 200 items/)
    const cron = await call('POST', '/reports', { name: 'r', kpis: ['revenue'], schedule: 'every monday' })
    assert.equal(cron.status, 400)
    assert.match(cron.body.error.message, /not a cron schedule/)
    assert.equal((await call('POST', '/reports', { name: 'r', kpis: ['revenue'], timezone: 'Mars/Base' })).status, 400)
    const made = await call('POST', '/reports', { name: 'Monthly', kpis: ['revenue', 'order_count'], grain: 'month', range: { start: '2024-01-01', end: '2024-04-01' }, format: 'csv', schedule: '0 7 1 * *', timezone: 'Europe/Berlin' })
    assert.equal(made.status, 201)
    assert.match(made.body.next_run, /T0[56]:00:00\+00:00$/)
    const run = await fetch(`${base}/reports/${made.body.id}/run`, { method: 'POST' })
    assert.equal(run.status, 200)
    assert.equal(run.headers.get('content-type'), 'text/csv')
    assert.match(run.headers.get('content-disposition'), /monthly-2024-01-01\.csv/)
    const csv = (await run.text()).trim().split('\n')
    assert.equal(csv[0], 'kpi,name,period,value,status')
    assert.equal(csv.length, 7)
    const pdf = await call('PUT', `/reports/${made.body.id}`, { name: 'Monthly', kpis: ['revenue'], grain: 'week', range: { start: '2024-01-01', end: '2024-02-01' }, format: 'pdf' })
    assert.equal(pdf.status, 200)
    const document = await fetch(`${base}/reports/${made.body.id}/run`, { method: 'POST' })
    assert.equal(document.headers.get('content-type'), 'application/pdf')
    assert.equal(Buffer.from(await document.arrayBuffer()).subarray(0, 5).toString(), '%PDF-')
    const runs = await call('GET', `/reports/${made.body.id}/runs`)
    assert.deepEqual(runs.body.map((r) => r.ok), [true, true])
    assert.equal((await call('GET', '/reports')).body[0].runs, 2)
    assert.equal((await call('POST', '/reports/999/run')).status, 404)
    assert.equal((await call('GET', '/reports/abc')).status, 404)
    assert.equal((await call('DELETE', `/reports/${made.body.id}`)).status, 200)
    assert.equal((await call('GET', `/reports/${made.body.id}`)).status, 404)
  } finally {
    await server.shutdown()
  }
})
