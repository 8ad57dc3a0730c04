'use strict'
// The package's API over the native addon (kpi-engine.<platform>-<arch>.node): errors become
// KpiError subclasses with a `code`, rows and Arrow tables are accepted as data, and
// subscriptions get a callback form and an async iterator.

const fs = require('node:fs')
const addon = require('./scripts/addon')

/** The addon of this platform, or an error that says how to get one. */
function loadNative() {
  if (!fs.existsSync(addon.file)) {
    throw new Error(
      `kpi-engine has no native addon for ${process.platform}-${process.arch} (${addon.fileName}); ` +
        'build it with `npm rebuild kpi-engine` (needs Rust: https://rustup.rs), or `npm run build` in a checkout',
    )
  }
  return require(addon.file)
}

const native = loadNative()
const {
  KpiError,
  FormulaError,
  QueryError,
  CatalogError,
  DataError,
  CalculationError,
  PricingError,
  InternalError,
  fromDetail,
  call,
  callAsync,
} = require('./lib/errors')
const { settingsDoc, queryDoc, forecastDoc } = require('./lib/documents')
const { arrowModules, toData } = require('./lib/arrow')
const { Result, Forecast, Feed, Subscription } = require('./lib/results')
const { AlertEvents, withAlerting } = require('./lib/alerting')
const { withLifecycle } = require('./lib/lifecycle')

/** A catalog of KPIs, object models, modules and value chains. Engines keep the catalog they
 *  were made with; edits (`addKpi`, ...) change this object only. */
class Catalog {
  constructor(inner) {
    this._inner = inner
  }
  /** The standard catalog. */
  static standard() {
    return new Catalog(native.Catalog.standard())
  }
  /** An empty catalog. */
  static empty() {
    return new Catalog(native.Catalog.empty())
  }
  /** A catalog from YAML text. */
  static fromYaml(text) {
    return new Catalog(call(() => native.Catalog.fromYaml(text)))
  }
  /** A catalog from JSON text (or an object). */
  static fromJson(text) {
    return new Catalog(call(() => native.Catalog.fromJson(typeof text === 'string' ? text : JSON.stringify(text))))
  }
  /** A catalog from a YAML or JSON file. */
  static load(path) {
    return new Catalog(call(() => native.Catalog.load(path)))
  }
  /** A catalog from a dbt project's semantic models and metrics (a directory, a YAML file or
   *  `target/semantic_manifest.json`); what cannot be imported exactly is in `skipped`. */
  static fromDbt(path) {
    const imported = call(() => native.Catalog.importDbt(path))
    const catalog = new Catalog(call(() => native.Catalog.fromJson(imported.catalog)))
    catalog.skipped = imported.skipped
    return catalog
  }
  kpis(filter = {}) {
    return call(() => this._inner.kpis({ module: filter.module, valueChain: filter.valueChain }))
  }
  kpi(code) {
    return call(() => this._inner.kpi(code))
  }
  /** KPIs matching every word of `text`, best first: `[{ kpi, score }]`. */
  search(text) {
    return call(() => this._inner.search(text))
  }
  objectModels() {
    return call(() => this._inner.objectModels())
  }
  objectModel(code) {
    return call(() => this._inner.objectModel(code))
  }
  modules(valueChain) {
    return call(() => this._inner.modules(valueChain))
  }
  module(code) {
    return call(() => this._inner.module(code))
  }
  valueChains() {
    return call(() => this._inner.valueChains())
  }
  valueChain(code) {
    return call(() => this._inner.valueChain(code))
  }
  requiredObjects(kpis) {
    return call(() => this._inner.requiredObjects(kpis))
  }
  diagram(objectModels) {
    return call(() => this._inner.diagram(objectModels))
  }
  /** Every validation problem: `[{ kind, message, help, path, line, column }]`. */
  problems() {
    return call(() => this._inner.problems())
  }
  /** Every problem of `formula` over the catalog (`[]` when it is valid): `{ code, message,
   *  source, line, column, start, end, expected?, found?, help? }`. */
  validateFormula(formula) {
    return call(() => this._inner.validateFormula(formula))
  }
  /** Throws a CatalogError listing every problem, if there are any. */
  validate() {
    call(() => this._inner.validate())
  }
  addKpi(definition) {
    call(() => this._inner.addKpi(definition))
  }
  removeKpi(code) {
    return call(() => this._inner.removeKpi(code))
  }
  addObjectModel(definition) {
    call(() => this._inner.addObjectModel(definition))
  }
  addModule(definition) {
    call(() => this._inner.addModule(definition))
  }
  addValueChain(definition) {
    call(() => this._inner.addValueChain(definition))
  }
  /** Adds everything of `other`; its definitions replace these of the same code. */
  extend(other) {
    call(() => this._inner.extend(other._inner))
  }
  /** Imports KPIs in the seed's KPIDefinition JSON shape (text, an object or a list); their codes. */
  importSeedJson(definitions) {
    return call(() => this._inner.importSeedJson(typeof definitions === 'string' ? definitions : JSON.stringify(definitions)))
  }
  /** Imports SQL-defined KPIs: `[{ code, query, name?, schedule? }]`; their codes. */
  importSql(kpis) {
    return call(() => this._inner.importSql(kpis))
  }
  /** The catalog as `client` (a ClientConfig) sees it. */
  forClient(client) {
    return new Catalog(call(() => this._inner.forClient(client._inner)))
  }
  toYaml() {
    return call(() => this._inner.toYaml())
  }
  toJson() {
    return call(() => this._inner.toJsonText())
  }
  /** Writes the catalog to a file (JSON for `.json`, YAML otherwise). */
  save(path) {
    call(() => this._inner.save(path))
  }
}

