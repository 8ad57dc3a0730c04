'use strict'
// Users, roles and row-level security over HTTP and WebSocket: an admin API key, two analysts
// whose JWTs (one HS256, one RS256 from a JWKS file) carry different regions, and a client user
// who sees only its client's KPIs. The numbers each sees are checked against the admin's.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const jose = require('jose')
const WebSocket = require('ws')
const { Catalog, Engine, demo } = require('kpi-engine')
const { createServer } = require('../src/app')

const catalog = Catalog.standard()
const data = demo.generate(catalog, { rows: 3000, seed: 11, start: '2024-01-01', end: '2025-01-01' })
const ADMIN_KEY = 'admin-key-0123456789abcdef'
const SECRET = 'a-shared-secret-of-at-least-32-bytes!'
const ISSUER = 'https://idp.example'

async function setup({ limits } = {}) {
  const { publicKey, privateKey } = await jose.generateKeyPair('RS256')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpi-auth-'))
  const jwks = path.join(dir, 'jwks.json')
  fs.writeFileSync(jwks, JSON.stringify({ keys: [{ ...(await jose.exportJWK(publicKey)), kid: 'k1', alg: 'RS256' }] }))
  const engine = new Engine(catalog, { max_result_rows: 1000 })
  for (const [name, ipc] of Object.entries(data)) engine.register(name, ipc)
  const server = createServer({
    catalog,
    engine,
    clientsFile: path.join(dir, 'clients.json'),
    auth: { api_keys: [{ name: 'ops', key: ADMIN_KEY, role: 'admin' }], jwt: { secret: SECRET, jwks, issuer: ISSUER, audience: 'kpi' }, row_filters: { region: 'orders.region' } },
    limits: { rate_limit: 10000, ...limits },
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const base = `http://127.0.0.1:${server.address().port}`
  const hs = (claims, options = {}) => {
    let jwt = new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer(options.issuer ?? ISSUER).setAudience('kpi').setSubject(claims.sub ?? 'user')
    jwt = options.expired ? jwt.setIssuedAt(1000).setExpirationTime(2000) : jwt.setIssuedAt().setExpirationTime('10m')
    return jwt.sign(new TextEncoder().encode(options.secret ?? SECRET))
  }
  const rs = (claims) => new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(ISSUER).setAudience('kpi').setSubject(claims.sub).setIssuedAt().setExpirationTime('10m').sign(privateKey)
  const as = (token) => async (method, url, body) => {
    const res = await fetch(base + url, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body) })
    return { status: res.status, body: await res.json().catch(() => null) }
  }
  return { server, engine, base, dir, hs, rs, as }
}

/** The revenue of 2024 in one query's rows. */
const total = (result) => result.rows.reduce((sum, r) => sum + (r.value ?? 0), 0)

