'use strict'
// What calculations give back: results, forecasts, subscriptions and feeds over the addon's
// objects.

const { DataError, call, callAsync } = require('./errors')
const { arrowModules } = require('./arrow')

/** A calculated result: `rows` as plain objects, `toArrow()` as an apache-arrow Table. */
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
  /** How the result came about: `full` (calculated), `hit` (cached over the same data),
   *  `shared` (an identical calculation in flight) or `patched` (a cached result brought up to
   *  date after appends). */
  get cacheOutcome() {
    return this.json.cache
  }
  /** The rows as an Arrow IPC stream (`tableFromIPC(res.toArrowIPC())`). */
  toArrowIPC() {
    return call(() => this._inner.toArrowIPC())
  }
  /** The rows as an apache-arrow Table (apache-arrow must be installed). */
  toArrow() {
    let arrow
    try {
      arrow = arrowModules[0] ?? require('apache-arrow')
    } catch {
      throw new DataError('toArrow() needs the apache-arrow package: npm install apache-arrow', 'KPI_DATA', 'data')
    }
    return arrow.tableFromIPC(this.toArrowIPC())
  }
  toJSON() {
    return this.json
  }
}

/** A KPI's forecast (`engine.forecast`): rows of `period`, the dimensions, `value`, `lower`,
 *  `upper`, and per dimension group the model chosen, its parameters and its fitted history. */
class Forecast {
  constructor(inner) {
    this._inner = inner
    this._json = undefined
  }
  /** Everything as a plain object: `groups` (each with `dimensions`, `model`, `parameters`,
   *  `aicc`, `sigma`, `history`, `forecast`) and the groups `skipped`. */
  get json() {
    if (this._json === undefined) this._json = this._inner.toJson()
    return this._json
  }
  /** One object per group and forecast period, keys in column order. */
  get rows() {
    const { groups, dimensions } = this.json
    return groups.flatMap((g) =>
      g.forecast.map((f) => {
        const row = { period: f.period }
        dimensions.forEach((d, i) => (row[d] = g.dimensions[i]))
        return Object.assign(row, { value: f.value, lower: f.lower, upper: f.upper })
      }),
    )
  }
  /** Per dimension group: its `dimensions` and the `model` chosen. */
  get models() {
    return this.json.groups.map((g) => ({ dimensions: g.dimensions, model: g.model }))
  }
  /** The rows as an Arrow IPC stream. */
  toArrowIPC() {
    return call(() => this._inner.toArrowIPC())
  }
  toJSON() {
    return this.json
  }
}

/** A live feed from a PostgreSQL table (`engine.followPostgres`). */
class Feed {
  constructor(inner) {
    this._inner = inner
  }
  /** `{ polls, rows_appended, errors, last_error, last_poll, position }`; `null` once stopped. */
  async status() {
    return callAsync(() => this._inner.status())
  }
  /** Stops the feed, waiting for a poll in progress; nothing is appended after. */
  async stop() {
    return callAsync(() => this._inner.stop())
  }
}

/** Updates of a subscribed query; `next()`, `for await`, or `close()`. */
class Subscription {
  constructor(inner) {
    this._inner = inner
    this._closed = false
  }
  /** The next updates `{ updates, lagged, error }` (`error`: `{ code, kind, message }` of a
   *  failed refresh), or null after `timeoutMs` or once closed. */
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
      if (batch.error) throw fromDetail(batch.error)
      for (const update of batch.updates) yield { ...update, lagged: batch.lagged }
    }
  }
}

module.exports = { Result, Forecast, Feed, Subscription }
