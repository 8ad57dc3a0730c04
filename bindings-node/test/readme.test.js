'use strict'
// Every JavaScript example of README.md runs.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const Module = require('node:module')
const { startServer, loadReadmeOrders } = require('./postgres-server')

test('README examples run', async (t) => {
  // The PostgreSQL example reads orders from a throwaway server of the test's own.
  const server = startServer(t)
  loadReadmeOrders(server.port)
  process.env.KPI_POSTGRES_DSN = server.dsn
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8')
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1])
  assert.ok(blocks.length > 0)
  const lines = []
  const log = console.log
  console.log = (...args) => lines.push(args.join(' '))
  try {
    for (const block of blocks) {
      // As a module of this package, so `require('kpi-engine')` resolves to it; awaiting main().
      const filename = path.join(__dirname, 'readme.js')
      const m = new Module(filename, module)
      m.filename = filename
      m.paths = Module._nodeModulePaths(__dirname)
      m._compile(block.replace(/^main\(\)$/m, 'module.exports = main()'), m.filename)
      await m.exports
    }
  } finally {
    console.log = log
  }
  assert.ok(lines.some((l) => l === 'true KPI_FORMULA 1 12'), lines.join('\n'))
  assert.ok(lines.some((l) => l.endsWith(' true')), 'the PostgreSQL example was pushed down')
})
