'use strict'
// Live demo data: every `everyMs`, orders stamped in the last interval are appended, so
// dashboards by minute visibly move.

const { demo } = require('kpi-engine')

function startLive(catalog, engine, { everyMs = 1000, rows = 20 } = {}) {
  let seed = 1000
  const tick = () => {
    const end = new Date()
    const start = new Date(end.getTime() - everyMs)
    seed += 1
    // Demo ranges are whole seconds at least; a tick's rows fall within its interval.
    const data = demo.generate(catalog, { rows, seed, start: start.toISOString(), end: end.toISOString() })
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

module.exports = { startLive }