test('two analysts see their own region of the same KPI; an admin sees all; claims cannot widen it', async () => {
  const { server, hs, rs, as, base } = await setup()
  try {
    const admin = as(ADMIN_KEY)
    const north = as(await hs({ sub: 'nora', role: 'analyst', region: 'north_america' }))
    const europe = as(await rs({ sub: 'emil', role: 'analyst', region: 'europe' }))
    const query = { kpi: 'revenue', grain: 'year', start: '2024-01-01', end: '2025-01-01' }
    const byRegion = await admin('POST', '/calculate', { ...query, by: ['orders.region'] })
    assert.equal(byRegion.status, 200)
    const of = (region) => byRegion.body.rows.find((r) => r['orders.region'] === region).value
    const n = await north('POST', '/calculate', query)
    const e = await europe('POST', '/calculate', query)
    assert.equal(n.status, 200, JSON.stringify(n.body))
    assert.ok(Math.abs(total(n.body) - of('north_america')) < 0.01)
    assert.ok(Math.abs(total(e.body) - of('europe')) < 0.01)
    assert.notEqual(total(n.body), total(e.body))
    assert.ok(total((await admin('POST', '/calculate', query)).body) > total(n.body) + total(e.body))

    // Grouping by region shows only the caller's; its own `security` or `where` cannot widen it.
    const grouped = await north('POST', '/calculate', { ...query, by: ['orders.region'] })
    assert.deepEqual([...new Set(grouped.body.rows.map((r) => r['orders.region']))], ['north_america'])
    assert.equal(total((await north('POST', '/calculate', { ...query, security: { orders: 'true' } })).body), total(n.body))
    assert.equal(total((await north('POST', '/calculate', { ...query, where: "orders.region = 'europe'" })).body), 0)
    // Dashboards, batches, history and comparisons carry the same filter.
    const board = await north('POST', '/calculate/dashboard', { ...query, kpis: ['revenue'] })
    assert.equal(total(board.body.items[0].result), total(n.body))
    const batch = await europe('POST', '/calculate/batch', { queries: [query] })
    assert.equal(total(batch.body.items[0].result), total(e.body))
    const history = await north('GET', '/kpis/revenue/history?grain=year&start=2024-01-01&end=2025-01-01')
    assert.equal(total(history.body), total(n.body))

    // A claim that tries to end the string literal is a value like any other: it matches nothing.
    const sly = as(await hs({ sub: 'mallory', role: 'analyst', region: "x' or 'a' = 'a" }))
    const none = await sly('POST', '/calculate', query)
    assert.equal(none.status, 200)
    assert.equal(total(none.body), 0)
    // A list of regions is an `in`.
    const both = as(await hs({ sub: 'bo', role: 'analyst', region: ['north_america', 'europe'] }))
    assert.ok(Math.abs(total((await both('POST', '/calculate', query)).body) - of('north_america') - of('europe')) < 0.01)

    // Two sockets of the same KPI as two users get their own numbers (two engine views).
    const snapshot = async (token) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/ws/kpi/revenue?period=day&token=${token}`)
      const first = await new Promise((resolve, reject) => {
        ws.once('message', (m) => resolve(JSON.parse(m)))
        ws.once('error', reject)
      })
      ws.close()
      return first.updates.reduce((s, u) => s + (u.value ?? 0), 0)
    }
    const [sn, se] = [await snapshot(await hs({ sub: 'nora', role: 'analyst', region: 'north_america' })), await snapshot(await rs({ sub: 'emil', role: 'analyst', region: 'europe' }))]
    assert.ok(Math.abs(sn - total(n.body)) < 0.01, `${sn} vs ${total(n.body)}`)
    assert.ok(Math.abs(se - total(e.body)) < 0.01)
  } finally {
    await server.shutdown()
  }
})

test('roles: admins change things, analysts read and see alerts, client users see their client only', async () => {
  const { server, hs, as } = await setup()
  try {
    const admin = as(ADMIN_KEY)
    const analyst = as(await hs({ sub: 'ana', role: 'analyst' }))
    const acme = as(await hs({ sub: 'cleo', role: 'client', client: 'acme' }))
    const created = await admin('POST', '/clients', { id: 'acme', name: 'Acme', kpis: ['revenue', 'order_count'] })
    assert.equal(created.status, 201)
    assert.equal((await admin('POST', '/clients', { id: 'globex', name: 'Globex', kpis: ['revenue'] })).status, 201)

    // Analysts read and calculate, see alerts, and change nothing.
    assert.equal((await analyst('POST', '/calculate', { kpi: 'perfect_order_rate', grain: 'month' })).status, 200)
    assert.equal((await analyst('GET', '/alerts')).status, 200)
    for (const [method, url, body] of [
      ['POST', '/definitions', { code: 'x', name: 'X', formula: 'count(orders)' }],
      ['DELETE', '/definitions/revenue'],
      ['POST', '/demo/generate', { rows: 10 }],
      ['POST', '/alerts/rules', { name: 'r', kpi: 'revenue', when: 'above', critical: 1 }],
      ['GET', '/clients'],
      ['GET', '/clients/acme'],
      ['POST', '/clients', { name: 'Initech' }],
    ]) {
      const answer = await analyst(method, url, body)
      assert.equal(answer.status, 403, `${method} ${url}: ${JSON.stringify(answer.body)}`)
      assert.equal(answer.body.error.code, 'FORBIDDEN')
    }

    // A client user: its KPIs only, no formulas, its own configuration only.
    assert.deepEqual((await acme('GET', '/kpis')).body.map((k) => k.code).sort(), ['order_count', 'revenue'])
    assert.equal((await acme('GET', '/kpis/revenue')).status, 200)
    assert.equal((await acme('GET', '/kpis/perfect_order_rate')).status, 403)
    assert.equal((await acme('POST', '/calculate', { kpi: 'revenue', grain: 'month' })).status, 200)
    assert.equal((await acme('POST', '/calculate', { kpi: 'perfect_order_rate' })).status, 403)
    assert.equal((await acme('POST', '/calculate', { formula: 'sum(orders.order_value)' })).status, 403)
    const board = await acme('POST', '/calculate/batch', { queries: [{ kpi: 'revenue' }, { kpi: 'perfect_order_rate' }] })
    assert.equal(board.status, 403, 'a batch is refused whole when one query is not the client\'s')
    assert.deepEqual((await acme('GET', '/clients')).body.map((c) => c.id), ['acme'])
    assert.equal((await acme('GET', '/clients/acme')).status, 200)
    assert.equal((await acme('GET', '/clients/globex')).status, 403)
    assert.equal((await acme('PUT', '/clients/acme', { name: 'Acme Corp' })).body.name, 'Acme Corp')
    assert.equal((await acme('PUT', '/clients/globex', { name: 'Mine now' })).status, 403)
    assert.equal((await acme('GET', '/alerts')).status, 403)
    assert.equal((await acme('GET', '/health/detailed')).status, 403)
    // A client user without a client claim, or a role nobody has, gets no access.
    assert.equal((await as(await hs({ sub: 'x', role: 'client' }))('GET', '/kpis')).status, 403)
    assert.equal((await as(await hs({ sub: 'x', role: 'root' }))('GET', '/kpis')).status, 403)

    // Admins do all of it.
    assert.equal((await admin('GET', '/clients')).body.length, 2)
    assert.equal((await admin('POST', '/definitions', { code: 'big_orders', name: 'Big orders', formula: 'count(orders where orders.order_value > 500)' })).status, 201)
    assert.equal((await admin('GET', '/health/detailed')).body.status, 'ok')
  } finally {
    await server.shutdown()
  }
})

test('credentials that are missing, wrong, expired, from another issuer or unsigned are 401', async () => {
  const { server, hs, as, base } = await setup()
  try {
    const status = async (headers) => (await fetch(`${base}/kpis`, { headers })).status
    assert.equal(await status({}), 401)
    assert.equal(await status({ authorization: 'Bearer not-a-key-at-all-0000' }), 401)
    assert.equal(await status({ authorization: `Bearer ${ADMIN_KEY}x` }), 401)
    assert.equal(await status({ 'x-api-key': ADMIN_KEY }), 200)
    const expired = await as(await hs({ role: 'analyst' }, { expired: true }))('GET', '/kpis')
    assert.equal(expired.status, 401)
    assert.match(expired.body.error.message, /expired/)
    assert.equal((await as(await hs({ role: 'analyst' }, { issuer: 'https://other.example' }))('GET', '/kpis')).status, 401)
    assert.equal((await as(await hs({ role: 'admin' }, { secret: 'another-secret-of-at-least-32-bytes!!' }))('GET', '/kpis')).status, 401)
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ role: 'admin', iss: ISSUER, aud: 'kpi' })).toString('base64url')}.`
    assert.equal((await as(unsigned)('GET', '/kpis')).status, 401)
    // The public parts stay public.
    assert.equal(await status({}).then(() => fetch(`${base}/health`)).then((r) => r.status), 200)
    assert.equal((await fetch(`${base}/openapi.json`)).status, 200)
    assert.equal((await fetch(`${base}/`)).status, 200)
  } finally {
    await server.shutdown()
  }
})

