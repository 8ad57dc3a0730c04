'use strict'
// Data lifecycle through the package: a retention policy archiving to Parquet while queries
// read archive and active rows together, a process killed while appending whose acknowledged
// rows all come back, KPI history, and refused policies.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync, spawn } = require('node:child_process')
const ke = require('..')

const cat = ke.Catalog.standard()
const day = 86_400_000
const iso = (t) => new Date(t).toISOString().slice(0, 10)
// Three months of orders up to yesterday, so a 30-day policy archives most of them today.
const data = ke.demo.generate(cat, { rows: 2000, seed: 8, start: iso(Date.now() - 90 * day), end: iso(Date.now() - day) })
const policy = (days, archive) => {
  const rule = { retention_period: days, retention_unit: 'days', archival_enabled: archive, archival_period: 1, archival_unit: 'years' }
  return { staged_source_data: rule, analytics_data: rule }
}
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'kpi-lifecycle-'))
const values = (result) => result.rows.map((r) => [r.period, r.value])
const close = (a, b) => {
  assert.equal(a.length, b.length)
  a.forEach(([p, v], i) => {
    assert.equal(p, b[i][0])
    assert.ok(Math.abs(v - b[i][1]) <= 1e-9 * Math.max(1, Math.abs(v)), `${p}: ${v} vs ${b[i][1]}`)
  })
}

test('a policy archives old rows; calculations read archive and active rows together', async () => {
  const dataDir = tmp()
  const engine = new ke.Engine(cat, { dataDir, retentionPolicy: policy(30, true) })
  for (const [name, table] of Object.entries(data)) engine.register(name, table)
  const query = { grain: 'month', start: iso(Date.now() - 120 * day), end: iso(Date.now() + day) }
  const before = values(await engine.calculate({ kpi: 'revenue', ...query }))
  const plan = engine.retentionPlan()
  const orders = plan.releases.find((r) => r.object_model === 'orders')
  assert.equal(orders.action, 'archive')
  assert.ok(orders.rows > 0 && orders.periods.length >= 2)
  const report = await engine.applyRetention()
  assert.equal(report.models.find((m) => m.object_model === 'orders').archived_rows, orders.rows)
  close(values(await engine.calculate({ kpi: 'revenue', ...query })), before)
  const active = values(await engine.calculate({ kpi: 'revenue', ...query, activeOnly: true }))
  assert.ok(active[0][1] === null || active[0][1] < before[0][1], 'the archived month is left out of active data')
  const index = engine.archiveIndex()
  assert.ok(index.entries.every((e) => e.sha256.length === 64 && fs.existsSync(path.join(dataDir, 'archive', e.file))))
  const storage = engine.storage().models.find((m) => m.object_model === 'orders')
  assert.equal(storage.hot_rows + storage.cold_rows, 2000)
  assert.equal(engine.dataDir, dataDir)
  await engine.close()
  // Reopened in the same process after close: the tables and the archive are back.
  const again = new ke.Engine(cat, { dataDir })
  close(values(await again.calculate({ kpi: 'revenue', ...query })), before)
  await again.close()
})

test('a process killed while appending loses none of the appends it acknowledged', async () => {
  const dataDir = tmp()
  const child = spawn(process.execPath, ['-e', `
    const ke = require(${JSON.stringify(path.join(__dirname, '..'))})
    const cat = ke.Catalog.standard()
    const engine = new ke.Engine(cat, { dataDir: ${JSON.stringify(dataDir)} })
    let n = 0
    for (;;) {
      const t = new Date(Date.now() - 3600_000).toISOString()
      engine.append('orders', [{ order_id: n, customer_id: 1, ordered_at: t, status: 'completed', channel: 'web', region: 'north', order_value: 1, discount: 0 }])
      process.stdout.write(n + '\\n')
      n += 1
    }
  `], { stdio: ['ignore', 'pipe', 'inherit'] })
  let acknowledged = -1
  await new Promise((resolve) => {
    let buffered = ''
    child.stdout.on('data', (chunk) => {
      buffered += chunk
      const lines = buffered.split('\n')
      buffered = lines.pop()
      if (lines.length) acknowledged = Number(lines[lines.length - 1])
      if (acknowledged >= 200) {
        child.kill('SIGKILL')
        resolve()
      }
    })
  })
  await new Promise((resolve) => child.on('exit', resolve))
  const engine = new ke.Engine(cat, { dataDir })
  const count = (await engine.calculate({ formula: 'count(orders)' })).rows[0].value
  // Every acknowledged append is back, once; at most the one in flight besides.
  assert.ok(count >= acknowledged + 1 && count <= acknowledged + 2, `${count} rows, ${acknowledged + 1} acknowledged`)
  const distinct = (await engine.calculate({ formula: 'count_distinct(orders.order_id)' })).rows[0].value
  assert.equal(distinct, count, 'no append twice')
  await engine.close()
})

test('KPI history records revisions of what is calculated', async () => {
  const engine = new ke.Engine(cat, { history: true })
  for (const [name, table] of Object.entries(data)) engine.register(name, table)
  const result = await engine.calculate({ kpi: 'revenue', grain: 'month' })
  assert.ok(engine.recordHistory(result) > 0)
  assert.equal(engine.recordHistory(result), 0, 'unchanged values are not recorded again')
  const rows = await engine.history('revenue', { grain: 'month' })
  assert.ok(rows.length > 0 && rows.every((r) => r.revision === 1 && r.kpi === 'revenue'))
  await assert.rejects(engine.history('revenue', { start: '2024-01-01' }), (e) => e instanceof ke.QueryError)
})

test('a policy that breaks a regulation it names is refused with the rule', () => {
  const sox = { ...policy(90, false), compliance: ['sox'] }
  assert.throws(() => new ke.Engine(cat, { retentionPolicy: sox }), (e) => e instanceof ke.QueryError && e.code === 'KPI_RETENTION' && /SOX/.test(e.message))
  const engine = new ke.Engine(cat)
  assert.throws(() => engine.setRetentionPolicy(policy(90, true)), (e) => e.code === 'KPI_RETENTION' && /no archive location/.test(e.message))
  assert.throws(() => engine.setRetentionPolicy({ staged_source_data: 3 }), (e) => e instanceof ke.QueryError)
})
