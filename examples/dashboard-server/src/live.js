'use strict'
// Live demo data at the history's own pace: the demo generator spreads a year's orders over
// weekdays (weekends at 0.55), business hours and a season with growth; live appends follow the
// same curve at its latest point, so today's numbers look like any other day's instead of a
// spike. Each tick appends a Poisson-distributed number of orders stamped in the tick's interval.

const { demo } = require('kpi-engine')

/** `date` as demo data takes times: `YYYY-MM-DD HH:MM:SS` (UTC). */
function demoTime(date) {
  return date.toISOString().slice(0, 19).replace('T', ' ')
}

// The demo generator's activity curve (kpi-catalog/src/demo/rng.rs, `Activity`): weights per
// hour of the UTC day and per weekday; test/operations.test.js checks the pace against what
// the generator produces.
const HOURS = Array.from({ length: 24 }, (_, h) => (h <= 5 ? 0.15 : h <= 8 ? 0.6 : h <= 17 ? 1.6 : h <= 21 ? 0.9 : 0.35))
const HOUR_SUM = HOURS.reduce((a, b) => a + b, 0)
const weekdayWeight = (date) => ([0, 6].includes(date.getUTCDay()) ? 0.55 : 1.0)
/** The mean weekday weight of a week: 5 days at 1, 2 at 0.55. */
const WEEK_MEAN = (5 + 2 * 0.55) / 7
/** Growth over the history: the curve ends 1.35 times as busy as it starts, so its last day is
 *  1.35 / (mean 1.175) of an average day. */
const LATEST_GROWTH = 1.35 / 1.175

/** The yearly season at `at`: ±12 % around the year (the curve's `season`). */
const season = (at) => 1 + 0.12 * Math.sin((2 * Math.PI * ((Math.floor(at.getTime() / 86400e3) % 365) - 80)) / 365)

/** Orders per second at `at`, for a history of `rows` orders over `days` days ending now. */
function ratePerSecond(rows, days, at) {
  const perDay = (rows / days) * LATEST_GROWTH * (weekdayWeight(at) / WEEK_MEAN) * season(at)
  return (perDay * (HOURS[at.getUTCHours()] / HOUR_SUM)) / 3600
}

/** A Poisson draw of mean `mean` (Knuth's method; means here are far below 30). */
function poisson(mean, random = Math.random) {
  const limit = Math.exp(-mean)
  let k = 0
  for (let p = random(); p > limit; p *= random()) k += 1
  return k
}

/**
 * Appends live orders to `engine` every `everyMs`, at the pace of a history of `rows` orders over
 * `days` days (`speed` times it, for a livelier demo). Returns a function that stops it; `log`
 * gets a warning when an append fails.
 */
function startLive(catalog, engine, { rows, days = 365, everyMs = 1000, speed = 1, log = console } = {}) {
  let seed = 1000
  const tick = () => {
    const end = new Date()
    const start = new Date(end.getTime() - everyMs)
    const n = poisson(ratePerSecond(rows, days, end) * speed * (everyMs / 1000))
    if (n === 0) return
    seed += 1
    const data = demo.generate(catalog, { rows: n, seed, start: demoTime(start), end: demoTime(end) })
    engine.append('orders', data.orders)
  }
  const timer = setInterval(() => {
    try {
      tick()
    } catch (e) {
      log.warn({ err: e }, 'live demo data: append failed')
    }
  }, everyMs)
  timer.unref()
  return () => clearInterval(timer)
}

module.exports = { startLive, demoTime, ratePerSecond, poisson }
