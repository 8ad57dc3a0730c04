'use strict'
// A throwaway PostgreSQL server for the tests (scripts/postgres.sh: its own data directory and
// port), and 400 orders of the standard catalog's `orders` model to load into it.

const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

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

/** Runs `sql` on the server at `port` as its superuser. */
function psql(port, sql) {
  execFileSync(psqlBin, ['-q', '-h', '127.0.0.1', '-p', String(port), '-U', 'kpi', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    env: { ...process.env, PGPASSWORD: 'kpi-test' },
  })
}

const lit = (v) => (v === null ? 'NULL' : typeof v === 'number' || typeof v === 'boolean' ? String(v) : `'${v}'`)

/** Starts a server, stopped when test context `t` ends: `{ port, dsn, psql(sql) }`. */
function startServer(t) {
  if (!psqlBin) throw new Error('psql not found: run scripts/setup.sh --tests')
  const dir = fs.mkdtempSync(path.join('/tmp', 'kpi-pg-node-'))
  const port = execFileSync('bash', [script, 'start', dir]).toString().trim()
  t.after(() => execFileSync('bash', [script, 'stop', dir]))
  return { port, dsn: `postgresql://kpi:kpi-test@127.0.0.1:${port}/postgres?sslmode=disable`, psql: (sql) => psql(port, sql) }
}

/** Creates `table` with the orders (`order_value` named `amount`) and loads them. */
function loadOrders(server, table) {
  server.psql(`CREATE TABLE ${table} (${Object.entries(columns).map(([name, type]) => `${name} ${type}`).join(', ')})`)
  const values = rows.map((r) => `(${Object.keys(columns).map((c) => lit(r[c === 'amount' ? 'order_value' : c])).join(', ')})`)
  server.psql(`INSERT INTO ${table} VALUES ${values.join(', ')}`)
}

/** The README example's table: the orders as table `orders` of the model's own columns. */
function loadReadmeOrders(port) {
  const server = { psql: (sql) => psql(port, sql) }
  loadOrders(server, 'orders_source')
  server.psql('ALTER TABLE orders_source RENAME COLUMN amount TO order_value')
  server.psql('ALTER TABLE orders_source RENAME TO orders')
}

module.exports = { rows, startServer, loadOrders, loadReadmeOrders }
