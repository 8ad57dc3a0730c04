// Types of the `kpi-engine` package.

/** The kind of an error; each has its class. */
export type ErrorKind = 'formula' | 'query' | 'catalog' | 'data' | 'calculation' | 'pricing' | 'internal'

/** Base class of every error of the KPI engine. */
export class KpiError extends Error {
  constructor(message: string, code: string, kind?: ErrorKind)
  /** Which error: KPI_FORMULA, KPI_QUERY, KPI_OPTION, KPI_CATALOG, KPI_DATA, KPI_SCHEMA, KPI_READ, KPI_SOURCE,
   *  KPI_TIMEOUT, KPI_CANCELLED, KPI_MEMORY, KPI_SQL, KPI_EXECUTION, KPI_INTERNAL, KPI_PRICING. */
  code: string
  /** Which kind of error (the class follows it). */
  kind: ErrorKind
}
/** A formula, filter or dimension is invalid. */
export class FormulaError extends KpiError {
  /** Line of the problem, from 1. */
  line: number
  /** Column of the problem in characters, from 1. */
  column: number
  /** Byte offset where the problem starts. */
  start: number
  /** Byte offset where it ends. */
  end: number
}
export class QueryError extends KpiError {}
export class CatalogError extends KpiError {}
export class DataError extends KpiError {}
export class CalculationError extends KpiError {}
export class PricingError extends KpiError {}
/** A bug in the engine (it panicked); the engine keeps working. */
export class InternalError extends KpiError {}

/** Every error code with its kind. */
export function errorCodes(): [string, ErrorKind][]

/** A KPI, object model, module or value chain, as the catalog's JSON has it. */
export type CatalogEntry = { code: string; name: string; [key: string]: unknown }

/** A validation problem of a catalog. */
/** A problem of formula text, located in it. */
export interface FormulaProblem {
  /** A stable kebab-case code, e.g. `unknown-column`. */
  code: string
  message: string
  /** `formula`, or `kpi <code>` for a KPI the formula references. */
  source: string
  line: number
  column: number
  start: number
  end: number
  expected?: string
  found?: string
  /** How to fix it, e.g. a "did you mean". */
  help?: string
}

/** Every problem of `formula` over `catalog`. */
export function validateFormula(catalog: Catalog, formula: string): FormulaProblem[]

export interface Problem {
  kind: string
  message: string
  help: string | null
  file: string | null
  path: string
  line: number | null
  column: number | null
}

/** An element of a dbt project that was not imported. */
export type DbtSkipped = { what: string; reason: string; location: string; file: string | null; line: number | null; column: number | null }

export class Catalog {
  static standard(): Catalog
  static empty(): Catalog
  static fromYaml(text: string): Catalog
  static fromJson(text: string | object): Catalog
  static load(path: string): Catalog
  /** A catalog from a dbt project's semantic models and metrics: a directory, a YAML file or
   *  `target/semantic_manifest.json`. */
  static fromDbt(path: string): Catalog
  /** What `fromDbt` left out, with why and where; empty otherwise. */
  skipped?: DbtSkipped[]
  kpis(filter?: { module?: string; valueChain?: string }): CatalogEntry[]
  kpi(code: string): CatalogEntry
  /** KPIs matching every word of `text`, best first. */
  search(text: string): { kpi: CatalogEntry; score: number }[]
  objectModels(): CatalogEntry[]
  objectModel(code: string): CatalogEntry
  modules(valueChain?: string): CatalogEntry[]
  module(code: string): CatalogEntry
  valueChains(): CatalogEntry[]
  valueChain(code: string): CatalogEntry
  requiredObjects(kpis: string[]): Record<string, unknown>
  /** A Mermaid diagram of the object models. */
  diagram(objectModels: string[]): string
  problems(): Problem[]
  /** Every problem of a formula over the catalog (empty when it is valid). */
  validateFormula(formula: string): FormulaProblem[]
  validate(): void
  addKpi(definition: { code: string; name: string; formula: string; [key: string]: unknown }): void
  removeKpi(code: string): CatalogEntry | null
  addObjectModel(definition: Record<string, unknown>): void
  addModule(definition: Record<string, unknown>): void
  addValueChain(definition: Record<string, unknown>): void
  extend(other: Catalog): void
  importSeedJson(definitions: string | object): string[]
  importSql(kpis: { code: string; query: string; name?: string; schedule?: string }[]): string[]
  forClient(client: ClientConfig): Catalog
  toYaml(): string
  toJson(): string
  save(path: string): void
}

