'use strict'
// PostgreSQL tables as object models through the Node package: a throwaway server started by
// scripts/postgres.sh (own data directory and port), rows inserted with psql, the numbers
// compared with the same rows registered in memory.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const ke = require('..')

const script = path.join(__dirname, '..', '..', 'scripts', 'postgres.sh')
const psqlBin = ['/usr/bin/psql', ...fs.globSync?.('/usr/lib/postgresql/*/bin/psql') ?? []].find((p) => fs.existsSync(p))

const regions = ['europe', 'asia_pacific', null]
const at = (hours) => new Date(Date.UTC(2024, 0, 1) + hours * 3600 * 1000).toISOString().replace('Z', '')
const rows = Array.from({ length: 400 }, (_, i) => ({
  order_id: i + 1,
  customer_id: (i % 37) + 1,
  ordered_at: at(i * 9),
  promised_at: at(i * 9 + 96),
  shipped_at: i % 7 === 0 ? null : at(i * 9 + 30),
  delivered_at: i % 7 === 0 ? null : at(i * 9 + 80),
  channel: 'web',
  region: regions[i % 3],
  status: i % 10 === 0 ? 'cancelled' : 'completed',
  order_value: ((i * 37) % 500) + 0.25,
  discount: (i % 5) / 100,
  in_full: i % 4 !== 0,
  damage_free: true,
  documentation_ok: i % 9 !== 0,
}))
const columns = {
  order_id: 'bigint',
  customer_id: 'bigint',
  ordered_at: 'timestamp',
  promised_at: 'timestamp',
  shipped_at: 'timestamp',
  delivered_at: 'timestamp',
  channel: 'text',
  region: 'text',
  status: 'text',
  amount: 'numeric(18,2)',
  discount: 'double precision',
  in_full: 'boolean',
  damage_free: 'boolean',
  documentation_ok: 'boolean',
}

function psql(port, sql) {
  execFileSync(psqlBin, ['-q', '-h', '127.0.0.1', '-p', String(port), '-U', 'kpi', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    env: { ...process.env, PGPASSWORD: 'kpi-test' },
  })
}

const lit = (v) => (v === null ? 'NULL' : typeof v === 'number' || typeof v === 'boolean' ? String(v) : `'${v}'`)

test('a PostgreSQL table gives the in-memory numbers; bad sources reject without the password', async (t) => {
  assert.ok(psqlBin, 'psql not found: run scripts/setup.sh --tests')
  const dir = fs.mkdtempSync(path.join('/tmp', 'kpi-pg-node-'))
  const port = execFileSync('bash', [script, 'start', dir]).toString().trim()
  t.after(() => execFileSync('bash', [script, 'stop', dir]))
  psql(port, `CREATE TABLE shop_orders (${Object.entries(columns).map(([name, type]) => `${name} ${type}`).join(', ')})`)
  const values = rows.map((r) => `(${Object.keys(columns).map((c) => lit(r[c === 'amount' ? 'order_value' : c])).join(', ')})`)
  psql(port, `INSERT INTO shop_orders VALUES ${values.join(', ')}`)
  const dsn = `postgresql://kpi:kpi-test@127.0.0.1:${port}/postgres?sslmode=disable`

  const cat = ke.Catalog.standard()
  const memory = new ke.Engine(cat)
  memory.register('orders', rows)
  const pg = new ke.Engine(cat)
  await pg.registerPostgres('orders', dsn, { table: 'public.shop_orders', columns: { order_value: 'amount' } })
  const query = { kpi: 'revenue', grain: 'month', by: ['orders.region'], start: '2024-01-01', end: '2024-03-01' }
  const [a, b] = [await memory.calculate(query), await pg.calculate(query)]
  assert.deepEqual(b.rows.map(({ value, ...key }) => key), a.rows.map(({ value, ...key }) => key))
  b.rows.forEach((r, i) => assert.ok(Math.abs(r.value - a.rows[i].value) < 1e-6, `${r.value} vs ${a.rows[i].value}`))
  assert.ok(a.rows.some((r) => r['orders.region'] === null || r.region === null), 'a group without a region')
  const plans = await pg.explain(query)
  assert.match(plans.pushedDown, /^pushed down to PostgreSQL at postgresql:\/\/kpi@127\.0\.0\.1/)
  assert.ok(!JSON.stringify(plans).includes('kpi-test'))

  await assert.rejects(
    pg.registerPostgres('orders', dsn.replace('kpi-test', 'hunter2'), { table: 'shop_orders' }),
    (err) => err instanceof ke.DataError && err.code === 'KPI_SOURCE' && err.message.includes(`127.0.0.1:${port}/postgres`) && !err.message.includes('hunter2'),
  )
  await assert.rejects(pg.registerPostgres('orders', dsn, { table: 'nope' }), (err) => err.code === 'KPI_SOURCE' && /nope/.test(err.message))
  assert.deepEqual(await pg.registerPostgresModels(dsn), [])
})
