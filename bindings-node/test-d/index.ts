// Compile-only check of index.d.ts (`tsc --noEmit`, run by scripts/node-test.sh): the package's
// documented uses type-check, and misuses are type errors.
import { Catalog, Engine, Forecast, FormulaError, KpiError, Metrics, Query, Result, Update, demo, forecastSeries, pricing } from '..'

async function documentedUses(): Promise<void> {
  const catalog: Catalog = Catalog.standard()
  const engine = new Engine(catalog, { timezone: 'UTC', timeoutMs: 30_000 })
  for (const [name, ipc] of Object.entries(demo.generate(catalog, { rows: 100, seed: 1 }))) engine.register(name, ipc)
  engine.append('orders', [{ order_id: 'x' }])
  const query: Query = { kpi: 'revenue', grain: 'month', by: ['orders.region'], start: '2024-01-01', end: '2025-01-01' }
  const result: Result = await engine.calculate(query)
  const value: number | null = result.rows[0].value
  const ipc: Buffer = result.toArrowIPC()
  const metrics: Metrics = engine.metrics()
  const shared: number = metrics.shared
  const plans = await engine.explain({ formula: 'sum(orders.order_value)' })
  const sql: string = await engine.toSql(query, 'postgres')
  const stop = engine.subscribe(query, (u: Update) => u.value, { refresh: 'minute' })
  stop()
  for await (const update of engine.updates(query)) {
    const kind: 'snapshot' | 'change' | 'correction' = update.kind
    void kind
    break
  }
  const proposal = pricing.price(catalog, { kpis: ['revenue'], answers: { license_term: 1 } })
  const markdown: string = proposal.toMarkdown()
  try {
    await engine.calculate({ formula: 'sum(' })
  } catch (e) {
    if (e instanceof FormulaError) {
      const where: [number, number] = [e.line, e.column]
      void where
    }
    if (e instanceof KpiError) void e.code
  }
  void [value, ipc, shared, plans.physical, sql, markdown]
}

