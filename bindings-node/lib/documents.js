'use strict'
// Options objects as the engine's documents (query, settings, forecast): camelCase keys in
// snake_case, durations with units. The engine checks every field.

const { QueryError } = require('./errors')

/** `name` in snake_case (`weekStart` → `week_start`). */
const snake = (name) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

/** A duration for the engine: milliseconds (a number) as `"<n>ms"`, text as it is. */
const duration = (v) => (typeof v === 'number' ? `${v}ms` : v)

/**
 * An options object as the engine's document: top-level keys in snake_case, durations given
 * in milliseconds as text with a unit, Dates as ISO text. Keys inside maps (security filters
 * by object model, TTLs by KPI) are codes and stay as they are. The engine checks the rest.
 */
function doc(options, durations = []) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) return options
  const out = {}
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue
    let name = snake(key)
    let v = value instanceof Date ? value.toISOString() : value
    if (name.endsWith('_ms') && durations.includes(name.slice(0, -3))) {
      name = name.slice(0, -3)
      v = typeof v === 'number' ? `${v}ms` : v
    } else if (durations.includes(name)) {
      v = duration(v)
    }
    out[name] = v
  }
  return out
}

const QUERY_DURATIONS = ['timeout', 'refresh']
const ENGINE_DURATIONS = ['timeout', 'allowed_lateness', 'retention', 'clock_skew', 'cluster_connect_timeout']
const CACHE_DURATIONS = ['ttl', 'formula_ttl']

/** Engine settings as the engine's document. */
function settingsDoc(options) {
  const out = doc(options, ENGINE_DURATIONS)
  if (out && out.cache === false) out.cache = { enabled: false }
  else if (out && out.cache && typeof out.cache === 'object') {
    const cache = doc(out.cache, CACHE_DURATIONS)
    for (const map of ['kpis', 'modules', 'value_chains']) {
      if (cache[map]) cache[map] = Object.fromEntries(Object.entries(cache[map]).map(([k, v]) => [k, duration(v)]))
    }
    out.cache = cache
  }
  return out
}

/** A query as the engine's document. */
const queryDoc = (query) => doc(query, QUERY_DURATIONS)

/** Forecast options as the engine's settings document. */
function forecastDoc(options = {}) {
  const { horizon, seasonLength, level, method, trend, seasonal, ...rest } = options ?? {}
  const unknown = Object.keys(rest)
  if (unknown.length) throw new QueryError(`unknown forecast option \`${unknown[0]}\` (expected horizon, seasonLength, level, method, trend, seasonal)`, 'KPI_QUERY', 'query')
  return doc({ horizon, seasonLength, level, method, trend, seasonal })
}

module.exports = { doc, duration, settingsDoc, queryDoc, forecastDoc }
