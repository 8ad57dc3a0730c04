'use strict'
// The API a Rust user has, through Node: query documents (security, formulas, calendars), bad
// input with the same codes as Rust and Python, AbortSignal, registration off the event loop,
// files, comparisons, schedules, client configurations, catalog edits, Arrow tables.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const ke = require('..')

const cat = ke.Catalog.standard()
const data = ke.demo.generate(cat, { rows: 3000, seed: 7, start: '2024-01-01', end: '2025-01-01' })

function engine(options) {
  const e = new ke.Engine(cat, options)
  for (const [name, table] of Object.entries(data)) e.register(name, table)
  return e
}

const value = async (e, query) => (await e.calculate(query)).rows[0].value

test('security filters every query method', async () => {
  const e = engine()
  const security = { orders: "orders.region = 'europe'" }
  const all = await value(e, { formula: 'count(orders)' })
  const secured = await value(e, { formula: 'count(orders)', security })
  assert.ok(secured > 0 && secured < all)
  assert.match(await e.toSql({ formula: 'count(orders)', security }), /europe/)
  assert.match((await e.explain({ kpi: 'revenue', security })).logical, /europe/)
})

test('bad input is a typed error with the core\'s code', async () => {
  const e = engine()
  const cases = [
    [{ kpi: 'revenue', grian: 'month' }, 'KPI_QUERY'],
    [{ kpi: 'revenue', by: 3 }, 'KPI_QUERY'],
    [{ kpi: 'revenue', timeout: 0 }, 'KPI_OPTION'],
    [{ kpi: 'revenue', timeout: -5 }, 'KPI_OPTION'],
    [{ kpi: 'revenue', start: '2024-01-01' }, 'KPI_QUERY'],
  ]
  for (const [query, code] of cases) {
    await assert.rejects(e.calculate(query), (err) => err instanceof ke.QueryError && err.code === code && err.kind === 'query', JSON.stringify(query))
  }
  await assert.rejects(e.open({ kpi: 'revenue', grain: 'day' }, { refresh: 'sometimes' }), (err) => err.code === 'KPI_OPTION')
  for (const [options, code] of [[{ timeout: 1e20 }, 'KPI_OPTION'], [{ laneConcurrency: 0 }, 'KPI_OPTION'], [{ colour: 'red' }, 'KPI_QUERY']]) {
    assert.throws(() => new ke.Engine(cat, options), (err) => err instanceof ke.QueryError && err.code === code, JSON.stringify(options))
  }
})

test('a calendar per query', async () => {
  const e = engine()
  const res = await e.calculate({ kpi: 'revenue', grain: 'day', start: '2024-03-01', end: '2024-03-02', timezone: 'Europe/Berlin' })
  assert.equal(res.rows[0].period, '2024-02-29T23:00:00Z')
  const weeks = await e.calculate({ kpi: 'revenue', grain: 'week', start: '2024-03-01', end: '2024-04-01', weekStart: 'sunday' })
  assert.equal(new Date(weeks.rows[0].period).getUTCDay(), 0)
  const fiscal = await e.calculate({ kpi: 'revenue', grain: 'year', start: '2023-04-01', end: '2025-04-01', fiscalYearStart: 'april' })
  assert.deepEqual(fiscal.rows.map((r) => r.period), ['2023-04-01T00:00:00Z', '2024-04-01T00:00:00Z'])
  const quarter = await e.calculate({ kpi: 'revenue', grain: 'quarter', start: '2024-02-01', end: '2024-05-01', fiscalYearStart: 2 })
  assert.equal(quarter.rows[0].period, '2024-02-01T00:00:00Z')
  await assert.rejects(e.calculate({ kpi: 'revenue', grain: 'year', fiscalYearStart: 'smarch' }), { name: 'QueryError', message: /unknown month/ })
})

test('retail months of whole weeks', async () => {
  const e = engine()
  const months = await e.calculate({ kpi: 'revenue', grain: 'month', start: '2024-02-04', end: '2024-05-05', retailCalendar: 'nrf' })
  assert.deepEqual(months.rows.map((r) => r.period), ['2024-02-04T00:00:00Z', '2024-03-03T00:00:00Z', '2024-04-07T00:00:00Z'])
  const days = await e.calculate({ kpi: 'revenue', grain: 'day', start: '2024-02-04', end: '2024-03-03' })
  assert.equal(days.rows.length, 28)
  const sum = days.rows.reduce((acc, r) => acc + (r.value ?? 0), 0)
  assert.ok(Math.abs(sum - months.rows[0].value) < 1e-6 * Math.max(1, sum))
  await assert.rejects(e.calculate({ kpi: 'revenue', grain: 'month', retailCalendar: '4-4-4' }), { name: 'QueryError', message: /calendar `4-4-4`/ })
  await assert.rejects(e.calculate({ kpi: 'revenue', grain: 'month', calendarTable: { table: 'calendar', date: 'day', month: 'period' } }), {
    name: 'QueryError',
    message: /unknown object model `calendar`/
  })
})