async function newerUses(engine: Engine): Promise<void> {
  const controller = new AbortController()
  const res = await engine.calculate({ kpi: 'revenue', security: { orders: "orders.region = 'europe'" }, weekStart: 'sunday', timeout: '5s' }, { signal: controller.signal })
  const rows: number = res.toArrow().numRows
  const cmp = await engine.compare({ kpi: 'revenue' }, ['2024-07-01', '2024-10-01'])
  void [rows, cmp.previous.start]
  const forecast: Forecast = await engine.forecast({ kpi: 'revenue', grain: 'month' }, { horizon: 3, method: 'ets', trend: 'damped' })
  const upper: number = forecast.json.groups[0].forecast[0].upper
  const trend = await engine.trend({ kpi: 'revenue', grain: 'month' }, { window: 12 })
  const significant: boolean = trend.groups[0].significant
  const model: string = forecastSeries([1, 2, null, 4, 5, 6], { seasonLength: 1 }).model
  const change = await engine.defineKpi({ code: 'web_orders', name: 'Web orders', formula: "count(orders where orders.channel = 'web')" })
  const affected: string[] = change.affected
  await engine.removeKpi('web_orders', { cascade: true })
  void [upper, significant, model, affected, engine.dependants('revenue')]
  await engine.registerParquet('orders', 's3://bucket/orders/')
  const feed = await engine.followPostgres('orders', 'postgresql://u@h/db', { table: 'sales.orders', pollInterval: '250ms', checkpoint: 'feed.json' })
  const appended: number | undefined = (await feed.status())?.rows_appended
  await feed.stop()
  void appended
  await engine.addAlertRule({ name: 'late', kpi: 'on_time_delivery_rate', by: ['orders.region'], for: '10min', hysteresis: 0.02 })
  await engine.addAlertRule({ name: 'stale', when: 'source_stale', source: 'orders', after: 15 * 60_000 })
  engine.setMail({ host: 'mail.example.com', from: 'kpi@example.com' })
  await engine.addNotifier({ name: 'ops', webhook: 'https://hooks.example.com/kpi', secret: 's3cret', minLevel: 'critical' })
  const level: 'ok' | 'warning' | 'critical' = engine.alerts()[0].level
  const stop = engine.onAlert((e) => void e.message)
  stop()
  for await (const event of engine.alertEvents()) void event.group
  const report = await engine.addReport({ name: 'Weekly', kpis: ['revenue'], range: 'last_7_days', format: 'pdf', schedule: '0 7 * * 1', timezone: 'Europe/Berlin' })
  const document = await engine.runReport(report.id)
  const pdf: Buffer = document.data
  void [level, pdf, (await engine.renderReport({ name: 'x', kpis: ['revenue'], range: { start: '2024-01-01', end: '2024-02-01' } })).contentType]
  const durable = new Engine(Catalog.standard(), { dataDir: '/var/lib/kpi', history: true, clockSkew: '10min', retentionPolicy: { staged_source_data: { retention_period: 90, archival_enabled: true, archival_period: 1 }, analytics_data: { retention_period: 2, retention_unit: 'years' }, compliance: ['sox'] } })
  const plan = durable.retentionPlan()
  const archived: number = (await durable.applyRetention()).models[0].archived_rows
  const sha: string = durable.archiveIndex().entries[0].sha256
  const cold: number = durable.storage().models[0].cold_bytes
  const revision: number = (await durable.history('revenue', { grain: 'month', allRevisions: true }))[0].revision
  const active = await durable.calculate({ kpi: 'revenue', activeOnly: true })
  void [plan.releases[0].periods, archived, sha, cold, revision, active, durable.recordHistory(active), durable.dataDir, engine.append('orders', []).futureRows]
  await durable.close()
  const distributed = new Engine(Catalog.standard(), { cluster: 'df://127.0.0.1:50050', clusterConnectTimeout: '3s' })
  const roundTrip: number = (await distributed.checkCluster()).roundTripMs
  const jobs: number = distributed.metrics().cluster_jobs
  void [roundTrip, jobs, distributed.cluster?.startsWith('df://')]
}

function misuses(engine: Engine): void {
  // @ts-expect-error: grains are a fixed set
  void engine.calculate({ kpi: 'revenue', grain: 'fortnight' })
  // @ts-expect-error: the cluster is one scheduler URL
  void new Engine(Catalog.standard(), { cluster: ['df://a:1', 'df://b:1'] })
  // @ts-expect-error: refresh is a period name or a duration
  engine.subscribe({ kpi: 'revenue' }, () => {}, { refresh: true })
  // @ts-expect-error: security filters are formula text per object model
  void engine.calculate({ kpi: 'revenue', security: ['orders'] })
  // @ts-expect-error: metrics are counts
  const wrong: string = engine.metrics().calculations
  void wrong
  // @ts-expect-error: the feed's options are an object
  void engine.followPostgres('orders', 'postgresql://u@h/db', 'orders')
  // @ts-expect-error: alert conditions are a fixed set
  void engine.addAlertRule({ name: 'x', kpi: 'revenue', when: 'sideways' })
  // @ts-expect-error: report formats are csv, json or pdf
  void engine.addReport({ name: 'x', kpis: ['revenue'], format: 'docx' })
  // @ts-expect-error: report ranges are named or {start, end}
  void engine.addReport({ name: 'x', kpis: ['revenue'], range: 'last_fortnight' })
  // @ts-expect-error: retention units are days, months or years
  engine.setRetentionPolicy({ staged_source_data: { retention_period: 1, retention_unit: 'weeks' }, analytics_data: { retention_period: 1 } })
  // @ts-expect-error: forecast methods are a fixed set
  void engine.forecast({ kpi: 'revenue', grain: 'month' }, { method: 'prophet' })
}

void documentedUses
void newerUses
void misuses
