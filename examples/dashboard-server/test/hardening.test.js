'use strict'
// Bad requests and hostile clients: Host allow-list, security headers, generic 500s with the
// details in the JSON log, trace context, rate limiting before authentication, WebSocket caps,
// payload limits and heartbeats, rolling stream windows, durable client files, and the
// configuration's refusals.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { Writable } = require('node:stream')
const WebSocket = require('ws')
const { Catalog, Engine, demo } = require('kpi-engine')
const { createServer } = require('../src/app')
const { createLogger } = require('../src/logging')
const { Hub, windowOf } = require('../src/hub')
const { Metrics } = require('../src/metrics')

const catalog = Catalog.standard()
const data = demo.generate(catalog, { rows: 1000, seed: 3, start: '2024-01-01', end: '2025-01-01' })

async function start(options = {}) {
  const engine = options.engine || new Engine(catalog)
  if (!options.engine) for (const [name, ipc] of Object.entries(data)) engine.register(name, ipc)
  const dir = options.dir || fs.mkdtempSync(path.join(os.tmpdir(), 'kpi-hard-'))
  const server = createServer({ catalog, engine, clientsFile: path.join(dir, 'clients.json'), ...options })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return { server, engine, dir, port: server.address().port, base: `http://127.0.0.1:${server.address().port}` }
}

/** `text` written to the server as it is; resolves with everything it answers. */
const raw = (port, text) =>
  new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(text))
    let answer = ''
    socket.on('data', (chunk) => (answer += chunk))
    socket.on('end', () => resolve(answer))
    socket.on('error', reject)
  })

/** A pino destination keeping the parsed lines. */
function logLines() {
  const lines = []
  const destination = new Writable({ write(chunk, enc, done) { for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l)); done() } })
  return { lines, logger: createLogger({ level: 'info', destination }) }
}

test('only allowed hosts are answered; every answer carries the security headers', async () => {
  const local = await start()
  const listed = await start({ allowedHosts: ['kpi.example.com', '*.kpi.example.net'] })
  try {
    const get = (port, host) => raw(port, `GET /kpis HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
    // On loopback without a list: loopback names only (a rebound DNS name is refused).
    assert.match(await get(local.port, `localhost:${local.port}`), /^HTTP\/1\.1 200 /)
    assert.match(await get(local.port, `127.0.0.1:${local.port}`), /^HTTP\/1\.1 200 /)
    assert.match(await get(local.port, '[::1]'), /^HTTP\/1\.1 200 /)
    const rebound = await get(local.port, 'attacker.example')
    assert.match(rebound, /^HTTP\/1\.1 421 /)
    assert.match(rebound, /HOST_NOT_ALLOWED/)
    assert.match(await get(local.port, 'a b'), /^HTTP\/1\.1 4\d\d /)
    assert.match(await get(listed.port, 'kpi.example.com'), /^HTTP\/1\.1 200 /)
    assert.match(await get(listed.port, 'eu.kpi.example.net:443'), /^HTTP\/1\.1 200 /)
    assert.match(await get(listed.port, 'localhost'), /^HTTP\/1\.1 421 /)
    const ws = await raw(listed.port, 'GET /ws/kpi/revenue HTTP/1.1\r\nHost: evil.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n')
    assert.match(ws, /^HTTP\/1\.1 421 /)

    for (const url of ['/', '/kpis', '/nowhere', '/static/app.js']) {
      const res = await fetch(local.base + url)
      assert.match(res.headers.get('content-security-policy'), /frame-ancestors 'none'/, url)
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', url)
      assert.equal(res.headers.get('x-frame-options'), 'DENY', url)
    }
  } finally {
    await local.server.shutdown()
    await listed.server.shutdown()
  }
})

test('a server fault is a generic 500 with a request id; the details and the trace are in the JSON log', async () => {
  const { lines, logger } = logLines()
  const engine = new Engine(catalog)
  for (const [name, ipc] of Object.entries(data)) engine.register(name, ipc)
  // The real engine, with a calculation that fails the way a bug would (a plain Error).
  const faulty = new Proxy(engine, { get: (t, k) => (k === 'calculate' ? async () => { throw new Error('cannot open /srv/secret/path.parquet') } : typeof t[k] === 'function' ? t[k].bind(t) : t[k]) })
  const { server, base } = await start({ engine: faulty, logger })
  try {
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const res = await fetch(`${base}/calculate`, { method: 'POST', headers: { 'content-type': 'application/json', traceparent: parent }, body: '{"kpi":"revenue"}' })
    assert.equal(res.status, 500)
    const body = await res.json()
    assert.doesNotMatch(JSON.stringify(body), /secret/)
    assert.match(body.error.message, /internal error.*request id/)
    assert.match(res.headers.get('traceparent'), /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/)
    const failed = lines.find((l) => l.msg === 'request failed')
    assert.equal(failed.request_id, body.error.request_id)
    assert.equal(failed.trace_id, '4bf92f3577b34da6a3ce929d0e0e4736')
    assert.match(failed.err.message, /secret\/path/)
    const logged = lines.find((l) => l.msg === 'request' && l.status === 500)
    assert.deepEqual([logged.route, logged.method, logged.trace_id], ['/calculate', 'POST', '4bf92f3577b34da6a3ce929d0e0e4736'])
    // A malformed traceparent starts a new trace instead.
    const fresh = await fetch(`${base}/health`, { headers: { traceparent: '00-zz-bad' } })
    assert.match(fresh.headers.get('traceparent'), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
  } finally {
    await server.shutdown()
  }
})

test('the rate limit counts requests per address before their credentials are checked', async () => {
  const { server, base } = await start({ auth: { api_keys: [{ key: 'k'.repeat(20), role: 'admin' }] }, limits: { rate_limit: 5 } })
  try {
    const statuses = []
    for (let i = 0; i < 12; i++) statuses.push((await fetch(`${base}/kpis`, { headers: { authorization: `Bearer guess-${i}-0000000000` } })).status)
    assert.ok(statuses.includes(401) && statuses.includes(429), statuses.join(','))
    assert.equal(statuses.lastIndexOf(401) < statuses.indexOf(429), true, 'once limited, stays limited within the second')
  } finally {
    await server.shutdown()
  }
})

test('WebSockets: a cap per address, a payload limit, and heartbeats that close dead sockets', async () => {
  const { server, base, port } = await start({ limits: { sockets_per_client: 2, ws_max_payload: 1024, heartbeat_ms: 200 } })
  const url = `${base.replace('http', 'ws')}/ws`
  const open = (u = url) => new Promise((resolve, reject) => {
    const ws = new WebSocket(u)
    ws.on('open', () => resolve(ws))
    ws.on('unexpected-response', (req, res) => reject(Object.assign(new Error('refused'), { status: res.statusCode })))
    ws.on('error', () => {})
  })
  try {
    const a = await open()
    const b = await open()
    await assert.rejects(open(), (e) => e.status === 429)
    b.close()
    await new Promise((r) => b.on('close', r))
    await new Promise((r) => setTimeout(r, 50))
    const c = await open()
    // Over the payload limit: closed with 1009 (message too big).
    const code = await new Promise((resolve) => {
      c.on('close', (code) => resolve(code))
      c.send(JSON.stringify({ type: 'subscribe', id: 'x', query: { where: 'x'.repeat(5000) } }))
    })
    assert.equal(code, 1009)
    a.close()
    // A client that never answers pings (a raw socket after the handshake) is closed.
    const socket = net.connect(port, '127.0.0.1')
    const ended = new Promise((resolve) => socket.on('close', resolve))
    socket.resume()
    socket.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`)
    const started = Date.now()
    await ended
    assert.ok(Date.now() - started < 3000)
  } finally {
    await server.shutdown()
  }
})

