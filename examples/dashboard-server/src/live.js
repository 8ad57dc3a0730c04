'use strict'
// Live demo data: every `everyMs`, orders stamped in the last interval are appended, so
// dashboards by minute visibly move.

const { demo } = require('kpi-engine')

/** `date` as demo data takes times: `YYYY-MM-DD HH:MM:SS` (UTC). */
function demoTime(date) {
  return date.toISOString().slice(0, 19).replace('T', ' ')
}

function startLive(catalog, engine, { everyMs = 1000, rows = 20 } = {}) {
  let seed = 1000
  const tick = () => {
    const end = new Date()
    const start = new Date(end.getTime() - everyMs)
    seed += 1
    // Demo ranges are whole seconds at least; a tick's rows fall within its interval.
    const data = demo.generate(catalog, { rows, seed, start: demoTime(start), end: demoTime(end) })
    engine.append('orders', data.orders)
  }
  const timer = setInterval(() => {
    try {
      tick()
    } catch (e) {
      console.error(`live data: ${e.message}`)
    }
  }, everyMs)
  timer.unref()
  return () => clearInterval(timer)
}

module.exports = { startLive, demoTime }
