'use strict'
// The package as a user imports it (CommonJS): catalog, demo data, calculations, Arrow round
// trips with apache-arrow, appends, subscriptions, pricing and every error code.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const fs = require('node:fs')
const { tableFromIPC, tableFromArrays } = require('apache-arrow')
const ke = require('..')

const cat = ke.Catalog.standard()
const data = ke.demo.generate(cat, { rows: 3000, seed: 42, start: '2024-01-01', end: '2025-01-01' })

function engine() {
  const engine = new ke.Engine(cat, { timezone: 'UTC' })
  for (const [name, table] of Object.entries(data)) engine.register(name, table)
  return engine
}

/** An order row with every column of the model; those not given are null. */
function order(id, at, value) {
  const model = cat.objectModels().find((m) => m.code === 'orders')
  const row = Object.fromEntries(model.columns.map((c) => [c.name, null]))
  return { ...row, order_id: id, customer_id: 1, ordered_at: at, order_value: value, status: 'completed' }
}

test('the catalog lists KPIs, models, modules and value chains', () => {
  assert.ok(cat.kpis().length > 50)
  assert.equal(cat.kpi('perfect_order_rate').code, 'perfect_order_rate')
  const module = cat.modules()[0].code
  assert.ok(cat.kpis({ module }).length > 0)
  assert.ok(cat.valueChains().length > 0)
  assert.match(JSON.stringify(cat.requiredObjects(['perfect_order_rate'])), /orders/)
  assert.match(cat.diagram(['orders']), /orders/)
})

test('calculate by month and region with a filter', async () => {
  const res = await engine().calculate({
    kpi: 'perfect_order_rate', grain: 'month', by: ['orders.region'],
    start: '2024-01-01', end: '2025-01-01', where: "orders.channel = 'web'",
  })
  assert.ok(res.rows.length > 0)
  assert.deepEqual(Object.keys(res.rows[0]), ['period', 'orders.region', 'value'], 'keys in column order')
  const table = tableFromIPC(res.toArrowIPC())
  assert.equal(table.numRows, res.rows.length)
  assert.deepEqual(table.schema.fields.map((f) => f.name), ['period', 'orders.region', 'value'])
})

test('identical calculations at once run once, and metrics count it', async () => {
  const e = engine()
  const query = { kpi: 'revenue', grain: 'day', by: ['orders.region'] }
  const results = await Promise.all(Array.from({ length: 6 }, () => e.calculate(query)))
  for (const r of results) assert.deepEqual(r.rows, results[0].rows)
  const m = e.metrics()
  assert.equal(m.calculations, 6)
  assert.equal(m.cache_hits + m.shared, 5, JSON.stringify(m))
  assert.ok(m.rows_ingested > 0)
})

test('after an append, a cached result recalculates only the days it touched', async () => {
  const e = engine()
  const query = { kpi: 'revenue', grain: 'day', start: '2024-01-01', end: '2025-01-01' }
  const before = (await e.calculate(query)).rows
  const day = ke.demo.generate(cat, { rows: 50, seed: 7, start: '2024-06-03', end: '2024-06-04' })
  e.append('orders', day.orders)
  const after = (await e.calculate(query)).rows
  assert.equal(e.metrics().cache_patches, 1)
  assert.equal(after.length, before.length)
  const changed = after.filter((r, i) => r.value !== before[i].value).map((r) => r.period)
  assert.deepEqual(changed.map((p) => new Date(p).toISOString().slice(0, 10)), ['2024-06-03'])
  // Asked again as more rows arrive: read from partial states the appends keep up to date.
  e.append('orders', ke.demo.generate(cat, { rows: 50, seed: 8, start: '2024-06-04', end: '2024-06-05' }).orders)
  const again = await e.calculate(query)
  assert.equal(again.cacheOutcome, 'maintained')
  assert.equal(e.metrics().maintained_answers, 1)
  // Sums from states add in another order than a scan: equal within rounding elsewhere.
  const moved = again.rows.filter((r, i) => Math.abs(r.value - after[i].value) > 1e-9 * Math.abs(after[i].value)).map((r) => r.period)
  assert.deepEqual(moved.map((p) => new Date(p).toISOString().slice(0, 10)), ['2024-06-04'])
})

test('demo tables are Arrow IPC and formulas agree with apache-arrow', async () => {
  const orders = tableFromIPC(data.orders)
  let sum = 0
  for (const v of orders.getChild('order_value').toArray()) sum += Number(v) / 100
  const res = await engine().calculate({ formula: 'sum(orders.order_value)' })
  assert.ok(Math.abs(res.rows[0].value - sum) < 1e-6 * sum, `${res.rows[0].value} vs ${sum}`)
})

test('rows and apache-arrow tables register and append', async () => {
  const engine = new ke.Engine(cat)
  engine.register('orders', [order(1, '2024-01-05T00:00:00Z', 10), order(2, '2024-02-05T00:00:00Z', 20)])
  const report = engine.append('orders', [order(3, '2024-01-09T00:00:00Z', 5)])
  assert.deepEqual(report, { rows: 1, lateRows: 1, beyondLateness: 0, futureRows: 0 })
  const res = await engine.calculate({ formula: 'sum(orders.order_value)', grain: 'month' })
  assert.deepEqual(res.rows.map((r) => r.value), [15, 20])
  const ipc = tableFromIPC((await engine.calculate({ formula: 'count(orders)' })).toArrowIPC())
  assert.equal(Number(ipc.getChild('value').get(0)), 3)
})

