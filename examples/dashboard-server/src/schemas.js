'use strict'
// JSON schemas of request bodies and responses. Routes name them; app.js validates bodies with
// them (ajv) before a handler runs, and openapi.js builds the OpenAPI document from the same
// objects, so the document cannot drift from what the server accepts.

const grain = { type: 'string', enum: ['minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'] }
const codes = { type: 'array', items: { type: 'string', maxLength: 200 }, maxItems: 1000 }
const dimensions = { type: 'array', items: { type: 'string', maxLength: 200 }, maxItems: 8 }

/** The engine's query document (the engine refuses fields it does not know, with their name). */
const query = {
  type: 'object',
  properties: {
    kpi: { type: 'string', maxLength: 200 },
    formula: { type: 'string', maxLength: 10000 },
    grain,
    by: dimensions,
    start: { type: 'string', maxLength: 40 },
    end: { type: 'string', maxLength: 40 },
    where: { type: 'string', maxLength: 10000 },
    security: { type: 'object', additionalProperties: { type: 'string' } },
    timezone: { type: 'string', maxLength: 64 },
    timeout: { type: ['string', 'number'] },
    empty_periods: { type: 'string', enum: ['include', 'omit'] },
    bypass_cache: { type: 'boolean' },
    active_only: { type: 'boolean' },
  },
}

const error = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, kind: { type: 'string' }, message: { type: 'string' }, request_id: { type: 'string' } },
    },
  },
}

const period = { type: 'string', description: 'the period\'s start, RFC 3339' }
/** A calculation's result. */
const result = {
  type: 'object',
  required: ['rows'],
  properties: {
    kpi: { type: ['string', 'null'] },
    name: { type: ['string', 'null'] },
    unit: { type: ['string', 'null'] },
    grain: { type: ['string', 'null'] },
    dimensions: { type: 'array', items: { type: 'string' } },
    range: { type: ['object', 'null'] },
    rows: { type: 'array', items: { type: 'object', properties: { period, value: { type: ['number', 'null'] } }, additionalProperties: true } },
    summaries: { type: 'array', items: { type: 'object' } },
    from_cache: { type: 'boolean' },
    timing: { type: 'object' },
  },
}
const item = { type: 'object', required: ['ok'], properties: { ok: { type: 'boolean' }, elapsed_ms: { type: 'number' }, result, error: error.properties.error } }
const items = { type: 'object', required: ['items'], properties: { items: { type: 'array', items: item }, wall_ms: { type: 'number' } } }
const entry = { type: 'object', required: ['code'], properties: { code: { type: 'string' }, name: { type: 'string' }, description: { type: 'string' } }, additionalProperties: true }
const entries = { type: 'array', items: entry }
const client = {
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' }, kpis: codes, settings: { type: 'object' }, created_at: { type: 'string' }, updated_at: { type: 'string' } },
}
const clientBody = { type: 'object', properties: { id: { type: 'string', maxLength: 64 }, name: { type: 'string', maxLength: 200 }, kpis: codes, settings: { type: 'object' } } }
const change = { type: 'object', properties: { kpi: { type: 'string' } }, additionalProperties: true }
const layout = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kpis: { type: 'array', items: { type: 'string', maxLength: 200 }, maxItems: 200 },
    views: { type: 'object', additionalProperties: { type: 'string', maxLength: 20 } },
    period: { type: 'string', enum: ['minute', 'hour', 'day'] },
  },
}
const alertRule = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', maxLength: 200 },
    when: { type: 'string', enum: ['thresholds', 'above', 'below', 'change', 'no_data', 'source_stale', 'source_errors', 'late_rows'] },
    kpi: { type: 'string' },
    grain,
    by: dimensions,
    where: { type: 'string' },
    warning: { type: 'number' },
    critical: { type: 'number' },
    against: { type: 'string', enum: ['previous_period', 'last_year'] },
    direction: { type: 'string', enum: ['up', 'down', 'either'] },
    periods: { type: 'integer' },
    source: { type: 'string' },
    after: { type: ['string', 'number'] },
    for: { type: ['string', 'number'] },
    hysteresis: { type: 'number' },
  },
}
const report = {
  type: 'object',
  required: ['name', 'kpis'],
  properties: {
    name: { type: 'string', maxLength: 200 },
    title: { type: 'string' },
    kpis: { ...codes, maxItems: 200 },
    grain: { type: 'string' },
    by: dimensions,
    where: { type: 'string' },
    range: { oneOf: [{ type: 'string', enum: ['yesterday', 'last_7_days', 'last_30_days', 'last_week', 'last_month', 'last_quarter', 'last_year', 'month_to_date', 'year_to_date'] }, { type: 'object', required: ['start', 'end'], properties: { start: { type: 'string' }, end: { type: 'string' } } }] },
    format: { type: 'string', enum: ['csv', 'json', 'pdf'] },
    schedule: { type: 'string', description: 'five-field cron in timezone' },
    timezone: { type: 'string' },
    recipients: { type: 'array', items: { type: 'string' } },
    directory: { type: 'string' },
  },
}

module.exports = {
  grain, codes, query, error, result, item, items, entry, entries, client, clientBody, change, layout, alertRule, report,
  /** `{ kpis: [codes] }`. */
  kpiList: { type: 'object', required: ['kpis'], properties: { kpis: codes } },
  /** Any JSON object (the engine checks the document). */
  object: { type: 'object' },
  array: { type: 'array' },
}
