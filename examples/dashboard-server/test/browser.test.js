'use strict'
// The web page in headless Debian Chromium (playwright-core): it loads, KPI values appear, a
// live update arrives, an alert shows on the banner and its card, the catalog shows a KPI with its diagram, and a proposal renders. A
// screenshot is saved as a test artifact (KPI_ARTIFACTS, default target/artifacts).

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { chromium } = require('playwright-core')
const { Catalog, Engine, demo } = require('kpi-engine')
const { createServer } = require('../src/app')
const { demoTime } = require('../src/live')

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'
const ARTIFACTS = process.env.KPI_ARTIFACTS || path.join(__dirname, '..', '..', '..', 'target', 'artifacts')

test('the page shows live KPIs, the catalog and a proposal', { timeout: 120000 }, async () => {
  const catalog = Catalog.standard()
  const engine = new Engine(catalog)
  const now = new Date()
  const start = new Date(now.getTime() - 30 * 86400e3)
  for (const [name, ipc] of Object.entries(demo.generate(catalog, { rows: 3000, seed: 5, start: demoTime(start), end: demoTime(now) }))) {
    engine.register(name, ipc)
  }
  const server = createServer({ catalog, engine, clientsFile: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kpi-web-')), 'clients.json') })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const base = `http://127.0.0.1:${server.address().port}`
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] })
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    const problems = []
    page.on('pageerror', (e) => problems.push(e.message))
    await page.goto(base)

    // KPI values appear and the connection is live.
    await page.waitForSelector('[data-kpi="revenue"] .value[data-kpi-value]:not([data-kpi-value=""])', { timeout: 30000 })
    await page.waitForSelector('#connection.online', { timeout: 30000 })
    const before = await page.textContent('[data-kpi="revenue"] .value')

    // A live update arrives after an append.
    const more = demo.generate(catalog, { rows: 200, seed: 6, start: demoTime(new Date(now.getTime() - 3600e3)), end: demoTime(now) })
    engine.append('orders', more.orders)
    await page.waitForSelector('[data-kpi="revenue"][data-live]', { timeout: 30000 })
    assert.notEqual(await page.textContent('[data-kpi="revenue"] .value'), '—')
    assert.ok(before)
    for (const view of ['bar', 'gauge', 'sparkline', 'table', 'line']) {
      await page.click(`[data-kpi="revenue"] .views button:text("${view}")`)
    }
    assert.match(await page.textContent('[data-kpi="perfect_order_rate"] .value'), /^[\d.]+ %$/, 'ratios show as percentages')

    // Drill-down: revenue of the latest day by region as a pie, then by channel; a ratio as bars.
    await page.click('[data-kpi="revenue"] .views button:text("breakdown")')
    await page.waitForSelector('[data-kpi="revenue"] svg.breakdown path, [data-kpi="revenue"] svg.breakdown circle', { timeout: 30000 })
    assert.match(await page.textContent('[data-kpi="revenue"] .legend'), /\$/)
    await page.selectOption('[data-kpi="revenue"] select.dimension', 'orders.channel')
    await page.waitForFunction(() => /web|store|mobile|marketplace/i.test(document.querySelector('[data-kpi="revenue"] .legend')?.textContent || ''), null, { timeout: 30000 })
    await page.click('[data-kpi="perfect_order_rate"] .views button:text("breakdown")')
    await page.waitForSelector('[data-kpi="perfect_order_rate"] svg.breakdown rect', { timeout: 30000 })
    // The forecast band and the comparison.
    await page.click('[data-kpi="revenue"] .views button:text("forecast")')
    await page.waitForSelector('[data-kpi="revenue"] svg.forecast polygon.band', { timeout: 30000 })
    await page.waitForSelector('[data-kpi="revenue"] svg.forecast polyline.predicted')
    assert.match(await page.textContent('[data-kpi="revenue"] .chart'), /next day .*95%/)
    await page.click('[data-kpi="revenue"] .views button:text("line")')
    await page.click('[data-kpi="revenue"] .views button:text("forecast")')
    await page.waitForSelector('[data-kpi="revenue"] svg.forecast polygon.band', { timeout: 30000 })
    await page.click('[data-kpi="new_customers"] .views button:text("compare")')
    await page.waitForSelector('[data-kpi="new_customers"] table.compare td.change', { timeout: 30000 })
    assert.match(await page.textContent('[data-kpi="new_customers"] table.compare'), /last 7 days/)
    fs.mkdirSync(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-forecast.png'), fullPage: true })
    await page.click('[data-kpi="revenue"] .views button:text("breakdown")')
    await page.click('[data-kpi="average_order_value"] .views button:text("bar")')
    await page.click('[data-kpi="on_time_delivery_rate"] .views button:text("gauge")')
    await page.click('[data-kpi="new_customers"] .views button:text("table")')
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-views.png'), fullPage: true })

    // An alert rule on revenue fires: the banner says so and the revenue card shows its state.
    await engine.addAlertRule({ name: 'revenue watch', kpi: 'revenue', grain: 'day', when: 'above', critical: 1 })
    await page.waitForSelector('#alert-banner.critical:not([hidden])', { timeout: 30000 })
    assert.match(await page.textContent('#alert-banner'), /1 active alert: critical — revenue/)
    await page.waitForSelector('[data-kpi="revenue"].alert-critical .alert-badge:not([hidden])', { timeout: 30000 })
    assert.equal(await page.getAttribute('[data-kpi="perfect_order_rate"]', 'data-alert'), '')
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-alert.png'), fullPage: false })

    // The period choice survives a reload.
    await page.selectOption('#period', 'hour')
    await page.reload()
    await page.waitForSelector('[data-kpi="revenue"] .value[data-kpi-value]:not([data-kpi-value=""])', { timeout: 30000 })
    assert.equal(await page.inputValue('#period'), 'hour')

    // The catalog: a KPI with its formula and a rendered Mermaid diagram.
    await page.click('nav button[data-tab="catalog"]')
    await page.click('summary:text("Deliver")')
    await page.click('#tree a[data-kpi="perfect_order_rate"]')
    await page.waitForSelector('#kpi-detail code')
    await page.waitForSelector('#kpi-detail .mermaid-diagram svg', { timeout: 30000 })
    await page.click('#kpi-detail button.add-to-proposal')

    // The proposal builder renders a proposal.
    await page.click('nav button[data-tab="proposal"]')
    assert.ok(await page.isChecked('input[name="kpi"][value="perfect_order_rate"]'), 'added from the catalog')
    assert.equal(await page.textContent('#proposal-count'), '1 KPI')
    await page.click('#proposal-form button[type="submit"]')
    await page.waitForSelector('#proposal-output h1, #proposal-output h2', { timeout: 30000 })
    assert.match(await page.textContent('#proposal-output'), /Acme Retail/)

    await page.click('nav button[data-tab="dashboard"]')
    fs.mkdirSync(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true })
    assert.deepEqual(problems, [])
  } finally {
    await browser.close()
    await server.shutdown()
  }
})