test('explain, SQL and a dashboard that keeps going past a bad KPI', async () => {
  const engine1 = engine()
  const plans = await engine1.explain({ kpi: 'revenue', grain: 'month' })
  assert.match(plans.logical, /Aggregate/)
  assert.match(await engine1.toSql({ kpi: 'revenue', grain: 'month' }, 'postgres'), /date_trunc/i)
  const board = await engine1.dashboard([{ kpi: 'revenue', grain: 'month' }, { kpi: 'nope', grain: 'month' }])
  assert.equal(board.items[0].ok, true)
  assert.equal(board.items[1].error.code, 'KPI_FORMULA')
  // Two KPIs over the same orders by month: one shared plan, each result the one it has alone.
  const both = await engine1.dashboard([{ kpi: 'order_count', grain: 'month' }, { kpi: 'perfect_order_rate', grain: 'month' }])
  assert.equal(engine1.metrics().shared_scans, 2)
  const alone = await engine().calculate({ kpi: 'order_count', grain: 'month' })
  const values = (rows) => rows.map((r) => r.value)
  assert.deepEqual(values(both.items[0].result.rows), values(alone.rows))
})

test('every error code arrives as a typed Error', async () => {
  const engine1 = engine()
  await assert.rejects(engine1.calculate({ formula: 'sum(orders.ordr_value)' }), (e) => {
    assert.ok(e instanceof ke.FormulaError && e instanceof ke.KpiError && e instanceof Error)
    assert.equal(e.code, 'KPI_FORMULA')
    assert.deepEqual([e.line, e.column, e.start, e.end], [1, 12, 11, 21])
    assert.match(e.message, /order_value/)
    return true
  })
  await assert.rejects(engine1.calculate({ kpi: 'revenue', grain: 'fortnight' }), { code: 'KPI_QUERY', name: 'QueryError' })
  await assert.rejects(engine1.calculate({ kpi: 'revenue', start: '2024-01-01' }), { code: 'KPI_QUERY' })
  await assert.rejects(engine1.toSql({ kpi: 'revenue' }, 'cobol'), { code: 'KPI_OPTION' })
  assert.throws(() => cat.kpi('perfect_ordr_rate'), { code: 'KPI_CATALOG', name: 'CatalogError' })
  assert.throws(() => ke.Catalog.fromYaml('kpis: [ {code: x, formula: '), { code: 'KPI_CATALOG' })
  const empty = new ke.Engine(cat)
  await assert.rejects(empty.calculate({ kpi: 'revenue' }), { code: 'KPI_DATA', name: 'DataError' })
  assert.throws(() => empty.register('nope', [{ x: 1 }]), { code: 'KPI_CATALOG' })
  assert.throws(() => empty.register('orders', [{ ...order(1, '2024-01-01T00:00:00Z', 1), order_value: 'x' }]), { code: 'KPI_SCHEMA' })
  assert.throws(() => empty.register('orders', Buffer.from('not arrow')), { code: 'KPI_DATA' })
  assert.throws(() => empty.register('orders', 42), { code: 'KPI_DATA' })
  assert.throws(() => new ke.Engine(cat, { timezone: 'Mars/Olympus' }), { code: 'KPI_QUERY' })
  assert.throws(() => ke.pricing.price(cat, { kpis: ['revenue'], answers: { license_term: 4 } }), { name: 'PricingError' })
})

test('limits: memory and time', async () => {
  const heavy = {
    formula: 'count_distinct(order_lines.product_id) / count_distinct(order_lines.order_id)',
    grain: 'day',
    by: ['order_lines.order.region', 'order_lines.order.channel'],
  }
  const small = new ke.Engine(cat, { memoryLimit: 16 * 1024 })
  for (const [name, table] of Object.entries(data)) small.register(name, table)
  await assert.rejects(small.calculate(heavy), { code: 'KPI_MEMORY', name: 'CalculationError' })
  const hurried = new ke.Engine(cat, { timeoutMs: 1 })
  for (const [name, table] of Object.entries(data)) hurried.register(name, table)
  await assert.rejects(hurried.calculate(heavy), { code: 'KPI_TIMEOUT', name: 'CalculationError' })
})

test('subscriptions: a snapshot, then changes, by callback and async iterator', async () => {
  const engine1 = new ke.Engine(cat)
  engine1.register('orders', [order(1, '2024-01-01T10:00:05Z', 10)])
  const seen = []
  let resolve
  const changed = new Promise((r) => (resolve = r))
  const stop = engine1.subscribe({ kpi: 'revenue', grain: 'minute' }, (u) => {
    seen.push([u.kind, u.value])
    if (u.kind === 'change') resolve()
  })
  await new Promise((r) => setTimeout(r, 200))
  engine1.append('orders', [order(2, '2024-01-01T10:00:30Z', 5)])
  await changed
  stop()
  assert.deepEqual(seen, [['snapshot', 10], ['change', 15]])

  const values = []
  for await (const u of engine1.updates({ kpi: 'revenue', grain: 'hour' })) {
    values.push(u.value)
    if (values.length === 1) engine1.append('orders', [order(3, '2024-01-01T10:05:00Z', 1)])
    else break
  }
  assert.deepEqual(values, [15, 16])
})

test('pricing: the specification proposal', () => {
  const answers = fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'proposal', 'answers.yaml'), 'utf8')
  const p = ke.pricing.price(cat, { kpis: ['perfect_order_rate', 'on_time_delivery_rate', 'new_customers'], answers })
  assert.equal(p.toJSON().licensing.annualTotal, 65000)
  assert.match(p.toMarkdown(), /Acme Retail/)
  assert.ok(ke.pricing.questionnaire().steps.length > 0)
})
