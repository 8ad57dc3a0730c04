'use strict'
// Calculations on a Ballista cluster (scripts/cluster.sh: kpi-scheduler and two kpi-executors of
// the dev build) through the Node package: CSV files the executors read give the in-memory
// numbers; an unreachable scheduler and in-memory tables reject with typed errors.

const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const ke = require('..')
const { rows } = require('./postgres-server')

const script = path.join(__dirname, '..', '..', 'scripts', 'cluster.sh')
const cat = ke.Catalog.standard()

function startCluster(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpi-cluster-node-'))
  const url = execFileSync('bash', [script, 'start', dir, '2'], { encoding: 'utf8' }).trim()
  t.after(() => execFileSync('bash', [script, 'stop', dir]))
  return url
}

const freePort = () =>
  new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

test('KPIs on the cluster equal the in-memory numbers; what cannot run there rejects', async (t) => {
  const url = startCluster(t)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpi-cluster-data-'))
  const columns = Object.keys(rows[0])
  const text = [columns.join(','), ...rows.map((r) => columns.map((c) => (r[c] === null ? '' : String(r[c]))).join(','))].join('\n') + '\n'
  fs.writeFileSync(path.join(dir, 'orders.csv'), text)

  const memory = new ke.Engine(cat)
  memory.register('orders', rows)
  const remote = new ke.Engine(cat, { cluster: url })
  assert.equal(remote.cluster, url)
  assert.equal(memory.cluster, null)
  assert.equal((await remote.checkCluster()).url, url)
  await remote.registerCsv('orders', path.join(dir, 'orders.csv'))
  for (const kpi of ['revenue', 'order_count', 'average_order_value']) {
    const query = { kpi, grain: 'month', by: ['orders.region'], start: '2024-01-01', end: '2024-03-01' }
    const [a, b] = [await memory.calculate(query), await remote.calculate(query)]
    assert.deepEqual(b.rows.map(({ value, ...key }) => key), a.rows.map(({ value, ...key }) => key))
    b.rows.forEach((r, i) => assert.ok(Math.abs(r.value - a.rows[i].value) < 1e-6, `${kpi}: ${r.value} vs ${a.rows[i].value}`))
  }
  assert.ok(remote.metrics().cluster_jobs >= 3)

  const onCluster = new ke.Engine(cat, { cluster: url })
  onCluster.register('orders', rows)
  await assert.rejects(onCluster.calculate({ kpi: 'revenue', grain: 'month' }), (e) => e instanceof ke.QueryError && e.code === 'KPI_LOCAL_ONLY' && e.message.includes('`orders`'))

  const port = await freePort()
  const started = Date.now()
  const dead = new ke.Engine(cat, { cluster: `df://127.0.0.1:${port}`, clusterConnectTimeout: 2000 })
  await assert.rejects(dead.checkCluster(), (e) => e instanceof ke.DataError && e.code === 'KPI_CLUSTER' && e.message.includes(`127.0.0.1:${port}`))
  assert.ok(Date.now() - started < 5000)
  assert.throws(() => new ke.Engine(cat, { cluster: 'http://127.0.0.1:1' }), (e) => e.code === 'KPI_OPTION')
})