/** One client's configuration: selected and custom KPIs, data sources, field mappings, retention. */
class ClientConfig {
  constructor(inner) {
    this._inner = inner
  }
  static fromYaml(text) {
    return new ClientConfig(call(() => native.ClientConfig.fromYaml(text)))
  }
  /** From JSON text or a plain object. */
  static fromJson(config) {
    return new ClientConfig(call(() => native.ClientConfig.fromJson(typeof config === 'string' ? config : JSON.stringify(config))))
  }
  toYaml() {
    return call(() => this._inner.toYaml())
  }
  toJSON() {
    return call(() => this._inner.toJSON())
  }
}

/**
 * Calculates KPIs over registered data. Calculations return Promises and run off the event
 * loop. A query is `{ kpi | formula, grain, by, start, end, where, security, timezone,
 * weekStart, fiscalYearStart, retailCalendar, calendarTable, emptyPeriods, timeout, bypassCache }`; durations are milliseconds or text with a
 * unit (`'30s'`). Unknown keys and wrong types are QueryErrors.
 */
class Engine {
  /** Options: `timezone`, `weekStart`, `fiscalYearStart`, `retailCalendar`, `calendarTable`, `timeout` (ms or text; `timeoutMs` too), `memoryLimit`
   *  (bytes), `laneConcurrency`, `targetPartitions`, `cache` (false, or `{ ttl, formulaTtl, kpis,
   *  modules, valueChains, maxEntries, maxBytes }`), `allowedLateness`, `retention`, `distinctCounts` and
   *  `quantiles` (`'exact'` or `'approximate'`), `dataDir` (appends made durable there; the same
   *  directory restores the tables), `archiveLocation`, `retentionPolicy`, `history`, `clockSkew`,
   *  `cluster` (a Ballista scheduler, `'df://host:50050'`, running `kpi-scheduler`: calculations run
   *  there; `checkCluster()` connects), `clusterConnectTimeout`, and `client` (a ClientConfig: its
   *  catalog and field mappings). */
  constructor(catalog, options = {}) {
    if (!(catalog instanceof Catalog)) throw new TypeError('expected a Catalog')
    const { client, ...settings } = options ?? {}
    if (client !== undefined && !(client instanceof ClientConfig)) throw new TypeError('expected `client` to be a ClientConfig')
    this._inner = call(() => new native.Engine(catalog._inner, settingsDoc(settings), client ? client._inner : undefined))
    this.catalog = client ? new Catalog(this._inner.catalog()) : catalog
  }
  /** Registers rows, an Arrow IPC buffer or an apache-arrow Table as the data of `objectModel`. */
  register(objectModel, data) {
    call(() => this._inner.register(objectModel, toData(data)))
  }
  /** As `register`, decoding off the event loop (for large inputs). */
  async registerAsync(objectModel, data) {
    const input = toData(data)
    return callAsync(() => this._inner.registerAsync(objectModel, input))
  }
  /** Appends rows; returns `{ rows, lateRows, beyondLateness, futureRows }`. */
  append(objectModel, data) {
    return call(() => this._inner.append(objectModel, toData(data)))
  }
  /** As `append`, decoding off the event loop. */
  async appendAsync(objectModel, data) {
    const input = toData(data)
    return callAsync(() => this._inner.appendAsync(objectModel, input))
  }
  /**
   * Registers Parquet files as `objectModel`, read where they lie: a file, a directory
   * (`key=value` subdirectories become columns), a glob, or a URL (`s3://`, `gs://`, `az://`,
   * `https://`) with credentials from the usual environment variables.
   */
  async registerParquet(objectModel, pathOrUrl) {
    return callAsync(() => this._inner.registerParquet(objectModel, pathOrUrl))
  }
  /** Registers CSV files (header row) as `objectModel`, from the locations `registerParquet` reads. */
  async registerCsv(objectModel, pathOrUrl) {
    return callAsync(() => this._inner.registerCsv(objectModel, pathOrUrl))
  }
  /**
   * Registers a PostgreSQL (or TimescaleDB) table or view as `objectModel`, read where it lies.
   * `dsn` is `postgresql://user:password@host:5432/database` or `host=... dbname=...`;
   * `options.table` is `name` or `schema.name` (the model's code by default); `options.columns`
   * maps model columns to table columns of other names. Unreachable servers, refused logins and
   * missing tables reject with a `DataError` (`KPI_SOURCE`) that never shows the password.
   */
  async registerPostgres(objectModel, dsn, options = {}) {
    const table = options.table ?? objectModel
    const columns = Object.entries(options.columns ?? {}).map(([column, from]) => [column, String(from)])
    return callAsync(() => this._inner.registerPostgres(objectModel, dsn, table, columns))
  }
  /**
   * Follows a PostgreSQL table: appends its rows to `objectModel` now, then rows that appear
   * later (found by the model's time column and key, polled every `options.pollInterval`,
   * seconds or text such as '250ms'), so subscriptions update. `options.checkpoint` is a file
   * the feed keeps its position in, to resume after a restart; `options.lookback` how far back
   * each poll reads again for late commits. Resolves to a `Feed` with `status()` and `stop()`.
   */
  async followPostgres(objectModel, dsn, options = {}) {
    const settings = {
      table: options.table,
      columns: options.columns,
      key: options.key,
      poll_interval: options.pollInterval,
      lookback: options.lookback,
      checkpoint: options.checkpoint,
    }
    for (const k of Object.keys(settings)) if (settings[k] === undefined || settings[k] === null) delete settings[k]
    const native = await callAsync(() => this._inner.followPostgres(objectModel, dsn, settings))
    return new Feed(native)
  }
  /** Registers every object model with a table of its own name in `schema` (the search path by default). */
  async registerPostgresModels(dsn, options = {}) {
    return callAsync(() => this._inner.registerPostgresModels(dsn, options.schema ?? null))
  }
  /** Generates demo data for every object model and registers it. */
  registerDemo(options = {}) {
    for (const [name, ipc] of Object.entries(demo.generate(this.catalog, options))) this.register(name, ipc)
  }
  /** Removes the data of `objectModel`; whether it had any. */
  unregister(objectModel) {
    return call(() => this._inner.unregister(objectModel))
  }
  /** The object models with data: `[{ objectModel, version, memoryRows, inMemory }]`. */
  registered() {
    return call(() => this._inner.registered())
  }
  /** Calculates a query; `options.signal` (an AbortSignal) cancels it. */
  async calculate(query, options = {}) {
    const { signal } = options ?? {}
    if (signal?.aborted) throw new CalculationError('the calculation was aborted before it started', 'KPI_CANCELLED', 'calculation')
    const id = signal ? this._inner.newCancellation() : undefined
    const abort = () => this._inner.cancel(id)
    signal?.addEventListener('abort', abort, { once: true })
    try {
      return new Result(await callAsync(() => this._inner.calculate(queryDoc(query), id)))
    } finally {
      if (signal) {
        signal.removeEventListener('abort', abort)
        this._inner.releaseCancellation(id)
      }
    }
  }
  /** Calculates several queries concurrently: per item `{ ok, result }` or `{ ok: false, error: { code, kind, message } }`. */
  async dashboard(queries) {
    return callAsync(() => this._inner.dashboard(queries.map(queryDoc)))
  }
  /** The query's value over `current` (`[start, end]`) against `previous`: a range,
   *  `'previous_period'` (by default: the range just before, as many months for whole months) or
   *  `'last_year'` (the same range a year earlier), per dimension group. */
  async compare(query, current, previous) {
    const text = (r) => (Array.isArray(r) ? r.map((t) => (t instanceof Date ? t.toISOString() : t)) : r)
    return callAsync(() => this._inner.compare(queryDoc(query), text(current), text(previous)))
  }
  /** Creates or replaces a KPI in the running engine (`{ code, name, formula, ... }` as the
   *  catalog's YAML has it). The change is checked against the whole catalog first and refused
   *  with a CatalogError that changes nothing; an accepted one drops exactly the cached results
   *  of the KPI and its users, and their subscribers get a fresh snapshot. Resolves to
   *  `{ kpi, action, affected, invalidated_results, refreshed_views }`; `catalog` is then the new one. */
  async defineKpi(definition) {
    const change = await callAsync(() => this._inner.defineKpi(definition))
    this.catalog = new Catalog(this._inner.catalog())
    return change
  }
  /** Removes a KPI; one other KPIs use is refused unless `{ cascade: true }`, which removes them too. */
  async removeKpi(code, options = {}) {
    const change = await callAsync(() => this._inner.removeKpi(code, options?.cascade ?? false))
    this.catalog = new Catalog(this._inner.catalog())
    return change
  }
  /** Recalculates every live subscription of KPI `code` now, past the cache; how many views. */
  async trigger(code) {
    return callAsync(() => this._inner.trigger(code))
  }
  /** The client configuration of a client's engine, with the KPIs defined in the running
   *  engine among its custom KPIs (save it to keep them); `null` without a client. */
  clientConfig() {
    const inner = this._inner.client()
    return inner ? new ClientConfig(inner) : null
  }
  /** The KPIs that use `code`, directly or through other KPIs. */
  dependants(code) {
    return call(() => this._inner.dependants(code))
  }
  /** Forecasts the query's KPI `horizon` periods past its range, per dimension group, with
   *  prediction intervals: options `horizon` (6), `seasonLength` (from the grain), `level`
   *  (0.95), `method` (`'auto'`, `'ets'` or `'seasonal_naive'`), and for `'ets'` `trend`
   *  (`'none'`, `'additive'`, `'damped'`) and `seasonal`. */
  async forecast(query, options = {}) {
    const settings = forecastDoc(options)
    return new Forecast(await callAsync(() => this._inner.forecast(queryDoc(query), settings)))
  }
  /** The KPI's trend per dimension group over the last `options.window` periods: `slope`,
   *  `slope_pct`, `r_squared`, `p_value`, `significant` and `improving`. */
  async trend(query, options = {}) {
    return callAsync(() => this._inner.trend(queryDoc(query), options?.window ?? null))
  }
  /** The engine's counters since it was created: `{ calculations, cache_hits, shared, rows_ingested, ... }`. */
  metrics() {
    return call(() => this._inner.metrics())
  }
  /** How many results the cache holds. */
  cachedResults() {
    return call(() => this._inner.cachedResults())
  }
  /** Empties the result cache. */
  clearCache() {
    call(() => this._inner.clearCache())
  }
  async explain(query) {
    return callAsync(() => this._inner.explain(queryDoc(query)))
  }
  async toSql(query, dialect = 'postgres') {
    return callAsync(() => this._inner.toSql(queryDoc(query), dialect))
  }
  /** Recalculates `queries` on a five-field cron schedule in the engine's time zone, refreshing subscribers; the job. */
  async schedule(name, cron, queries) {
    return callAsync(() => this._inner.schedule(name, cron, queries.map(queryDoc)))
  }
  /** Schedules every KPI of the catalog that has a schedule; the jobs. */
  async scheduleCatalog() {
    return callAsync(() => this._inner.scheduleCatalog())
  }
  jobs() {
    return call(() => this._inner.jobs())
  }
  cancelJob(id) {
    return call(() => this._inner.cancelJob(id))
  }
  /** The views maintained for subscribers. */
  streams() {
    return call(() => this._inner.streams())
  }
  /** Subscribes; calls `onUpdate(update)` for each update; returns a function that stops. */
  subscribe(query, onUpdate, options = {}) {
    const started = this.open(query, options)
    let sub = null
    let stopped = false
    ;(async () => {
      sub = await started
      if (stopped) return sub.close()
      for await (const update of sub) onUpdate(update)
    })().catch((e) => {
      if (options.onError) options.onError(e)
    })
    return () => {
      stopped = true
      if (sub) sub.close()
    }
  }
  /** Updates of `query` as an async iterator: `for await (const u of engine.updates(q))`. */
  async *updates(query, options = {}) {
    const sub = await this.open(query, options)
    try {
      yield* sub
    } finally {
      sub.close()
    }
  }
  /** A subscription to read with `next()`; `options.refresh` (or the query's `refresh`) is
   *  `'change'` (default), `'minute'`, `'hour'`, `'day'`, milliseconds or text (`'500ms'`). */
  async open(query, options = {}) {
    const refresh = options.refresh ?? query.refresh
    return new Subscription(await callAsync(() => this._inner.subscribe(queryDoc({ ...query, refresh }))))
  }
}

