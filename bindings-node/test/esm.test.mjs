// The package from ESM, with an apache-arrow Table registered directly.
import test from 'node:test'
import assert from 'node:assert/strict'
import { tableFromIPC } from 'apache-arrow'
import { Catalog, Engine, demo } from 'kpi-engine'

test('ESM import, apache-arrow tables in and out', async () => {
  const cat = Catalog.standard()
  const data = demo.generate(cat, { rows: 500, seed: 1, start: '2024-01-01', end: '2024-03-01' })
  const engine = new Engine(cat)
  for (const [name, ipc] of Object.entries(data)) engine.register(name, tableFromIPC(ipc))
  const res = await engine.calculate({ kpi: 'revenue', grain: 'month' })
  assert.equal(tableFromIPC(res.toArrowIPC()).numRows, 2)
})
