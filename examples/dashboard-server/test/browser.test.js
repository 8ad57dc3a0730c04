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
  const clientsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kpi-web-')), 'clients.json')
  let server = createServer({ catalog, engine, clientsFile })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const base = `http://127.0.0.1:${server.address().port}`
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] })
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    const problems = []
    page.on('pageerror', (e) => problems.push(e.message))
    // Console errors too: a script the CSP blocks, a failed request the page did not expect.
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()))
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
    // Each card says when it last changed and when its next period starts.
    const next = Date.parse(await page.getAttribute('[data-kpi="revenue"] .updated-at', 'data-next'))
    assert.ok(next > Date.now() - 5000 && next <= Date.now() + 86400e3, new Date(next).toISOString())
    assert.match(await page.textContent('[data-kpi="revenue"] .updated-at'), /updated .* next day/)
    assert.ok(before)
    for (const view of ['bar', 'gauge', 'sparkline', 'table', 'line']) {
      await page.click(`[data-kpi="revenue"] .views button:text("${view}")`)
    }
    assert.match(await page.textContent('[data-kpi="perfect_order_rate"] .value'), /^[\d.]+ %$/, 'ratios show as percentages')
    // Line and bar views are Chart.js charts with the KPI's threshold bands and tooltips.
    const chart = await page.evaluate(() => {
      const plot = window.Chart.getChart(document.querySelector('[data-kpi="perfect_order_rate"] canvas.plot'))
      return { type: plot.config.type, points: plot.data.datasets[0].data.length, bands: plot.options.plugins.thresholdBands.thresholds, tooltip: plot.options.plugins.tooltip.callbacks.label({ parsed: { y: 0.5 } }) }
    })
    assert.equal(chart.type, 'line')
    assert.ok(chart.points > 0)
    assert.deepEqual(chart.bands, { critical: 0.5, target: 0.9, warning: 0.6 })
    assert.match(chart.tooltip, /Perfect Order Fulfillment: 50 %/)

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

    // KPIs picked for the dashboard are saved for the user and come back after a reload.
    await page.click('#picker summary')
    await page.check('#picker-kpis input[value="order_count"]')
    await page.locator('.card[data-kpi="order_count"]').scrollIntoViewIfNeeded()
    await page.waitForSelector('[data-kpi="order_count"] .value[data-kpi-value]:not([data-kpi-value=""])', { timeout: 30000 })
    await page.uncheck('#picker-kpis input[value="new_customers"]')
    await page.waitForFunction(() => !document.querySelector('.card[data-kpi="new_customers"]'))
    await page.waitForTimeout(300)
    await page.reload()
    await page.locator('.card[data-kpi="order_count"]').scrollIntoViewIfNeeded()
    await page.waitForSelector('[data-kpi="order_count"] .value[data-kpi-value]:not([data-kpi-value=""])', { timeout: 30000 })
    assert.equal(await page.$('.card[data-kpi="new_customers"]'), null)
    // Only cards on screen hold a subscription: with many cards, fewer views than cards.
    const codes = (await (await fetch(`${base}/kpis`)).json()).map((k) => k.code)
    await page.click('#picker summary')
    for (const code of codes.slice(0, 30)) await page.check(`#picker-kpis input[value="${code}"]`)
    await page.waitForTimeout(1500)
    const cardCount = await page.$$eval('.card', (c) => c.length)
    assert.ok(cardCount >= 30)
    assert.ok(engine.streams().length < cardCount / 2, `${engine.streams().length} views for ${cardCount} cards`)
    for (const code of codes.slice(0, 30)) if (!['revenue', 'perfect_order_rate', 'on_time_delivery_rate', 'average_order_value', 'order_count'].includes(code)) await page.uncheck(`#picker-kpis input[value="${code}"]`)
    await page.click('#picker summary')
    await page.evaluate(() => window.scrollTo(0, 0))

    // A server restart: the page reconnects and keeps getting updates.
    const port = server.address().port
    await server.shutdown()
    await page.waitForSelector('#connection.offline', { timeout: 30000 })
    server = createServer({ catalog, engine, clientsFile })
    await new Promise((r) => server.listen(port, '127.0.0.1', r))
    await page.waitForSelector('#connection.online', { timeout: 30000 })
    const seen = Number(await page.getAttribute('[data-kpi="revenue"]', 'data-live') || 0)
    engine.append('orders', demo.generate(catalog, { rows: 50, seed: 7, start: demoTime(new Date(Date.now() - 3600e3)), end: demoTime(new Date()) }).orders)
    await page.waitForFunction((n) => Number(document.querySelector('[data-kpi="revenue"]').dataset.live || 0) > n, seen, { timeout: 30000 })

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
    // The builder is the questionnaire's eight steps; retention answers reach the proposal.
    assert.equal(await page.$$eval('#questions fieldset.step', (f) => f.length), 8)
    await page.waitForSelector('[data-question="data_integration.orders.method"]')
    await page.selectOption('select[name="retention.staged_source_data.retention_period"]', '90')
    await page.selectOption('select[name="retention.staged_source_data.archival_enabled"]', 'true')
    await page.selectOption('select[name="retention.staged_source_data.archival"]', JSON.stringify({ archival_period: 3, archival_unit: 'years' }))
    await page.check('[data-question="retention.compliance"] input[value=\'"sox"\']')
    await page.click('#proposal-form button[type="submit"]')
    await page.waitForSelector('#proposal-output h1, #proposal-output h2, #proposal-error:not([hidden])', { timeout: 30000 }).catch((e) => assert.fail(`${e.message}: ${problems.join('; ')}`))
    assert.equal(await page.isHidden('#proposal-error'), true, await page.textContent('#proposal-error'))
    assert.match(await page.textContent('#proposal-output'), /Acme Retail/)
    assert.match(await page.textContent('#proposal-output'), /SOX/)

    await page.click('nav button[data-tab="dashboard"]')
    fs.mkdirSync(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true })
    assert.deepEqual(problems, [])
  } finally {
    await browser.close()
    await server.shutdown()
  }
})
