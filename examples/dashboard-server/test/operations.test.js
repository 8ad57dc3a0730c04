'use strict'
// The server as an operator runs it: a configuration file with a catalog file and a CSV source,
// environment variables over it, refusals of bad settings, health endpoints, the one-socket
// protocol, and live demo appends at the history's pace.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')
const WebSocket = require('ws')
const { Catalog, Engine, demo } = require('kpi-engine')
const { createServer } = require('../src/app')
const { loadConfig, ConfigError } = require('../src/config')
const { ratePerSecond, poisson } = require('../src/live')

const MAIN = path.join(__dirname, '..', 'src', 'main.js')
const ORDERS_CSV = [
  'order_id,customer_id,ordered_at,promised_at,shipped_at,delivered_at,channel,region,status,order_value,discount,in_full,damage_free,documentation_ok',
  '1,10,2024-01-05 10:00:00,2024-01-08 10:00:00,2024-01-06 10:00:00,2024-01-07 10:00:00,web,europe,completed,100.00,0,true,true,true',
  '2,11,2024-01-20 11:00:00,2024-01-23 11:00:00,2024-01-21 11:00:00,2024-01-22 11:00:00,store,north_america,completed,250.50,0,true,true,true',
  '3,12,2024-02-02 09:00:00,2024-02-05 09:00:00,,,web,europe,cancelled,80.00,0.1,false,true,true',
  '4,10,2024-02-14 15:30:00,2024-02-17 15:30:00,2024-02-15 15:30:00,2024-02-16 15:30:00,mobile,europe,completed,42.25,0,true,true,true',
].join('\n')

/** Runs the server's main with `args` and `env` until it prints its URL (or exits). */
function run(args, env, { until = /on (http:\S+)/ } = {}) {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH, ...env } })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)))
  const ready = new Promise((resolve) => {
    const timer = setInterval(() => {
      if (until.test(out)) resolve(until.exec(out)[1])
    }, 50)
    exited.then(() => {
      clearInterval(timer)
      resolve(null)
    })
    setTimeout(() => clearInterval(timer), 30000).unref()
  })
  return { child, exited, ready, output: () => out }
}

test('a configuration file: catalog file, CSV source, users, dashboards and limits; environment over it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpi-conf-'))
  fs.writeFileSync(path.join(dir, 'catalog.yaml'), Catalog.standard().toYaml())
  fs.writeFileSync(path.join(dir, 'orders.csv'), ORDERS_CSV)
  fs.writeFileSync(path.join(dir, 'server.yaml'), [
    'catalog: catalog.yaml',
    'data_dir: state',
    'sources:',
    '  orders: { csv: orders.csv }',
    '  customers: { parquet: missing/customers.parquet }',
    'dashboards:',
    '  - { name: Sales, kpis: [revenue, order_count], grain: month }',
    'limits: { max_result_rows: 500, rate_limit: 50 }',
    'auth:',
    '  api_keys:',
    '    - { name: ops, key_env: OPS_KEY, role: admin }',
    'log_level: info',
  ].join('\n'))
  const key = 'ops-key-from-the-environment-123'
  const server = run(['--config', path.join(dir, 'server.yaml')], { PORT: '0', OPS_KEY: key })
  try {
    const url = await server.ready
    assert.ok(url, server.output())
    const get = (p, headers = { authorization: `Bearer ${key}` }) => fetch(new URL(p, url), { headers })
    assert.equal((await get('/kpis', {})).status, 401)
    const revenue = await (await fetch(new URL('/calculate', url), { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ kpi: 'revenue', grain: 'month', start: '2024-01-01', end: '2024-03-01' }) })).json()
    assert.deepEqual(revenue.rows.map((r) => r.value), [350.5, 42.25])
    assert.deepEqual((await (await get('/dashboards')).json())[0].kpis, ['revenue', 'order_count'])
    // The missing Parquet file is reported, not fatal.
    const detailed = await (await get('/health/detailed')).json()
    assert.equal(detailed.status, 'degraded')
    const customers = detailed.sources.find((s) => s.model === 'customers')
    assert.equal(customers.ok, false)
    assert.match(customers.error, /customers\.parquet/)
    assert.equal(detailed.sources.find((s) => s.model === 'orders').ok, true)
    assert.match(detailed.last_calculation.route, /\/calculate/)
    assert.deepEqual(await (await get('/health/ready', {})).json(), { status: 'ready' })
    // Logs are JSON lines with the request's ids.
    const line = server.output().split('\n').find((l) => l.includes('"msg":"request"'))
    assert.ok(line, server.output())
    const parsed = JSON.parse(line)
    assert.ok(parsed.request_id && parsed.trace_id && parsed.route)
  } finally {
    server.child.kill('SIGTERM')
    await server.exited
  }
})