/** Demo data. */
const demo = {
  /** Demo data for every object model: table name → Arrow IPC buffer (register takes them). */
  generate(catalog, options = {}) {
    return call(() => native.generateDemo(catalog._inner, options))
  },
}

class Proposal {
  constructor(inner) {
    this._inner = inner
  }
  toJSON() {
    return this._inner.toJSON()
  }
  toMarkdown() {
    return this._inner.toMarkdown()
  }
}

/** Service proposals. */
const pricing = {
  questionnaire(catalog, kpis) {
    return call(() => native.questionnaire(catalog ? catalog._inner : undefined, kpis))
  },
  /** Prices `kpis` from `answers` (an object, or YAML/JSON text). */
  price(catalog, { kpis, answers }) {
    const text = typeof answers === 'string' ? answers : JSON.stringify(answers)
    return new Proposal(call(() => native.price(catalog._inner, kpis, text)))
  },
}

/** Every error code with its kind: `[[code, kind], ...]`. */
const errorCodes = () => native.errorCodes()

/** Every problem of `formula` over `catalog` (see `Catalog#validateFormula`). */
const validateFormula = (catalog, formula) => catalog.validateFormula(formula)

/** Forecasts a series of values (`null` where a period has none), with `engine.forecast`'s options. */
function forecastSeries(values, options = {}) {
  if (!Array.isArray(values) || values.some((v) => v != null && typeof v !== 'number')) {
    throw new QueryError('forecastSeries takes an array of numbers (null where a period has no value)', 'KPI_QUERY', 'query')
  }
  return call(() => native.forecastSeries(values.map((v) => v ?? null), forecastDoc(options)))
}

withAlerting(Engine)
withLifecycle(Engine)

module.exports = {
  AlertEvents,
  Catalog,
  Feed,
  Forecast,
  forecastSeries,
  validateFormula,
  ClientConfig,
  Engine,
  Result,
  Subscription,
  Proposal,
  demo,
  pricing,
  errorCodes,
  KpiError,
  FormulaError,
  QueryError,
  CatalogError,
  DataError,
  CalculationError,
  PricingError,
  InternalError,
  _fromDetail: fromDetail,
  _addArrowModule: (m) => arrowModules.includes(m) || arrowModules.push(m),
}