test('an AbortSignal cancels a calculation', async () => {
  const e = engine()
  const controller = new AbortController()
  controller.abort()
  await assert.rejects(e.calculate({ kpi: 'revenue' }, { signal: controller.signal }), (err) => err.code === 'KPI_CANCELLED')
  const live = new AbortController()
  const res = await e.calculate({ kpi: 'revenue', grain: 'month' }, { signal: live.signal })
  assert.equal(res.rows.length, 12)
})

test('registration off the event loop, files, and Arrow tables', async () => {
  const e = new ke.Engine(cat)
  for (const [name, table] of Object.entries(data)) await e.registerAsync(name, table)
  const expected = await value(engine(), { formula: 'sum(orders.order_value)' })
  assert.equal(await value(e, { formula: 'sum(orders.order_value)' }), expected)
  const table = (await e.calculate({ kpi: 'revenue', grain: 'month' })).toArrow()
  assert.equal(table.numRows, 12)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpi-'))
  await assert.rejects(e.registerParquet('orders', path.join(dir, 'none.parquet')), (err) => err instanceof ke.DataError && err.code === 'KPI_READ')
})

test('compare, schedules and streams', async () => {
  const e = engine()
  const out = await e.compare({ kpi: 'revenue', by: ['orders.region'] }, ['2024-07-01', '2024-10-01'])
  assert.equal(out.previous.end, '2024-07-01T00:00:00Z')
  assert.ok(out.rows.length > 0)
  const job = await e.schedule('nightly', '0 2 * * *', [{ kpi: 'revenue' }, { kpi: 'perfect_order_rate', grain: 'day' }])
  assert.deepEqual(e.jobs().map((j) => j.id), [job.id])
  assert.equal(e.cancelJob(job.id), true)
  assert.deepEqual(e.streams(), [])
})

test('a client configuration renames its fields and adds its KPIs', async () => {
  const client = ke.ClientConfig.fromJson({
    id: 'acme', name: 'Acme', selected_kpis: ['revenue'],
    data_sources: [{ name: 'erp', kind: 'postgresql' }],
    field_mappings: [{ object_model: 'customers', column: 'segment', source: 'erp', field: 'crm.accounts.tier' }],
    custom_kpis: [{ code: 'customer_count', name: 'Customers', formula: 'count(customers)' }],
  })
  const e = new ke.Engine(cat, { client })
  assert.equal(e.catalog.kpi('customer_count').name, 'Customers')
  assert.throws(() => cat.kpi('customer_count'), ke.CatalogError)
  const { tableFromIPC, tableToIPC, Table } = require('apache-arrow')
  const customers = tableFromIPC(data.customers)
  const renamed = new Table(Object.fromEntries(customers.schema.fields.map((f) => [f.name === 'segment' ? 'tier' : f.name, customers.getChild(f.name)])))
  e.register('customers', tableToIPC(renamed, 'stream'))
  const bySegment = await e.calculate({ kpi: 'customer_count', by: ['customers.segment'] })
  assert.ok(bySegment.rows.some((r) => r['customers.segment'] !== null))
})

test('catalog search, edits and imports', () => {
  assert.ok(cat.search('churn')[0].kpi.code)
  const mine = ke.Catalog.fromYaml(cat.toYaml())
  mine.addKpi({ code: 'web_orders', name: 'Web orders', formula: "count(orders where orders.channel = 'web')" })
  assert.equal(mine.kpi('web_orders').name, 'Web orders')
  assert.throws(() => cat.kpi('web_orders'), ke.CatalogError)
  assert.deepEqual(mine.importSql([{ code: 'completed_value', query: "SELECT SUM(order_value) FROM orders WHERE status = 'completed'" }]), ['completed_value'])
  assert.deepEqual(mine.problems(), [])
  assert.throws(() => mine.addKpi({ code: 'x' }), (err) => err instanceof ke.CatalogError && err.kind === 'catalog')
})

test('each result says its path through the cache', async () => {
  const e = engine()
  const query = { kpi: 'revenue', grain: 'day', by: ['orders.region'], start: '2024-01-01', end: '2024-07-01' }
  assert.equal((await e.calculate(query)).cacheOutcome, 'full')
  assert.equal((await e.calculate(query)).cacheOutcome, 'hit')
  e.append('orders', ke.demo.generate(cat, { rows: 50, seed: 7, start: '2024-06-03', end: '2024-06-04' }).orders)
  assert.equal((await e.calculate(query)).cacheOutcome, 'patched')
})