/** One client's configuration: selected and custom KPIs, data sources, field mappings, retention. */
export class ClientConfig {
  static fromYaml(text: string): ClientConfig
  static fromJson(config: string | Record<string, unknown>): ClientConfig
  toYaml(): string
  toJSON(): Record<string, unknown>
}

/** A duration: milliseconds, or text with a unit such as `'30s'` or `'5min'`. */
export type Duration = number | string

/** What to calculate: a KPI code or a formula, and how. */
/** A calendar table: the object model holding one row per day, its date column, and the columns naming each day's periods (a new period begins where the value changes). */
export interface CalendarTable {
  table: string
  date: string
  month?: string
  quarter?: string
  year?: string
}

export interface Query {
  kpi?: string
  formula?: string
  grain?: 'minute' | 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year'
  by?: string[]
  start?: string | Date
  end?: string | Date
  where?: string
  /** Row filters per object model that every scan of it carries. */
  security?: Record<string, string>
  timezone?: string
  weekStart?: 'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday' | 'sunday'
  /** The month fiscal years and quarters start in: a name (`'april'`, `'apr'`) or number. */
  fiscalYearStart?: string | number
  /** Months, quarters and years of whole weeks: `'nrf'`, `'4-4-5, last saturday of december'`, or `'none'`. */
  retailCalendar?: string
  /** A registered object model whose columns give each day's month, quarter and year. */
  calendarTable?: CalendarTable
  emptyPeriods?: 'include' | 'omit'
  timeout?: Duration
  bypassCache?: boolean
  /** Read only active data, leaving out rows retention archived (never cached). */
  activeOnly?: boolean
  refresh?: 'change' | 'minute' | 'hour' | 'day' | Duration
}

/** One period and dimension group: `period`, the dimensions by label, `value`. */
export type Row = { period: string | null; value: number | null; [dimension: string]: unknown }

export class Result {
  readonly rows: Row[]
  readonly summaries: unknown[]
  /** How the result came about: calculated in full, a cache hit, shared with an identical
   *  calculation in flight, a cached result patched after appends, or read from partial
   *  states appends keep up to date (a query asked again as data arrives). */
  readonly cacheOutcome: 'full' | 'hit' | 'shared' | 'patched' | 'maintained'
  /** The rows as an Arrow IPC stream, for apache-arrow's `tableFromIPC`. */
  toArrowIPC(): Buffer
  /** The rows as an apache-arrow Table (apache-arrow must be installed). */
  toArrow(): import('apache-arrow').Table
  toJSON(): Record<string, unknown>
}

export interface Update {
  kpi: string
  period: string | null
  dimensions: unknown[]
  value: number | null
  previous_value: number | null
  status: string
  revision: number
  computed_at: string
  kind: 'snapshot' | 'change' | 'correction'
  lagged: boolean
}

export class Subscription implements AsyncIterable<Update> {
  next(timeoutMs?: number): Promise<{ updates: Omit<Update, 'lagged'>[]; lagged: boolean; error: { code: string; kind: ErrorKind; message: string } | null } | null>
  close(): void
  [Symbol.asyncIterator](): AsyncIterator<Update>
}

export interface AppendReport {
  rows: number
  lateRows: number
  beyondLateness: number
  /** Rows stamped further ahead of the clock than `clockSkew`: kept, but they do not move the watermark. */
  futureRows: number
}

// The data lifecycle's documents: retention policies, plans, run reports, the archive index,
// storage and KPI history (lib/lifecycle.d.ts).
export type { RetentionRule, RetentionPolicy, RetentionPlan, RetentionReport, ArchiveEntry, ArchiveIndex, StorageReport, HistoryRow } from './lib/lifecycle'
import type { RetentionPolicy, RetentionPlan, RetentionReport, ArchiveIndex, StorageReport, HistoryRow } from './lib/lifecycle'

/** Rows, an Arrow IPC buffer (stream or file format), or an apache-arrow Table. */
export type Data = Record<string, unknown>[] | Uint8Array | { schema: unknown; batches: unknown }

export interface SubscribeOptions {
  /** "change" (default), "minute", "hour", "day", or an interval. */
  refresh?: 'change' | 'minute' | 'hour' | 'day' | Duration
  onError?: (error: Error) => void
}

