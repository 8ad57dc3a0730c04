'use strict'
// Structured JSON logs (pino) and W3C trace context: a request's `traceparent` is accepted, its
// trace id logged with every line of the request, and answered with this server's span.

const crypto = require('node:crypto')
const pino = require('pino')

/** A JSON logger at `level` writing to `destination` (stdout by default). Authorization
 *  headers and tokens never reach the log. */
function createLogger({ level = 'info', destination } = {}) {
  return pino({ level, base: { service: 'kpi-dashboard-server' }, timestamp: pino.stdTimeFunctions.isoTime, redact: ['req.headers.authorization', 'req.headers["x-api-key"]', 'token'] }, destination)
}

/** A logger that writes nothing (tests and embedders that do not ask for one). */
const silent = () => pino({ level: 'silent' })

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** The trace of a request: its `traceparent`'s trace id and parent span when it has a valid
 *  one (version 00, ids not all zero), else a new trace; `span` is this server's span id and
 *  `header` the `traceparent` to answer and pass on. */
function traceOf(req) {
  const given = TRACEPARENT.exec(String(req.headers.traceparent || '').trim().toLowerCase())
  const valid = given && given[1] !== 'ff' && !/^0+$/.test(given[2]) && !/^0+$/.test(given[3])
  const traceId = valid ? given[2] : crypto.randomBytes(16).toString('hex')
  const span = crypto.randomBytes(8).toString('hex')
  const flags = valid ? given[4] : '01'
  return { traceId, parent: valid ? given[3] : null, span, header: `00-${traceId}-${span}-${flags}` }
}

module.exports = { createLogger, silent, traceOf }