test('dimensions are the KPI\'s declared ones unless allowed, and results are bounded before they are built', async () => {
  const { server, hs, as } = await setup()
  try {
    const analyst = as(await hs({ sub: 'ana', role: 'analyst' }))
    const undeclared = await analyst('POST', '/calculate', { kpi: 'revenue', grain: 'day', by: ['orders.order_id'] })
    assert.equal(undeclared.status, 400)
    assert.equal(undeclared.body.error.code, 'UNDECLARED_DIMENSION')
    assert.match(undeclared.body.error.message, /orders\.order_id.*orders\.region/)
    // An admin may group by anything, within the result limit (1,000 rows here): refused with
    // the estimate before running when the periods alone pass it.
    const admin = as(ADMIN_KEY)
    const minutes = await admin('POST', '/calculate', { kpi: 'revenue', grain: 'minute', start: '2024-01-01', end: '2024-02-01' })
    assert.equal(minutes.status, 400)
    assert.match(minutes.body.error.message, /more than 1000 rows: \d+ periods before any dimension, estimated before running/)
    const orders = await admin('POST', '/calculate', { kpi: 'revenue', grain: 'day', by: ['orders.order_id'] })
    assert.equal(orders.status, 400)
    assert.match(orders.body.error.message, /more than 1000 rows/)
  } finally {
    await server.shutdown()
  }
})

