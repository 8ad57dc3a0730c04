'use strict'
// KPI definitions created, changed and removed in a running engine.

const test = require('node:test')
const assert = require('node:assert/strict')
const ke = require('..')

const cat = ke.Catalog.standard()
const data = ke.demo.generate(cat, { rows: 3000, seed: 4, start: '2024-01-01', end: '2024-07-01' })

function engine() {
  const engine = new ke.Engine(cat)
  for (const [name, table] of Object.entries(data)) engine.register(name, table)
  return engine
}

const total = async (engine, kpi) => (await engine.calculate({ kpi, start: '2024-01-01', end: '2024-07-01' })).rows[0].value

test('define, change and remove KPIs; refused changes change nothing', async () => {
  const e = engine()
  const created = await e.defineKpi({ code: 'web_orders', name: 'Web orders', formula: "count(orders where orders.channel = 'web')" })
  assert.equal(created.action, 'created')
  assert.ok((await total(e, 'web_orders')) > 0)
  assert.equal(e.catalog.kpi('web_orders').name, 'Web orders')

  const revenue = await total(e, 'revenue')
  const updated = await e.defineKpi({ ...e.catalog.kpi('revenue'), formula: "sum(orders.order_value where orders.status != 'cancelled') * 2" })
  assert.ok(updated.affected.includes('average_order_value'))
  assert.ok(Math.abs((await total(e, 'revenue')) - revenue * 2) < 1e-6 * revenue)
  assert.ok(e.dependants('revenue').includes('average_order_value'))

  await assert.rejects(e.defineKpi({ ...e.catalog.kpi('revenue'), formula: 'sum(orders.ordr_value)' }), (err) => err instanceof ke.CatalogError && /ordr_value/.test(err.message))
  await assert.rejects(e.defineKpi({ code: 'x' }), (err) => err instanceof ke.CatalogError)
  await assert.rejects(e.removeKpi('revenue'), (err) => err instanceof ke.CatalogError && err.code === 'KPI_DEFINITION' && /average_order_value/.test(err.message))
  const removed = await e.removeKpi('revenue', { cascade: true })
  assert.ok(removed.removed.includes('average_order_value'))
  await assert.rejects(e.calculate({ kpi: 'revenue' }), (err) => err instanceof ke.FormulaError)
})

test('subscribers get a fresh snapshot of the new definition', async () => {
  const e = engine()
  const seen = []
  const stop = e.subscribe({ kpi: 'order_count', grain: 'month', start: '2024-01-01', end: '2024-07-01' }, (u) => seen.push(u))
  const until = async (n) => {
    for (let i = 0; i < 100 && seen.length < n; i++) await new Promise((r) => setTimeout(r, 50))
  }
  await until(6)
  await e.defineKpi({ ...e.catalog.kpi('order_count'), formula: 'count(orders) * 10' })
  await until(12)
  stop()
  assert.equal(seen.length, 12)
  const before = Object.fromEntries(seen.slice(0, 6).map((u) => [u.period, u.value]))
  for (const u of seen.slice(6)) {
    assert.equal(u.kind, 'snapshot')
    assert.equal(u.value, before[u.period] * 10)
  }
})

test("a client engine keeps its definitions in its configuration", async () => {
  const e = new ke.Engine(cat, { client: ke.ClientConfig.fromJson({ id: 'acme', name: 'Acme' }) })
  await e.defineKpi({ code: 'web_orders', name: 'Web orders', formula: "count(orders where orders.channel = 'web')" })
  const saved = e.clientConfig().toJSON()
  assert.deepEqual(saved.custom_kpis.map((k) => k.code), ['web_orders'])
  assert.ok(ke.ClientConfig.fromJson(saved) instanceof ke.ClientConfig)
  assert.equal(new ke.Engine(cat).clientConfig(), null)
})
