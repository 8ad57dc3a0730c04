'use strict'
// Inputs at the edges of time and size, through Node: each is a typed KpiError within a
// second, never a crash of the process or a hang.

const test = require('node:test')
const assert = require('node:assert/strict')
const ke = require('..')

const cat = ke.Catalog.standard()
const data = ke.demo.generate(cat, { rows: 2000, seed: 3, start: '2024-01-01', end: '2024-03-01' })

function engine(catalog = cat, options) {
  const e = new ke.Engine(catalog, options)
  for (const [name, table] of Object.entries(data)) e.register(name, table)
  return e
}

async function quickly(f, ErrorClass, code) {
  const started = Date.now()
  await assert.rejects(async () => f(), (err) => {
    assert.ok(err instanceof ErrorClass, `${err.name}: ${err.message}`)
    assert.ok(err instanceof ke.KpiError)
    assert.equal(err.code, code, err.message)
    return true
  })
  assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`)
}

test('times and windows beyond the supported years', async () => {
  const e = engine()
  await quickly(() => e.calculate({ kpi: 'revenue', grain: 'day', start: '2024-01-01', end: '+262142-12-31T12:00' }), ke.QueryError, 'KPI_QUERY')
  await quickly(() => e.calculate({ kpi: 'revenue', grain: 'week', start: '-262143-01-01', end: '2024-01-01' }), ke.QueryError, 'KPI_QUERY')
  await quickly(() => e.calculate({ formula: "rolling(count(orders), '100000000 days')", grain: 'day' }), ke.FormulaError, 'KPI_FORMULA')
})

test('a row stamped at the end of time', async () => {
  const e = engine()
  const model = cat.objectModels().find((m) => m.code === 'orders')
  const row = Object.fromEntries(model.columns.map((c) => [c.name, null]))
  const at = (ordered_at) => [{ ...row, order_id: 1, customer_id: 1, ordered_at, order_value: 1, status: 'completed' }]
  // Past what Arrow's JSON reader parses, and past the years the engine calculates.
  await quickly(() => e.append('orders', at('+262142-12-31T00:00:00Z')), ke.DataError, 'KPI_SCHEMA')
  await quickly(() => e.append('orders', at('9999-12-31T00:00:00Z')), ke.DataError, 'KPI_DATA')
})

test('a timeout of 1e20 seconds', async () => {
  await quickly(() => new ke.Engine(cat, { timeout: 1e23 }), ke.QueryError, 'KPI_OPTION')
})

test('KPIs that double at every level', async () => {
  const doubling = ke.Catalog.standard()
  doubling.addKpi({ code: 'k0', name: 'k0', formula: 'count(orders)' })
  for (let i = 1; i < 30; i++) doubling.addKpi({ code: `k${i}`, name: `k${i}`, formula: `k${i - 1} + k${i - 1}` })
  const e = engine(doubling)
  await quickly(() => e.calculate({ kpi: 'k29' }), ke.FormulaError, 'KPI_FORMULA')
})

test('a result past the row limit', async () => {
  const e = engine(cat, { maxResultRows: 1000 })
  await quickly(() => e.calculate({ kpi: 'revenue', grain: 'day', by: ['orders.order_id'], start: '2024-01-01', end: '2024-03-01' }), ke.QueryError, 'KPI_QUERY')
})

test('random bytes as Arrow IPC are data errors', async () => {
  const e = engine()
  const crypto = require('node:crypto')
  const real = data.orders
  const started = Date.now()
  for (let i = 0; i < 200; i++) {
    // Garbage, a real stream cut short, or one with a byte flipped.
    const bytes = i % 3 === 0 ? crypto.randomBytes(i) : Buffer.from(real.subarray(0, (i * 7919) % real.length))
    if (i % 3 === 2 && bytes.length > 0) bytes[(i * 31) % bytes.length] ^= 0xff
    try {
      e.append('orders', bytes)
    } catch (err) {
      assert.ok(err instanceof ke.KpiError && err.kind !== 'internal', `${err.name}: ${err.message}`)
    }
  }
  // Declared lengths are checked against the bytes there are: no input allocates gigabytes.
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`)
})

test('the cache is bounded by bytes', async () => {
  const small = engine(cat, { cache: { maxBytes: 64 } })
  const roomy = engine(cat, { cache: { maxBytes: 64 << 20 } })
  for (const e of [small, roomy]) await e.calculate({ kpi: 'revenue', grain: 'day' })
  assert.deepEqual([small.cachedResults(), small.metrics().cached_bytes], [0, 0])
  assert.equal(roomy.cachedResults(), 1)
  assert.ok(roomy.metrics().cached_bytes > 0)
  assert.throws(() => new ke.Engine(cat, { cache: { maxBytes: -1 } }), ke.QueryError)
})

test('a hundred thousand dimensions are refused at once', async () => {
  const e = engine()
  await quickly(() => e.calculate({ kpi: 'revenue', by: Array(100000).fill('orders.region') }), ke.FormulaError, 'KPI_FORMULA')
})
