'use strict'
// The package's API over the native addon (kpi-engine.node): errors become KpiError
// subclasses with a `code`, rows and Arrow tables are accepted as data, and subscriptions get a
// callback form and an async iterator.

const native = require('./kpi-engine.node')

/** Base class of every error of the KPI engine; `code` says which kind (e.g. `KPI_FORMULA`). */
class KpiError extends Error {
  constructor(message, code) {
    super(message)
    this.name = new.target.name
    this.code = code
  }
}
/** A formula, filter or dimension is invalid; `line`, `column`, `start` and `end` say where. */
class FormulaError extends KpiError {}
/** The query's settings are invalid. */
class QueryError extends KpiError {}
/** The catalog is invalid or does not hold what was asked. */
class CatalogError extends KpiError {}
/** Registered data is missing or does not fit its object model. */
class DataError extends KpiError {}
/** A calculation failed, timed out, was cancelled or ran out of memory. */
class CalculationError extends KpiError {}
/** A proposal's answers are invalid. */
class PricingError extends KpiError {}

function errorClass(code) {
  if (code === 'KPI_FORMULA') return FormulaError
  if (code === 'KPI_QUERY' || code === 'KPI_OPTION') return QueryError
  if (code === 'KPI_CATALOG') return CatalogError
  if (code === 'KPI_DATA' || code === 'KPI_SCHEMA' || code === 'KPI_READ') return DataError
  if (code === 'KPI_PRICING') return PricingError
  return CalculationError
}

/** The native error `e` as a KpiError (its reason is JSON); other errors unchanged. */
function typed(e) {
  let detail
  try {
    detail = JSON.parse(e.message)
  } catch {
    return e
  }
  if (!detail || typeof detail.code !== 'string') return e
  const err = new (errorClass(detail.code))(detail.message, detail.code)
  for (const key of ['line', 'column', 'start', 'end']) {
    if (key in detail) err[key] = detail[key]
  }
  return err
}

function call(fn) {
  try {
    return fn()
  } catch (e) {
    throw typed(e)
  }
}

async function callAsync(fn) {
  try {
    return await fn()
  } catch (e) {
    throw typed(e)
  }
}

// The apache-arrow module instances a Table may come from: the CommonJS one, and the ES
// module one that index.mjs adds. A table must be written by its own instance (apache-arrow
// checks types with instanceof).
const arrowModules = []

function arrowModuleOf(table) {
  try {
    const cjs = require('apache-arrow')
    if (!arrowModules.includes(cjs)) arrowModules.push(cjs)
  } catch {
    // apache-arrow is optional: without it, tables cannot be passed, only rows and IPC.
  }
  return arrowModules.find((m) => table instanceof m.Table)
}

/** `data` for the addon: an Arrow IPC buffer, or rows as JSON. */
function toData(data) {
  if (Buffer.isBuffer(data)) return data
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  if (Array.isArray(data)) return JSON.stringify(data)
  const arrow = data && typeof data === 'object' ? arrowModuleOf(data) : undefined
  if (arrow) return Buffer.from(arrow.tableToIPC(data, 'stream'))
  throw new DataError('expected rows (an array of objects), an Arrow IPC buffer or an apache-arrow Table', 'KPI_DATA')
}

/** A catalog of KPIs, object models, modules and value chains. */
class Catalog {
  constructor(inner) {
    this._inner = inner
  }
  /** The standard catalog. */
  static standard() {
    return new Catalog(native.Catalog.standard())
  }
  /** A catalog from YAML text. */
  static fromYaml(text) {
    return new Catalog(call(() => native.Catalog.fromYaml(text)))
  }
  /** A catalog from JSON text (or an object). */
  static fromJson(text) {
    return new Catalog(call(() => native.Catalog.fromJson(typeof text === 'string' ? text : JSON.stringify(text))))
  }
  kpis(filter = {}) {
    return call(() => this._inner.kpis({ module: filter.module, valueChain: filter.valueChain }))
  }
  kpi(code) {
    return call(() => this._inner.kpi(code))
  }
  objectModels() {
    return this._inner.objectModels()
  }
  modules() {
    return this._inner.modules()
  }
  valueChains() {
    return this._inner.valueChains()
  }
  requiredObjects(kpis) {
    return call(() => this._inner.requiredObjects(kpis))
  }
  diagram(objectModels) {
    return call(() => this._inner.diagram(objectModels))
  }
}