test('bad settings stop the server at start with the setting named', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpi-conf-'))
  const file = (text) => {
    const f = path.join(dir, `c${Math.random().toString(16).slice(2)}.yaml`)
    fs.writeFileSync(f, text)
    return f
  }
  const refused = (settings, pattern) => assert.throws(() => loadConfig(settings), (e) => e instanceof ConfigError && pattern.test(e.message), pattern.source)
  refused({ argv: ['--demo'], env: { HOST: '0.0.0.0' } }, /refusing to listen on 0\.0\.0\.0 without authentication/)
  refused({ argv: [], env: {} }, /no data: configure `sources`/)
  refused({ argv: ['--config', file('sources: { orders: { csv: a.csv } }\nlimts: {}')], env: {} }, /`limts` is not a setting/)
  refused({ argv: ['--config', file('sources: { orders: { csv: a.csv, parquet: b.parquet } }')], env: {} }, /sources\.orders needs exactly one of/)
  refused({ argv: ['--config', file('demo: {}\nlimits: { rate_limit: fast }')], env: {} }, /limits\.rate_limit must be an integer/)
  refused({ argv: ['--config', file('demo: {}\nauth: { api_keys: [{ key: short, role: admin }] }')], env: {} }, /shorter than 16/)
  refused({ argv: ['--config', file('demo: {}\nauth: { api_keys: [{ key: long-enough-key-123, role: owner }] }')], env: {} }, /role must be one of admin, analyst, client/)
  refused({ argv: ['--config', file('demo: {}\nauth: { jwt: { secret: tiny } }')], env: {} }, /shorter than 32 bytes/)
  refused({ argv: ['--config', file('demo: [')], env: {} }, /is not YAML or JSON/)
  refused({ argv: ['--config', path.join(dir, 'nope.yaml')], env: {} }, /cannot read the configuration/)
  refused({ argv: ['--demo'], env: { PORT: 'eighty' } }, /PORT must be a whole number/)
  refused({ argv: ['--verbose'], env: {} }, /unknown argument --verbose/)
  // Listening elsewhere is fine with authentication; environment variables override the file.
  const config = loadConfig({ argv: ['--config', file('demo: { rows: 10 }\nlimits: { rate_limit: 7 }')], env: { HOST: '0.0.0.0', KPI_TOKEN: 'a-token-of-sixteen+', KPI_RATE_LIMIT: '9' } })
  assert.deepEqual([config.host, config.limits.rate_limit, config.demo.rows, config.auth.api_keys[0].role], ['0.0.0.0', 9, 10, 'admin'])
  // The process says so and exits 2.
  const bad = run(['--demo'], { HOST: '0.0.0.0', PORT: '0' })
  assert.equal(await bad.exited, 2)
  assert.match(bad.output(), /refusing to listen on 0\.0\.0\.0 without authentication/)
})

test('the configuration in docs/dashboard-server.md is accepted as written', () => {
  const doc = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'dashboard-server.md'), 'utf8')
  const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1])
  assert.equal(blocks.length, 1)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpi-doc-'))
  fs.writeFileSync(path.join(dir, 'server.yaml'), blocks[0])
  const env = { KPI_OPS_KEY: 'ops-key-0123456789abcdef', KPI_ACME_KEY: 'acme-key-0123456789abcdef', KPI_JWT_SECRET: 'a-jwt-secret-of-at-least-32-bytes!!' }
  const saved = { ...process.env }
  Object.assign(process.env, env)
  try {
    const config = loadConfig({ argv: ['--config', path.join(dir, 'server.yaml')], env })
    assert.deepEqual(config.sources.map((s) => [s.model, s.kind]), [['orders', 'parquet'], ['customers', 'csv'], ['products', 'postgres'], ['order_events', 'postgres']])
    assert.equal(config.sources[0].location, 's3://lake/orders/')
    assert.equal(config.sources[1].location, path.join(dir, 'exports', 'customers.csv'))
    assert.deepEqual(config.auth.api_keys.map((k) => k.role), ['admin', 'analyst', 'client'])
    assert.equal(config.limits.max_result_rows, 100000)
  } finally {
    for (const key of Object.keys(env)) if (!(key in saved)) delete process.env[key]
  }
})

