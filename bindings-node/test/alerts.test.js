'use strict'
// Alerts and reports through the package: a rule firing into a webhook started here (signed,
// retried), a mail notifier on an SMTP sink started here, events as an async iterator, reports
// as CSV and PDF, and bad rules and reports refused as QueryErrors.

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const http = require('node:http')
const net = require('node:net')
const ke = require('..')

const cat = ke.Catalog.standard()
const data = ke.demo.generate(cat, { rows: 2000, seed: 5, start: '2024-01-01', end: '2024-04-01' })
const fresh = () => {
  const engine = new ke.Engine(cat, { timezone: 'UTC' })
  for (const [name, table] of Object.entries(data)) engine.register(name, table)
  return engine
}

/** A webhook receiver answering each request with the next status of `statuses` (then 200). */
async function receiver(statuses) {
  const requests = []
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString() })
      res.statusCode = statuses.shift() ?? 200
      res.end('ok')
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${server.address().port}/hook`, requests, close: () => server.close() }
}

/** An SMTP sink keeping every message. */
async function smtpSink() {
  const mails = []
  const server = net.createServer((socket) => {
    socket.write('220 sink\r\n')
    let buffer = ''
    let data = null
    socket.on('data', (chunk) => {
      buffer += chunk.toString()
      let at
      while ((at = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, at)
        buffer = buffer.slice(at + 2)
        if (data !== null) {
          if (line === '.') {
            mails.push(data)
            data = null
            socket.write('250 kept\r\n')
          } else data += line + '\n'
          continue
        }
        const verb = line.slice(0, 4).toUpperCase()
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250-sink\r\n250 8BITMIME\r\n')
        else if (verb === 'DATA') {
          data = ''
          socket.write('354 go on\r\n')
        } else if (verb === 'QUIT') socket.end('221 bye\r\n')
        else socket.write('250 ok\r\n')
      }
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: server.address().port, mails, close: () => server.close() }
}

const until = async (done, ms = 15000) => {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (done()) return true
    await new Promise((r) => setTimeout(r, 25))
  }
  return done()
}

test('a rule fires into a signed webhook, retried until it answers', async () => {
  const hook = await receiver([500])
  const engine = fresh()
  const notifier = await engine.addNotifier({ name: 'ops', webhook: hook.url, secret: 's3cret', retries: 2, backoff: 10 })
  assert.equal(notifier.spec.secret, '***')
  const events = engine.alertEvents()
  const rule = await engine.addAlertRule({ name: 'many orders', kpi: 'order_count', grain: 'month', when: 'above', warning: 1, critical: 2, for: 0 })
  assert.equal(rule.when, 'above')
  const fired = await events.next(15000)
  assert.equal(fired.event, 'fired')
  assert.equal(fired.level, 'critical')
  assert.equal(fired.kpi, 'order_count')
  assert.ok(await until(() => hook.requests.length === 2), `${hook.requests.length} requests`)
  const { headers, body } = hook.requests[1]
  const [, t, v1] = /^t=(\d+),v1=([0-9a-f]+)$/.exec(headers['x-kpi-signature'])
  const expected = crypto.createHmac('sha256', 's3cret').update(`${t}.${body}`).digest('hex')
  assert.equal(v1, expected)
  assert.equal(headers['x-kpi-event'], 'alert.fired')
  assert.equal(JSON.parse(body).rule, 'many orders')
  assert.equal(engine.alerts()[0].level, 'critical')
  assert.ok(engine.alertHistory().length >= 1)
  assert.ok(await until(() => engine.notifiers()[0].delivered === 1))
  events.close()
  assert.equal(await events.next(10), null)
  assert.equal(engine.removeAlertRule('many orders'), true)
  assert.deepEqual(engine.alerts(), [])
  hook.close()
})

test('onAlert calls back and a mail notifier reaches an SMTP server', async () => {
  const sink = await smtpSink()
  const engine = fresh()
  engine.setMail({ host: '127.0.0.1', port: sink.port, tls: 'none', from: 'KPI <kpi@example.com>' })
  await engine.addNotifier({ name: 'mail', email: ['ops@example.com'], minLevel: 'critical' })
  const seen = []
  const stop = engine.onAlert((e) => seen.push(e))
  await engine.addAlertRule({ name: 'orders by region', kpi: 'order_count', grain: 'month', by: ['orders.region'], when: 'above', critical: 1 })
  assert.ok(await until(() => seen.length >= 4), `${seen.length} events`)
  assert.deepEqual(new Set(seen.map((e) => Object.keys(e.group)[0])), new Set(['orders.region']))
  assert.ok(await until(() => sink.mails.length >= 4))
  assert.match(sink.mails[0], /Subject: \[KPI critical\] orders by region/)
  stop()
  sink.close()
})

test('bad rules, notifiers and reports are QueryErrors that say why', async () => {
  const engine = fresh()
  await assert.rejects(engine.addAlertRule({ name: 'x', kpi: 'revenue', when: 'above', warning: 10, critical: 5 }),
    (e) => e instanceof ke.QueryError && e.code === 'KPI_ALERT' && /contradicting thresholds/.test(e.message))
  await assert.rejects(engine.addAlertRule({ name: 'x', kpi: 'nope' }), (e) => e instanceof ke.CatalogError)
  await assert.rejects(engine.addAlertRule({ name: 'x', when: 'source_stale', source: 'orders' }), /needs `after`/)
  await assert.rejects(engine.addAlertRule({ name: 'x', kpi: 'revenue', colour: 'red' }), /unknown field `colour`/)
  await assert.rejects(engine.addAlertRule(null), (e) => e instanceof ke.QueryError)
  await assert.rejects(engine.addNotifier({ name: 'x', webhook: 'ftp://example.com' }), /http or https/)
  await assert.rejects(engine.addNotifier({ name: 'x', email: ['a@example.com'] }), /set_mail/)
  assert.throws(() => engine.setMail({ host: 'x', from: 'not an address' }), (e) => e instanceof ke.QueryError)
  const many = Array.from({ length: 10000 }, (_, i) => `k${i}`)
  await assert.rejects(engine.addReport({ name: 'big', kpis: many }), (e) => e.code === 'KPI_REPORT' && /more than a report may name/.test(e.message))
  await assert.rejects(engine.addReport({ name: 'r', kpis: ['revenue'], schedule: '61 * * * *' }), /not a cron schedule/)
  await assert.rejects(engine.addReport({ name: 'r', kpis: ['revenue'], timezone: 'Nowhere/Land' }), /Nowhere\/Land/)
  await assert.rejects(engine.runReport(42), (e) => e.code === 'KPI_REPORT')
})

test('reports render as CSV and PDF, and run with their runs recorded', async () => {
  const engine = fresh()
  const csv = await engine.renderReport({ name: 'Q1', kpis: ['revenue', 'order_count'], grain: 'month', range: { start: '2024-01-01', end: '2024-04-01' }, format: 'csv' })
  assert.equal(csv.contentType, 'text/csv')
  assert.equal(csv.filename, 'q1-2024-01-01.csv')
  const lines = csv.data.toString().trim().split('\n')
  assert.equal(lines[0], 'kpi,name,period,value,status')
  assert.equal(lines.length, 1 + 2 * 3)
  const result = await engine.calculate({ kpi: 'revenue', grain: 'month', start: '2024-01-01', end: '2024-04-01' })
  assert.equal(Number(lines[1].split(',')[3]), result.rows[0].value)
  const report = await engine.addReport({ name: 'Weekly', kpis: ['revenue'], grain: 'week', range: 'last_7_days', format: 'pdf', schedule: '0 7 * * 1', timezone: 'Europe/Berlin' })
  assert.ok(report.id > 0)
  assert.match(report.next_run, /T0[56]:00:00\+00:00$/)
  const run = await engine.runReport(report.id)
  assert.equal(run.contentType, 'application/pdf')
  assert.equal(run.data.subarray(0, 5).toString(), '%PDF-')
  assert.equal(run.run.ok, true)
  assert.equal(engine.reportRuns(report.id).length, 1)
  assert.equal(engine.reports()[0].runs, 1)
  assert.equal(engine.removeReport(report.id), true)
  assert.equal(engine.report(report.id), null)
})
