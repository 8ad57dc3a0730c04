'use strict'
// CSV where users keep it: a hive-partitioned directory (`region=<r>/`), a glob, and a URL served
// by a loopback HTTP server started here (byte ranges, as object stores serve them).

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const ke = require('..')
const { rows: allRows } = require('./postgres-server')

const cat = ke.Catalog.standard()
const rows = allRows.filter((r) => r.region !== null)
const query = { kpi: 'revenue', grain: 'month', by: ['orders.region'], start: '2024-01-01', end: '2024-03-01' }
const columns = Object.keys(rows[0])

const csv = (list, names) => [names.join(','), ...list.map((r) => names.map((c) => (r[c] === null ? '' : String(r[c]))).join(','))].join('\n') + '\n'

async function expected() {
  const e = new ke.Engine(cat)
  e.register('orders', rows)
  return (await e.calculate(query)).rows
}

test('hive partitions and globs read as one table', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpi-files-'))
  for (const region of new Set(rows.map((r) => r.region))) {
    fs.mkdirSync(path.join(dir, 'hive', `region=${region}`), { recursive: true })
    const part = rows.filter((r) => r.region === region)
    fs.writeFileSync(path.join(dir, 'hive', `region=${region}`, 'part.csv'), csv(part, columns.filter((c) => c !== 'region')))
  }
  fs.mkdirSync(path.join(dir, 'split'))
  fs.writeFileSync(path.join(dir, 'split', 'a.csv'), csv(rows.slice(0, 100), columns))
  fs.writeFileSync(path.join(dir, 'split', 'b.csv'), csv(rows.slice(100), columns))
  const want = await expected()
  const e = new ke.Engine(cat)
  await e.registerCsv('orders', path.join(dir, 'hive'))
  assert.deepEqual((await e.calculate(query)).rows, want)
  await e.registerCsv('orders', path.join(dir, 'split', '*.csv'))
  assert.deepEqual((await e.calculate(query)).rows, want)
})

test('CSV over HTTP, and URLs that cannot be read', async (t) => {
  const body = Buffer.from(csv(rows, columns))
  const server = http.createServer((req, res) => {
    if (req.url !== '/orders.csv') return res.writeHead(404).end()
    const range = /bytes=(\d*)-(\d*)/.exec(req.headers.range ?? '')
    if (!range) return res.writeHead(200, { 'Content-Length': body.length }).end(req.method === 'HEAD' ? undefined : body)
    const start = range[1] === '' ? body.length - Number(range[2]) : Number(range[1])
    const end = range[1] !== '' && range[2] !== '' ? Math.min(Number(range[2]) + 1, body.length) : body.length
    res.writeHead(206, { 'Content-Length': end - start, 'Content-Range': `bytes ${start}-${end - 1}/${body.length}` })
    res.end(req.method === 'HEAD' ? undefined : body.subarray(start, end))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const base = `http://127.0.0.1:${server.address().port}`
  const e = new ke.Engine(cat)
  await e.registerCsv('orders', `${base}/orders.csv`)
  assert.deepEqual((await e.calculate(query)).rows, await expected())

  const secret = base.replace('http://', 'http://reader:hunter2@') + '/missing.csv'
  await assert.rejects(e.registerCsv('orders', secret), (err) => {
    assert.ok(err instanceof ke.DataError && err.code === 'KPI_READ', String(err))
    assert.match(err.message, /missing\.csv/)
    assert.doesNotMatch(err.message, /hunter2/)
    return true
  })
  await assert.rejects(e.registerParquet('orders', 'ftp://example.com/o.parquet'), /unsupported URL scheme/)
})