/** What the engine did since it was created. */
export interface Metrics {
  calculations: number
  errors: number
  timeouts: number
  cancellations: number
  cache_hits: number
  cache_misses: number
  /** Cache misses answered by bringing a cached result of older data up to date: only the
   *  periods appends touched were recalculated. */
  cache_patches: number
  /** Cache misses answered from partial states per period and group that appends keep up to
   *  date (a query asked again as data arrives; one table, no time intelligence). */
  maintained_answers: number
  /** Calculations that took the result of an identical one in flight. */
  shared: number
  /** Calculations of a dashboard or batch answered by a plan shared with other queries that
   *  read and group the same rows (one scan for all of them). */
  shared_scans: number
  /** Calculations of small inputs that ran the physical plan prepared for the same query over
   *  the same data, skipping planning. */
  plans_reused: number
  queued: number
  rows_ingested: number
  late_rows: number
  rows_beyond_lateness: number
  rows_released: number
  rows_from_future: number
  rows_archived: number
  rows_deleted: number
  pushed_down: number
  /** Calculations that ran as jobs on the engine's Ballista cluster (`cluster`). */
  cluster_jobs: number
  result_bytes: number
  cached_bytes: number
  /** Bytes of the partial states kept for queries followed by maintained states (at most 256 MiB). */
  maintained_bytes: number
}

/** Engine settings. */
export interface EngineOptions {
  timezone?: string
  weekStart?: string
  /** The month fiscal years and quarters start in (`'april'`, `'apr'` or `4`). */
  fiscalYearStart?: string | number
  /** The default retail calendar (see {@link Query.retailCalendar}). */
  retailCalendar?: string
  /** The default calendar table (see {@link Query.calendarTable}). */
  calendarTable?: CalendarTable
  timeout?: Duration
  /** Milliseconds. */
  timeoutMs?: number
  /** Bytes. */
  memoryLimit?: number
  /** The most rows one result may have (a million by default). */
  maxResultRows?: number
  laneConcurrency?: number
  targetPartitions?: number
  cache?: false | { enabled?: boolean; ttl?: Duration; formulaTtl?: Duration; kpis?: Record<string, Duration>; modules?: Record<string, Duration>; valueChains?: Record<string, Duration>; maxEntries?: number; maxBytes?: number }
  allowedLateness?: Duration
  retention?: Duration
  distinctCounts?: 'exact' | 'approximate'
  quantiles?: 'exact' | 'approximate'
  /** `false`: calculate over PostgreSQL tables in the engine instead of running whole KPIs in the database. */
  pushdown?: boolean
  /** A directory that makes appends durable; an engine opened with the same directory restores the tables. */
  dataDir?: string
  /** Where retention archives rows: a directory or an object-store URL (`archive/` in `dataDir` by default). */
  archiveLocation?: string
  /** The retention policy to enforce (a client's own `retention` otherwise). */
  retentionPolicy?: RetentionPolicy
  /** Whether jobs and subscriptions record KPI history. */
  history?: boolean
  /** How far ahead of the clock event times may move watermarks (5 minutes by default). */
  clockSkew?: Duration
  /** An Apache Ballista scheduler (`'df://host:50050'`, running `kpi-scheduler`) that runs calculations
   *  and dashboards over Parquet or CSV files its executors can read. */
  cluster?: string
  /** How long connecting to the cluster may take before a KPI_CLUSTER error (5 s by default). */
  clusterConnectTimeout?: Duration
  /** A client: its catalog and field mappings. */
  client?: ClientConfig
}

/** A comparison of two ranges per dimension group. */
export interface Comparison {
  kpi: string | null
  dimensions: string[]
  current: { start: string; end: string }
  previous: { start: string; end: string }
  rows: Record<string, unknown>[]
}

/** What a definition change did. */
export interface DefinitionChange {
  kpi: string
  action: 'created' | 'updated' | 'removed'
  affected: string[]
  removed: string[]
  invalidated_results: number
  refreshed_views: number
}

// Forecast and trend documents (lib/forecast.d.ts).
export type { ForecastOptions, ForecastPoint, EtsParameters, ForecastModel, SeriesForecast, GroupForecast, TrendReport } from './lib/forecast'
import type { ForecastOptions, SeriesForecast, GroupForecast, TrendReport } from './lib/forecast'

/** A KPI's forecast. */
export class Forecast {
  readonly json: {
    kpi: string | null
    grain: string
    dimensions: string[]
    horizon: number
    level: number
    season_length: number | null
    groups: GroupForecast[]
    skipped: { dimensions: unknown[]; message: string }[]
  }
  /** One row per group and forecast period: `period`, the dimensions by label, `value`, `lower`, `upper`. */
  readonly rows: Record<string, unknown>[]
  readonly models: { dimensions: unknown[]; model: string }[]
  toArrowIPC(): Buffer
  toJSON(): unknown
}

