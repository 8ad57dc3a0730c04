'use strict'
// Data for the addon: rows, Arrow IPC buffers and apache-arrow Tables.

const { DataError } = require('./errors')

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

module.exports = { arrowModules, toData }
