'use strict'
// PostgreSQL tables as object models through the Node package: orders in a throwaway server
// (postgres-server.js), the numbers compared with the same rows registered in memory.

const test = require('node:test')
const assert = require('node:assert/strict')
const ke = require('..')
const { rows, startServer, loadOrders } = require('./postgres-server')

test('a PostgreSQL table gives the in-memory numbers; bad sources reject without the password', async (t) => {
  const server = startServer(t)
  const { port, dsn } = server
  loadOrders(server, 'shop_orders')

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

test('a feed follows new rows into subscriptions and resumes from its checkpoint', async (t) => {
  const server = startServer(t)
  loadOrders(server, 'feed_orders')
  const fs = require('node:fs')
  const os = require('node:os')
  const path = require('node:path')
  const checkpoint = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kpi-feed-')), 'orders.json')
  const e = new ke.Engine(ke.Catalog.standard())
  const options = { table: 'feed_orders', columns: { order_value: 'amount' }, pollInterval: '50ms', checkpoint }
  const feed = await e.followPostgres('orders', server.dsn, options)
  const count = async () => (await e.calculate({ formula: 'count(orders)' })).rows[0].value
  assert.equal(await count(), rows.length)
  const sub = await e.open({ formula: 'count(orders)' })
  server.psql(
    'CREATE TABLE feed_new AS SELECT * FROM feed_orders LIMIT 3; ' +
      "UPDATE feed_new SET order_id = order_id + 1000000, ordered_at = (SELECT max(ordered_at) FROM feed_orders) + interval '1 minute'; " +
      'INSERT INTO feed_orders SELECT * FROM feed_new; DROP TABLE feed_new',
  )
  const started = Date.now()
  for (;;) {
    const batch = await sub.next(5000)
    assert.ok(batch, 'an update within 5 s')
    if (batch.updates.some((u) => u.value === rows.length + 3)) break
  }
  assert.ok(Date.now() - started < 5000)
  sub.close()
  assert.equal((await feed.status()).errors, 0)
  await feed.stop()
  assert.equal(await feed.status(), null)
  const resumed = await e.followPostgres('orders', server.dsn, options)
  assert.equal((await resumed.status()).rows_appended, 0)
  assert.equal(await count(), rows.length + 3)
  await resumed.stop()
  await assert.rejects(e.followPostgres('orders', server.dsn, { table: 'feed_orders', pollInterval: 'soon' }), (err) => err.code === 'KPI_OPTION')
})