/** Forecasts a series of values (`null` where a period has none). */
export function forecastSeries(values: (number | null)[], options?: ForecastOptions): SeriesForecast

/** A scheduled job. */
export interface Job {
  id: number
  name: string
  schedule: string
  queries: Record<string, unknown>[]
  next_run: string | null
  last_run: string | null
  runs: number
  last_errors: string[]
}

/** How `followPostgres` follows its table. */
export interface FollowOptions {
  /** `name` or `schema.name` (the model's code by default). */
  table?: string
  /** Model columns read from table columns of other names. */
  columns?: Record<string, string>
  /** The columns that identify a row (the model's primary key by default). */
  key?: string[]
  /** Seconds, or text such as '250ms' (0.25 s by default). */
  pollInterval?: number | string
  /** How far before the latest time seen each poll reads again (60 s by default). */
  lookback?: number | string
  /** A file the feed keeps its position in, to resume after a restart. */
  checkpoint?: string
}

/** What a feed has done. */
export interface FeedStatus {
  polls: number
  rows_appended: number
  errors: number
  last_error: string | null
  last_poll: string | null
  position: { time_micros: number | null; recent: [unknown[], number][] }
}

/** A live feed from a PostgreSQL table. */
export class Feed {
  /** What the feed has done; `null` once stopped. */
  status(): Promise<FeedStatus | null>
  /** Stops the feed; nothing is appended after. */
  stop(): Promise<void>
}

/** Periods of a query. */
export type Grain = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year'

/** Warning and critical levels of alerts. */
export type AlertLevel = 'ok' | 'warning' | 'critical'

/** An alert rule: on a KPI (per group of `by`) or on a source (object model). */
export interface AlertRule {
  name: string
  /** `thresholds` (the KPI's own; the default with `kpi`), `above`, `below`, `change`, `no_data`, `source_stale`, `source_errors`, `late_rows`. */
  when?: 'thresholds' | 'above' | 'below' | 'change' | 'no_data' | 'source_stale' | 'source_errors' | 'late_rows'
  kpi?: string
  grain?: Grain
  by?: string[]
  where?: string
  security?: Record<string, string>
  timezone?: string
  /** A level (`above`, `below`) or a percentage (`change`). */
  warning?: number
  critical?: number
  against?: 'previous_period' | 'last_year'
  direction?: 'up' | 'down' | 'either'
  /** Complete periods without a value (`no_data`). */
  periods?: number
  /** The object model of a source rule. */
  source?: string
  /** How long without data (`source_stale`): ms or text such as `'15min'`. */
  after?: number | string
  /** How long a breach lasts before it fires: ms or text. */
  for?: number | string
  /** Fraction of the threshold a value must come back past to leave a level (0.01). */
  hysteresis?: number
  refresh?: number | string
}

/** An alert firing or resolving. */
export interface AlertEvent {
  id: number
  event: 'fired' | 'resolved'
  rule: string
  kpi: string | null
  source: string | null
  level: AlertLevel
  previous_level: AlertLevel
  group: Record<string, unknown>
  period: string | null
  value: number | null
  threshold: number | null
  message: string
  at: string
}

/** An alert active now. */
export interface ActiveAlert {
  rule: string
  kpi: string | null
  source: string | null
  level: AlertLevel
  group: Record<string, unknown>
  period: string | null
  value: number | null
  threshold: number | null
  since: string | null
  message: string
}

