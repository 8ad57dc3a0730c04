'use strict'
// Semantic-layer constructs through the package, checked against the demo data read with
// apache-arrow: MAU by month (a 30-day window at month grain), date parts as dimensions and
// filters, at_start, discrete percentiles and cumulative without a grain.

const test = require('node:test')
const assert = require('node:assert/strict')
const { tableFromIPC } = require('apache-arrow')
const ke = require('..')

const cat = ke.Catalog.standard()
const data = ke.demo.generate(cat, { rows: 3000, seed: 9, start: '2024-01-01', end: '2024-07-01' })
const range = { start: '2024-01-01', end: '2024-07-01' }

function engine() {
  const engine = new ke.Engine(cat, { timezone: 'UTC' })
  for (const [name, table] of Object.entries(data)) engine.register(name, table)
  return engine
}

/** Milliseconds since the epoch of each value of a timestamp column. */
function times(table, column) {
  const col = table.getChild(column)
  return Array.from({ length: col.length }, (_, i) => Number(col.get(i)))
}

test('monthly active users by month count the 30 days ending with each month', async () => {
  const activity = tableFromIPC(data.user_activity)
  const at = times(activity, 'occurred_at')
  const users = Array.from(activity.getChild('user_id').toArray(), Number)
  const res = await engine().calculate({ kpi: 'monthly_active_users', grain: 'month', ...range })
  const want = [1, 2, 3, 4, 5, 6].map((m) => {
    const end = Date.UTC(2024, m, 1)
    const seen = new Set()
    at.forEach((t, i) => t >= end - 30 * 86400000 && t < end && seen.add(users[i]))
    return seen.size
  })
  assert.deepEqual(res.rows.map((r) => r.value), want)
})

test('date parts, at_start, discrete percentiles and a grainless cumulative', async () => {
  const e = engine()
  const orders = tableFromIPC(data.orders)
  const at = times(orders, 'ordered_at')
  const byDay = await e.calculate({ formula: 'count(orders)', by: ['dow(orders.ordered_at)'] })
  const counts = new Map()
  for (const t of at) {
    const dow = ((new Date(t).getUTCDay() + 6) % 7) + 1
    counts.set(dow, (counts.get(dow) || 0) + 1)
  }
  assert.deepEqual(
    byDay.rows.map((r) => [Number(r['dow(orders.ordered_at)']), r.value]),
    [...counts.entries()].sort((a, b) => a[0] - b[0]),
  )
  const since = await e.calculate({ formula: "count(orders) - at_start(count(orders), 'month')", grain: 'month', ...range })
  assert.deepEqual(since.rows.map((r) => r.value), [0, 0, 0, 0, 0, 0])

  // Decimal128 values arrive as four little-endian 32-bit words; these are small and positive.
  const decimals = orders.getChild('order_value')
  const values = Array.from({ length: decimals.length }, (_, i) => decimals.get(i))
    .filter((w) => w !== null)
    .map((w) => (w[0] + w[1] * 2 ** 32) / 10 ** decimals.type.scale)
    .sort((a, b) => a - b)
  const p90 = await e.calculate({ formula: 'percentile_disc(orders.order_value, 0.9)' })
  assert.equal(p90.rows[0].value, values[Math.max(1, Math.ceil(0.9 * values.length)) - 1])
  const all = await e.calculate({ formula: 'cumulative(count(orders))' })
  assert.equal(all.rows[0].value, at.length)
  await assert.rejects(e.calculate({ formula: "at_start(count(orders), 'day')", grain: 'month', ...range }), (err) => {
    assert.equal(err.code, 'KPI_FORMULA')
    assert.match(err.message, /finer than the query grain/)
    return true
  })
})

test('a dbt project imports as a catalog with what was skipped', () => {
  const root = require('node:path').join(__dirname, '..', '..', 'kpi-catalog', 'tests', 'dbt', 'shop')
  const shop = ke.Catalog.fromDbt(root)
  assert.equal(shop.kpi('revenue').formula, "sum(orders.amount where orders.status = 'completed')")
  assert.match(shop.kpi('first_orders').formula, /^coalesce\(conversions\(count\(customers\.customer_id where customers\.region = 'eu'\)/)
  assert.equal(shop.kpi('revenue_mom').formula, "revenue - prev(revenue, '1 month')")
  const fiscal = shop.skipped.find((s) => s.what === 'metric revenue_fiscal_qtd')
  assert.match(fiscal.reason, /custom granularity/)
  assert.ok(fiscal.line > 1 && fiscal.file.endsWith('metrics.yml'))
  assert.throws(() => ke.Catalog.fromDbt('/no/such/project'), (e) => e.code === 'KPI_CATALOG' || e.code === 'KPI_IO')
})

test('validateFormula locates every problem with a suggestion', () => {
  const cat = ke.Catalog.standard()
  assert.deepEqual(ke.validateFormula(cat, 'revenue / order_count'), [])
  const [problem] = ke.validateFormula(cat, 'sum(orders.ordr_value)')
  assert.deepEqual([problem.code, problem.source, problem.line, problem.column], ['unknown-column', 'formula', 1, 12])
  assert.match(problem.help, /order_value/)
  const many = cat.validateFormula('sum(orders.nope) +\n  revenu')
  assert.deepEqual(many.map((p) => p.line), [1, 2])
})