test('minute and hour streams roll their window with the clock', async () => {
  const engine = new Engine(catalog)
  const now = new Date()
  const recent = demo.generate(catalog, { rows: 200, seed: 4, start: new Date(now - 3 * 3600e3).toISOString().slice(0, 19).replace('T', ' '), end: now.toISOString().slice(0, 19).replace('T', ' ') })
  for (const [name, ipc] of Object.entries(recent)) engine.register(name, ipc)
  const first = windowOf('minute', new Date('2026-01-01T12:00:00Z'))
  assert.deepEqual(first.range, { start: '2026-01-01T10:00:00', end: '2026-01-01T14:00:00' })
  assert.equal(windowOf('minute', new Date('2026-01-01T15:00:00Z')).range.start, '2026-01-01T13:00:00')
  assert.deepEqual(windowOf('day').range, {})
  const hub = new Hub(engine, { kpi: 'revenue' }, 'minute', new Metrics(engine), () => {}, undefined, { rollMs: 1500 })
  const member = { ws: { OPEN: 1, readyState: 1, bufferedAmount: 0, send() {} }, id: null }
  const starts = () => engine.streams().map((s) => s.query.start)
  try {
    await hub.join(member)
    const [first] = starts()
    const deadline = Date.now() + 15000
    // A new view over the moved window replaces the first; the first is closed.
    while (!(starts().length === 1 && starts()[0] > first) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    assert.equal(starts().length, 1, JSON.stringify(engine.streams()))
    assert.ok(starts()[0] > first, `${starts()[0]} after ${first}`)
  } finally {
    hub.leave(member)
  }
  for (let i = 0; i < 40 && engine.streams().length > 0; i++) await new Promise((r) => setTimeout(r, 50))
  assert.equal(engine.streams().length, 0)
})

test('client configurations survive a corrupt file (from the backup) and refuse to start on one without', async () => {
  const first = await start()
  const call = (base, method, url, body) => fetch(base + url, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json())
  await call(first.base, 'POST', '/clients', { id: 'acme', name: 'Acme', kpis: ['revenue'] })
  await call(first.base, 'PUT', '/clients/acme', { name: 'Acme Retail' })
  await first.server.shutdown()
  const file = path.join(first.dir, 'clients.json')
  assert.deepEqual(fs.readdirSync(first.dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary files left')
  fs.writeFileSync(file, '[{"id": "acme", "na')
  const second = await start({ dir: first.dir })
  try {
    const restored = await (await fetch(`${second.base}/clients/acme`)).json()
    assert.equal(restored.name, 'Acme', 'the backup holds the version before the last write')
    assert.ok(fs.readdirSync(first.dir).some((f) => f.startsWith('clients.json.corrupt-')))
  } finally {
    await second.server.shutdown()
  }
  fs.writeFileSync(file, 'not json')
  fs.rmSync(`${file}.bak`)
  assert.throws(() => createServer({ catalog, engine: new Engine(catalog), clientsFile: file }), /corrupt .* no backup/)
})