/** Where alert events go: a webhook or mail addresses. */
export interface Notifier {
  name: string
  webhook?: string
  /** Signs each body: `X-KPI-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
  secret?: string
  headers?: Record<string, string>
  email?: string[]
  retries?: number
  backoff?: number | string
  timeout?: number | string
  minLevel?: 'warning' | 'critical'
  rules?: string[]
}

/** The SMTP server mail goes through. */
export interface MailSettings {
  host: string
  port?: number
  tls?: 'starttls' | 'tls' | 'none'
  username?: string
  password?: string
  from: string
  timeout?: number | string
}

/** A report: KPIs over a range relative to the run, as CSV, JSON or PDF. */
export interface Report {
  name: string
  title?: string
  kpis: string[]
  grain?: Grain | 'none'
  by?: string[]
  where?: string
  security?: Record<string, string>
  range?: 'yesterday' | 'last_7_days' | 'last_30_days' | 'last_week' | 'last_month' | 'last_quarter' | 'last_year' | 'month_to_date' | 'year_to_date' | { start: string; end: string }
  format?: 'csv' | 'json' | 'pdf'
  /** Five-field cron, read in `timezone` (daylight saving included). */
  schedule?: string
  timezone?: string
  recipients?: string[]
  /** A local directory, or an object store URL (`s3://bucket/reports/`, `gs://`, `az://`, `https://`). */
  directory?: string
}

/** A report run. */
export interface ReportRun {
  report: number
  at: string
  start: string
  end: string
  bytes: number
  delivered_to: string[]
  failed_kpis: { kpi: string; error: string }[]
  ok: boolean
  error: string | null
}

/** A rendered report document. */
export interface RenderedReport {
  contentType: 'text/csv' | 'application/json' | 'application/pdf'
  filename: string
  data: Buffer
  run: ReportRun | null
}

/** Alert events as they happen. */
export class AlertEvents implements AsyncIterable<AlertEvent> {
  next(timeoutMs?: number): Promise<AlertEvent | null>
  close(): void
  [Symbol.asyncIterator](): AsyncGenerator<AlertEvent>
}

export class Engine {
  constructor(catalog: Catalog, options?: EngineOptions)
  readonly catalog: Catalog
  register(objectModel: string, data: Data): void
  registerAsync(objectModel: string, data: Data): Promise<void>
  append(objectModel: string, data: Data): AppendReport
  appendAsync(objectModel: string, data: Data): Promise<AppendReport>
  /** Parquet files: a file, a directory (hive partitions), a glob, or an `s3://`, `gs://`, `az://` or `http(s)://` URL. */
  registerParquet(objectModel: string, pathOrUrl: string): Promise<void>
  /** CSV files with a header row, from the locations `registerParquet` reads. */
  registerCsv(objectModel: string, pathOrUrl: string): Promise<void>
  /** A PostgreSQL table or view as `objectModel`; `table` is `name` or `schema.name`. */
  registerPostgres(objectModel: string, dsn: string, options?: { table?: string; columns?: Record<string, string> }): Promise<void>
  /** Every object model with a table of its own name; resolves to their codes. */
  registerPostgresModels(dsn: string, options?: { schema?: string }): Promise<string[]>
  /** Follows a PostgreSQL table: its rows now, then new rows as they come. */
  followPostgres(objectModel: string, dsn: string, options?: FollowOptions): Promise<Feed>
  registerDemo(options?: { rows?: number; seed?: number; start?: string; end?: string }): void
  unregister(objectModel: string): boolean
  registered(): { objectModel: string; version: number; memoryRows: number; inMemory: boolean }[]
  calculate(query: Query, options?: { signal?: AbortSignal }): Promise<Result>
  dashboard(queries: Query[]): Promise<{ items: Record<string, unknown>[]; wall_ms: number }>
  compare(query: Query, current: [string | Date, string | Date], previous?: [string | Date, string | Date] | 'previous_period' | 'last_year'): Promise<Comparison>
  /** Creates or replaces a KPI in the running engine; refused changes change nothing. */
  defineKpi(definition: Record<string, unknown> & { code: string; formula: string }): Promise<DefinitionChange>
  /** Removes a KPI; one others use is refused unless `cascade`. */
  removeKpi(code: string, options?: { cascade?: boolean }): Promise<DefinitionChange>
  /** The KPIs that use `code`, directly or through others. */
  dependants(code: string): string[]
  /** A client engine's configuration with the KPIs defined in it since; null without a client. */
  clientConfig(): ClientConfig | null
  /** Recalculates every live subscription of KPI `code` now, past the cache; how many views. */
  trigger(code: string): Promise<number>
  /** Forecasts the query's KPI past its range, per dimension group. */
  forecast(query: Query, options?: ForecastOptions): Promise<Forecast>
  /** The query's trend per dimension group over the last `window` periods. */
  trend(query: Query, options?: { window?: number }): Promise<TrendReport>
  /** The engine's counters since it was created. */
  metrics(): Metrics
  cachedResults(): number
  clearCache(): void
  /** The plans; `pushedDown` is the statement that runs in PostgreSQL instead, when every table read lives in one database. */
  explain(query: Query): Promise<{ logical: string; optimized: string; physical: string; pushedDown: string | null }>
  toSql(query: Query, dialect?: string): Promise<string>
  schedule(name: string, cron: string, queries: Query[]): Promise<Job>
  scheduleCatalog(): Promise<Job[]>
  jobs(): Job[]
  cancelJob(id: number): boolean
  streams(): { query: Record<string, unknown>; refresh: string; subscribers: number; size: number; incremental: boolean; maintenance: 'cube' | 'spans' | 'recalculation' }[]
  /** Calls `onUpdate` for each update; returns a function that stops. */
  subscribe(query: Query, onUpdate: (update: Update) => void, options?: SubscribeOptions): () => void
  updates(query: Query, options?: SubscribeOptions): AsyncGenerator<Update>
  open(query: Query, options?: SubscribeOptions): Promise<Subscription>
  /** Adds an alert rule (judged on every update of its KPI, and each second for durations and sources); the rule with its state. */
  addAlertRule(rule: AlertRule): Promise<AlertRule & { active: number; groups: number; evaluations: number; last_error: string | null }>
  removeAlertRule(name: string): boolean
  alertRules(): (AlertRule & { active: number; groups: number; evaluations: number; last_error: string | null })[]
  /** The alerts active now, critical first. */
  alerts(): ActiveAlert[]
  alertHistory(limit?: number): AlertEvent[]
  evaluateAlerts(): Promise<AlertEvent[]>
  alertEvents(): AlertEvents
  /** Calls `callback` for every alert event; returns a function that stops. */
  onAlert(callback: (event: AlertEvent) => void): () => void
  setMail(settings: MailSettings): void
  addNotifier(notifier: Notifier): Promise<Record<string, unknown>>
  removeNotifier(name: string): boolean
  notifiers(): { spec: Notifier; delivered: number; failed: number; attempts: number; queued: number; last_error: string | null }[]
  deadLetters(): { notifier: string; target: string; event: AlertEvent; attempts: number; error: string; at: string }[]
  addReport(report: Report): Promise<Report & { id: number; next_run: string | null; last_run: ReportRun | null; runs: number }>
  updateReport(id: number, report: Report): Promise<Report & { id: number; next_run: string | null; last_run: ReportRun | null; runs: number }>
  removeReport(id: number): boolean
  reports(): (Report & { id: number; next_run: string | null; last_run: ReportRun | null; runs: number })[]
  report(id: number): (Report & { id: number; next_run: string | null; last_run: ReportRun | null; runs: number }) | null
  reportRuns(id: number): ReportRun[]
  /** Runs a report now and delivers it (recipients, directory). */
  runReport(id: number): Promise<RenderedReport>
  renderReport(report: Report): Promise<RenderedReport>
  /** Enforces a retention policy (refused with the rule named when it breaks a regulation it names). */
  setRetentionPolicy(policy: RetentionPolicy): void
  retentionPolicy(): RetentionPolicy | null
  /** What `applyRetention` would archive, delete and remove now. */
  retentionPlan(): RetentionPlan
  /** Archives (or deletes) rows past their active period, then removes expired archives. */
  applyRetention(): Promise<RetentionReport>
  archiveIndex(): ArchiveIndex
  /** Checks every archive file against its checksum (a KPI_ARCHIVE error names a corrupt one). */
  verifyArchive(): Promise<void>
  /** Writes every table to the data directory as Parquet and trims the write-ahead log. */
  checkpoint(): Promise<void>
  /** Checkpoints and lets go of the data directory (another engine may open it); changing data afterwards fails. */
  close(): Promise<void>
  /** The data directory, or null. */
  readonly dataDir: string | null
  /** The scheduler calculations run on (`df://host:port`), or null. */
  readonly cluster: string | null
  /** Connects to the cluster's scheduler within the connect timeout (a KPI_CLUSTER error names an unreachable one). */
  checkCluster(): Promise<{ url: string; roundTripMs: number }>
  storage(): StorageReport
  /** Records a result's new or changed values as KPI history; the rows recorded. */
  recordHistory(result: Result): number
  /** Recorded values of a KPI (archived ones included), the latest revision of each period and group unless `allRevisions`. */
  history(kpi: string, options?: { grain?: Grain; start?: string | Date; end?: string | Date; allRevisions?: boolean }): Promise<HistoryRow[]>
}

export const demo: {
  /** Demo data: table name → Arrow IPC stream. */
  generate(catalog: Catalog, options?: { rows?: number; seed?: number; start?: string; end?: string }): Record<string, Buffer>
}

export class Proposal {
  toJSON(): Record<string, any>
  toMarkdown(): string
}

export const pricing: {
  questionnaire(catalog?: Catalog, kpis?: string[]): Record<string, any>
  price(catalog: Catalog, input: { kpis: string[]; answers: string | Record<string, unknown> }): Proposal
}