test('health: alive, ready, and detailed for staff', async () => {
  const catalog = Catalog.standard()
  const engine = new Engine(catalog)
  const server = createServer({ catalog, engine, clientsFile: null })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const base = `http://127.0.0.1:${server.address().port}`
  try {
    assert.deepEqual(await (await fetch(`${base}/health`)).json(), { status: 'ok' })
    const empty = await fetch(`${base}/health/ready`)
    assert.deepEqual([empty.status, (await empty.json()).status], [503, 'starting'])
    for (const [name, ipc] of Object.entries(demo.generate(catalog, { rows: 100, seed: 1, start: '2024-01-01', end: '2024-02-01' }))) engine.register(name, ipc)
    assert.equal((await fetch(`${base}/health/ready`)).status, 200)
    const detailed = await (await fetch(`${base}/health/detailed`)).json()
    assert.equal(detailed.engine.tables.length, 17)
    assert.equal(detailed.last_calculation, null)
    await fetch(`${base}/calculate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"kpi":"revenue"}' })
    assert.equal((await (await fetch(`${base}/health/detailed`)).json()).last_calculation.route, '/calculate')
    // The OpenAPI document comes from the routes' schemas, responses included.
    const doc = await (await fetch(`${base}/openapi.json`)).json()
    const calculate = doc.paths['/calculate'].post
    assert.equal(calculate.requestBody.content['application/json'].schema.properties.grain.enum.length, 7)
    assert.ok(calculate.responses['200'].content['application/json'].schema.properties.rows)
    assert.ok(calculate.responses['403'])
    assert.deepEqual(doc.paths['/health'].get.security, [])
    assert.ok(doc.paths['/kpis/{code}/history'].get.parameters.some((p) => p.name === 'code'))
  } finally {
    await server.shutdown()
  }
})

test('one socket, any query: subscribe, updates by id, unsubscribe, errors that keep the connection', async () => {
  const catalog = Catalog.standard()
  const engine = new Engine(catalog)
  for (const [name, ipc] of Object.entries(demo.generate(catalog, { rows: 1000, seed: 2, start: '2024-01-01', end: '2025-01-01' }))) engine.register(name, ipc)
  const server = createServer({ catalog, engine, clientsFile: null })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const ws = new WebSocket(`ws://127.0.0.1:${server.address().port}/ws`)
  const messages = []
  ws.on('message', (m) => messages.push(JSON.parse(m)))
  await new Promise((r) => ws.once('open', r))
  const until = async (pred, what) => {
    for (let i = 0; i < 500 && !pred(); i++) await new Promise((r) => setTimeout(r, 20))
    assert.ok(pred(), `${what}: ${JSON.stringify(messages).slice(0, 500)}`)
  }
  const of = (id, type) => messages.filter((m) => m.id === id && m.type === type)
  try {
    ws.send(JSON.stringify({ type: 'subscribe', id: 'r', query: { kpi: 'revenue', by: ['orders.region'] }, period: 'month' }))
    ws.send(JSON.stringify({ type: 'subscribe', id: 'o', query: { kpi: 'order_count', where: "orders.channel = 'web'" }, period: 'quarter' }))
    await until(() => of('r', 'updates').length > 0 && of('o', 'updates').length > 0, 'snapshots of both')
    assert.ok(of('r', 'updates')[0].updates.every((u) => u.dimensions.length === 1), 'one value per group: the region')
    assert.equal(of('o', 'updates')[0].period, 'quarter')
    assert.equal(engine.streams().length, 2)
    // Bad messages get an error and the connection stays.
    ws.send('not json')
    ws.send(JSON.stringify({ type: 'subscribe', id: 'x', query: { kpi: 'no_such_kpi' } }))
    ws.send(JSON.stringify({ type: 'subscribe', id: 'r', query: { kpi: 'revenue' } }))
    ws.send(JSON.stringify({ type: 'dance', id: 'y' }))
    ws.send(JSON.stringify({ type: 'subscribe', id: 'z', query: { kpi: 'revenue' }, period: 'fortnight' }))
    await until(() => messages.filter((m) => m.type === 'error').length >= 5, 'five errors')
    assert.equal(messages.find((m) => m.type === 'error' && m.id === null).error.code, 'BAD_JSON')
    assert.equal(of('x', 'error')[0].error.code, 'KPI_FORMULA')
    assert.match(of('r', 'error')[0].error.message, /exists/)
    // Appends reach the subscriber by id; unsubscribing releases the engine's view.
    const before = of('r', 'updates').length
    engine.append('orders', demo.generate(catalog, { rows: 20, seed: 8, start: '2024-12-01', end: '2024-12-31' }).orders)
    await until(() => of('r', 'updates').length > before, 'a live update')
    // Alerts ride the same socket.
    ws.send(JSON.stringify({ type: 'subscribe', id: 'al', alerts: true }))
    await until(() => of('al', 'alerts').length === 1, 'the active alerts')
    await engine.addAlertRule({ name: 'busy', kpi: 'order_count', grain: 'month', when: 'above', critical: 1 })
    await until(() => of('al', 'alert').length > 0, 'an alert event')
    assert.equal(of('al', 'alert')[0].event.rule, 'busy')
    engine.removeAlertRule('busy')
    ws.send(JSON.stringify({ type: 'unsubscribe', id: 'al' }))
    ws.send(JSON.stringify({ type: 'unsubscribe', id: 'o' }))
    await until(() => of('o', 'unsubscribed').length === 1, 'unsubscribed')
    await until(() => engine.streams().length === 1, 'one view left')
    ws.close()
    await until(() => engine.streams().length === 0, 'every view released on close')
  } finally {
    await server.shutdown()
  }
})

test('live demo orders arrive at the history\'s pace, with its weekday and hour profile', async () => {
  // 50,000 orders a year is ~137 a day on average; the busiest hour of a weekday sees a few
  // dozen at most, night hours a handful: nothing like a thousand a minute.
  const weekdayNoon = new Date('2026-12-09T12:30:00Z')
  const sundayNight = new Date('2026-12-13T03:30:00Z')
  const perDay = (at) => ratePerSecond(50000, 365, at) * 86400
  const perHour = (at) => ratePerSecond(50000, 365, at) * 3600
  assert.ok(perHour(weekdayNoon) > 10 && perHour(weekdayNoon) < 20, `${perHour(weekdayNoon)} per hour at noon`)
  assert.ok(perHour(sundayNight) < 1, `${perHour(sundayNight)} per hour on a Sunday night`)
  // Summed over a week the pace matches the history's latest days (growth 1.35 over the year).
  let week = 0
  for (let h = 0; h < 7 * 24; h++) week += perHour(new Date(Date.UTC(2026, 11, 7, h, 30)))
  assert.ok(week / 7 > 137 && week / 7 < 200, `${week / 7} a day`)
  assert.ok(perDay(weekdayNoon) > perDay(sundayNight))
  // The pace is the generator's own: its last two weeks of a year of 200,000 orders hold what
  // the rate says, within sampling noise.
  const catalog = Catalog.standard()
  const engine = new Engine(catalog)
  const end = new Date('2026-12-07T00:00:00Z')
  const history = demo.generate(catalog, { rows: 200000, seed: 5, start: '2025-12-07', end: '2026-12-07' })
  engine.register('orders', history.orders)
  const counted = await engine.calculate({ formula: 'count(orders)', grain: 'day', start: '2026-11-23', end: '2026-12-07' })
  const generated = counted.toJSON().rows.reduce((n, r) => n + r.value, 0)
  let expected = 0
  for (let t = end.getTime() - 14 * 86400e3; t < end.getTime(); t += 3600e3) expected += ratePerSecond(200000, 365, new Date(t + 1800e3)) * 3600
  assert.ok(Math.abs(generated / expected - 1) < 0.1, `generated ${generated} in two weeks, the rate says ${expected.toFixed(0)}`)
  // The Poisson draws have the asked mean.
  let sum = 0
  for (let i = 0; i < 20000; i++) sum += poisson(0.3)
  assert.ok(Math.abs(sum / 20000 - 0.3) < 0.02)
})
