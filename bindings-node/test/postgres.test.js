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
const rows = Array.from({ length: 400 }, (_, i) => ({
  order_id: i + 1,
  customer_id: (i % 37) + 1,
  ordered_at: new Date(Date.UTC(2024, 0, 1) + i * 9 * 3600 * 1000).toISOString().replace('Z', ''),
  region: regions[i % 3],
  status: i % 10 === 0 ? 'cancelled' : 'completed',
  order_value: ((i * 37) % 500) + 0.25,
}))

function psql(port, sql) {
  execFileSync(psqlBin, ['-q', '-h', '127.0.0.1', '-p', String(port), '-U', 'kpi', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    env: { ...process.env, PGPASSWORD: 'kpi-test' },
  })
}

const lit = (v) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${v}'`)

test('a PostgreSQL table gives the in-memory numbers; bad sources reject without the password', async (t) => {
  assert.ok(psqlBin, 'psql not found: run scripts/setup.sh --tests')
  const dir = fs.mkdtempSync(path.join('/tmp', 'kpi-pg-node-'))
  const port = execFileSync('bash', [script, 'start', dir]).toString().trim()
  t.after(() => execFileSync('bash', [script, 'stop', dir]))
  psql(port, 'CREATE TABLE shop_orders (order_id bigint, customer_id bigint, ordered_at timestamp, region text, status text, amount numeric(18,2))')
  const values = rows.map((r) => `(${[r.order_id, r.customer_id, r.ordered_at, r.region, r.status, r.order_value].map(lit).join(', ')})`)
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

  await assert.rejects(
    pg.registerPostgres('orders', dsn.replace('kpi-test', 'hunter2'), { table: 'shop_orders' }),
    (err) => err instanceof ke.DataError && err.code === 'KPI_SOURCE' && err.message.includes(`127.0.0.1:${port}/postgres`) && !err.message.includes('hunter2'),
  )
  await assert.rejects(pg.registerPostgres('orders', dsn, { table: 'nope' }), (err) => err.code === 'KPI_SOURCE' && /nope/.test(err.message))
  assert.deepEqual(await pg.registerPostgresModels(dsn), [])
})
