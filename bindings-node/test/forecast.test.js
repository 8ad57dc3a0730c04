'use strict'
// Forecasts and trends through the package: rows, Arrow, models, the baseline, and bad input.

const test = require('node:test')
const assert = require('node:assert/strict')
const { tableFromIPC } = require('apache-arrow')
const ke = require('..')

const cat = ke.Catalog.standard()
const data = ke.demo.generate(cat, { rows: 6000, seed: 8, start: '2022-01-01', end: '2025-01-01' })
const engine = new ke.Engine(cat, { timezone: 'UTC' })
for (const [name, table] of Object.entries(data)) engine.register(name, table)

test('a monthly forecast per region has rows, Arrow columns and a model per group', async () => {
  const forecast = await engine.forecast({ kpi: 'revenue', grain: 'month', by: ['orders.region'] }, { horizon: 4 })
  assert.ok(forecast instanceof ke.Forecast)
  assert.equal(forecast.rows.length, 4 * 4)
  assert.deepEqual(Object.keys(forecast.rows[0]), ['period', 'orders.region', 'value', 'lower', 'upper'])
  assert.equal(forecast.rows[0].period, '2025-01-01T00:00:00Z')
  for (const r of forecast.rows) assert.ok(r.lower <= r.value && r.value <= r.upper)
  const table = tableFromIPC(forecast.toArrowIPC())
  assert.deepEqual(table.schema.fields.map((f) => f.name), ['period', 'orders.region', 'value', 'lower', 'upper'])
  assert.equal(table.numRows, 16)
  for (const m of forecast.models) assert.match(m.model, /^ETS\(A,(N|A|Ad),(N|A)\)$/)
  assert.equal(forecast.json.groups[0].history.length, 36)
})

test('the seasonal naive baseline repeats last year', async () => {
  const forecast = await engine.forecast({ kpi: 'order_count', grain: 'month' }, { horizon: 2, method: 'seasonal_naive' })
  const group = forecast.json.groups[0]
  assert.equal(group.model, 'seasonal naive')
  assert.deepEqual(group.forecast.map((f) => f.value), group.history.slice(-12, -10).map((h) => h.value))
})

test('trends and plain series', async () => {
  const report = await engine.trend({ kpi: 'order_count', grain: 'month' }, { window: 12 })
  assert.equal(report.groups[0].observed, 12)
  assert.equal(typeof report.groups[0].p_value, 'number')
  const series = ke.forecastSeries([10, 11, null, 13, 14, 15, 16], { horizon: 2, seasonLength: 1 })
  assert.equal(series.missing, 1)
  assert.equal(series.points.length, 2)
})

test('bad forecasts get typed errors', async () => {
  await assert.rejects(engine.forecast({ kpi: 'revenue', grain: 'year' }), (e) => e instanceof ke.DataError && e.code === 'KPI_FORECAST' && /needs at least/.test(e.message))
  await assert.rejects(engine.forecast({ kpi: 'revenue' }), (e) => e instanceof ke.QueryError && /grain/.test(e.message))
  await assert.rejects(engine.forecast({ kpi: 'revenue', grain: 'month' }, { horizon: 1e8 }), (e) => e instanceof ke.QueryError && /horizon/.test(e.message))
  await assert.rejects(engine.forecast({ kpi: 'revenue', grain: 'month' }, { horizn: 3 }), (e) => e instanceof ke.QueryError && /horizn/.test(e.message))
  assert.throws(() => ke.forecastSeries([1, 2, 3]), (e) => e instanceof ke.DataError && /the series has 3/.test(e.message))
  assert.throws(() => ke.forecastSeries(['a', 'b']), (e) => e instanceof ke.QueryError && /numbers/.test(e.message))
  await assert.rejects(engine.trend({ kpi: 'revenue', grain: 'month' }, { window: 2 }), (e) => e instanceof ke.QueryError)
})

test('compare against last year, the previous period or a range', async () => {
  const current = ['2024-04-01', '2024-07-01']
  const year = await engine.compare({ kpi: 'revenue', by: ['orders.region'] }, current, 'last_year')
  assert.equal(year.previous.start, '2023-04-01T00:00:00Z')
  assert.equal(year.rows.length, 4)
  const before = await engine.compare({ kpi: 'revenue' }, current)
  assert.equal(before.previous.start, '2024-01-01T00:00:00Z')
  const range = await engine.compare({ kpi: 'revenue' }, current, ['2022-01-01', '2022-04-01'])
  assert.equal(range.previous.end, '2022-04-01T00:00:00Z')
  await assert.rejects(engine.compare({ kpi: 'revenue' }, current, 'last_week'), (e) => e instanceof ke.QueryError && /not a baseline/.test(e.message))
})