/** A calculated result: `rows` as plain objects, `toArrowIPC()` for apache-arrow. */
class Result {
  constructor(inner) {
    this._inner = inner
    this._json = undefined
    this._rows = undefined
  }
  get json() {
    if (this._json === undefined) this._json = this._inner.toJson()
    return this._json
  }
  /** One object per period and dimension group: `period`, the dimensions by label, `value`,
   *  with keys in that (the result's column) order. */
  get rows() {
    if (this._rows === undefined) {
      const { rows, dimensions } = this.json
      // The engine's JSON objects keep keys sorted; JavaScript keeps insertion order.
      this._rows = rows.map((r) => {
        const row = 'period' in r ? { period: r.period } : {}
        for (const d of dimensions) row[d] = r[d]
        row.value = r.value
        return row
      })
    }
    return this._rows
  }
  /** The latest value, previous value, status and trend per dimension group. */
  get summaries() {
    return this.json.summaries
  }
  /** The rows as an Arrow IPC stream (`tableFromIPC(res.toArrowIPC())`). */
  toArrowIPC() {
    return call(() => this._inner.toArrowIPC())
  }
  toJSON() {
    return this.json
  }
}

/** Updates of a subscribed query; `next()`, `for await`, or `close()`. */
class Subscription {
  constructor(inner) {
    this._inner = inner
    this._closed = false
  }
  /** The next updates `{ updates, lagged, error }`, or null after `timeoutMs` or once closed. */
  async next(timeoutMs) {
    if (this._closed) return null
    return callAsync(() => this._inner.next(timeoutMs))
  }
  close() {
    this._closed = true
    this._inner.close()
  }
  async *[Symbol.asyncIterator]() {
    while (!this._closed) {
      const batch = await this.next(250)
      if (batch === null) continue
      if (batch.error) throw new CalculationError(batch.error, 'KPI_EXECUTION')
      for (const update of batch.updates) yield { ...update, lagged: batch.lagged }
    }
  }
}

/** Calculates KPIs over registered data. Calculations return Promises and run off the event loop. */
class Engine {
  constructor(catalog, options = {}) {
    if (!(catalog instanceof Catalog)) throw new TypeError('expected a Catalog')
    this.catalog = catalog
    this._inner = call(
      () => new native.Engine(catalog._inner, { timezone: options.timezone, timeoutMs: options.timeoutMs, memoryLimit: options.memoryLimit }),
    )
  }
  /** Registers rows, an Arrow IPC buffer or an apache-arrow Table as the data of `objectModel`. */
  register(objectModel, data) {
    call(() => this._inner.register(objectModel, toData(data)))
  }
  /** Appends rows; returns `{ rows, lateRows, beyondLateness }`. */
  append(objectModel, data) {
    return call(() => this._inner.append(objectModel, toData(data)))
  }
  /** Calculates `{ kpi | formula, grain, by, start, end, where }`. */
  async calculate(query) {
    return new Result(await callAsync(() => this._inner.calculate(query)))
  }
  /** Calculates several queries concurrently: per item `{ ok, result }` or `{ ok: false, error: { code, message } }`. */
  async dashboard(queries) {
    return callAsync(() => this._inner.dashboard(queries))
  }
  /** The engine's counters since it was created: `{ calculations, cache_hits, shared, rows_ingested, ... }`. */
  metrics() {
    return call(() => this._inner.metrics())
  }
  async explain(query) {
    return callAsync(() => this._inner.explain(query))
  }
  async toSql(query, dialect = 'postgres') {
    return callAsync(() => this._inner.toSql(query, dialect))
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
  /** A subscription to read with `next()`. */
  async open(query, options = {}) {
    return new Subscription(await callAsync(() => this._inner.subscribe(query, options.refresh)))
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

module.exports = {
  Catalog,
  Engine,
  Result,
  Subscription,
  Proposal,
  demo,
  pricing,
  KpiError,
  FormulaError,
  QueryError,
  CatalogError,
  DataError,
  CalculationError,
  PricingError,
  _addArrowModule: (m) => arrowModules.includes(m) || arrowModules.push(m),
}