test('each user saves a layout of KPIs they may read, kept across restarts', async () => {
  const { server, hs, as, dir } = await setup()
  let again
  try {
    const nora = as(await hs({ sub: 'nora', role: 'analyst' }))
    const layout = { kpis: ['revenue', 'order_count'], views: { revenue: 'bar' }, period: 'hour' }
    assert.deepEqual((await nora('PUT', '/me/layout', layout)).body, layout)
    assert.equal((await nora('PUT', '/me/layout', { kpis: 'revenue' })).status, 400)
    assert.equal((await nora('PUT', '/me/layout', { colour: 'red' })).status, 400)
    const me = await nora('GET', '/me')
    assert.deepEqual([me.body.role, me.body.layout], ['analyst', layout])
    assert.equal((await as(await hs({ sub: 'emil', role: 'analyst' }))('GET', '/me')).body.layout, null)
    await server.shutdown()
    again = createServer({ catalog, engine: new Engine(catalog), clientsFile: path.join(dir, 'clients.json'), auth: { jwt: { secret: SECRET } } })
    await new Promise((r) => again.listen(0, '127.0.0.1', r))
    const token = await new jose.SignJWT({ role: 'analyst' }).setProtectedHeader({ alg: 'HS256' }).setSubject('nora').sign(new TextEncoder().encode(SECRET))
    const res = await fetch(`http://127.0.0.1:${again.address().port}/me`, { headers: { authorization: `Bearer ${token}` } })
    assert.deepEqual((await res.json()).layout, layout)
  } finally {
    await server.shutdown()
    await again?.shutdown()
  }
})

test('RS256 keys come from a JWKS URL too; a token with an unknown key id is refused', async () => {
  const http = require('node:http')
  const { publicKey, privateKey } = await jose.generateKeyPair('RS256')
  const other = await jose.generateKeyPair('RS256')
  const jwks = JSON.stringify({ keys: [{ ...(await jose.exportJWK(publicKey)), kid: 'live', alg: 'RS256' }] })
  let fetched = 0
  const idp = http.createServer((req, res) => {
    fetched += 1
    res.writeHead(200, { 'content-type': 'application/json' }).end(jwks)
  })
  await new Promise((r) => idp.listen(0, '127.0.0.1', r))
  const engine = new Engine(catalog)
  for (const [name, ipc] of Object.entries(data)) engine.register(name, ipc)
  const server = createServer({ catalog, engine, clientsFile: null, auth: { jwt: { jwks: `http://127.0.0.1:${idp.address().port}/jwks.json`, audience: 'kpi' } } })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const sign = (key, kid) => new jose.SignJWT({ role: 'analyst' }).setProtectedHeader({ alg: 'RS256', kid }).setAudience('kpi').setSubject('u').setExpirationTime('5m').sign(key)
  const status = async (token) => (await fetch(`http://127.0.0.1:${server.address().port}/kpis`, { headers: { authorization: `Bearer ${token}` } })).status
  try {
    assert.equal(await status(await sign(privateKey, 'live')), 200)
    assert.equal(await status(await sign(privateKey, 'live')), 200)
    assert.equal(fetched, 1, 'the key set is cached')
    assert.equal(await status(await sign(other.privateKey, 'rotated-away')), 401)
    assert.equal(await status(await sign(other.privateKey, 'live')), 401)
  } finally {
    await server.shutdown()
    idp.close()
  }
})
