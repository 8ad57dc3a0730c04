'use strict'
// The OpenAPI document of the server (GET /openapi.json).

const query = {
  type: 'object',
  required: ['kpi'],
  properties: {
    kpi: { type: 'string' },
    grain: { type: 'string', enum: ['minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'] },
    by: { type: 'array', items: { type: 'string' } },
    start: { type: 'string' },
    end: { type: 'string' },
    where: { type: 'string' },
  },
}
const error = { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } } }
const ok = (description) => ({ 200: { description }, default: { description: 'error', content: { 'application/json': { schema: error } } } })
const body = (schema) => ({ required: true, content: { 'application/json': { schema } } })
const codes = { type: 'object', required: ['kpis'], properties: { kpis: { type: 'array', items: { type: 'string' } } } }

const alertRule = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string' },
    when: { type: 'string', enum: ['thresholds', 'above', 'below', 'change', 'no_data', 'source_stale', 'source_errors', 'late_rows'] },
    kpi: { type: 'string' },
    grain: query.properties.grain,
    by: query.properties.by,
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
    name: { type: 'string' },
    title: { type: 'string' },
    kpis: { type: 'array', items: { type: 'string' }, maxItems: 200 },
    grain: { type: 'string' },
    by: query.properties.by,
    where: { type: 'string' },
    range: { oneOf: [{ type: 'string', enum: ['yesterday', 'last_7_days', 'last_30_days', 'last_week', 'last_month', 'last_quarter', 'last_year', 'month_to_date', 'year_to_date'] }, { type: 'object', required: ['start', 'end'], properties: { start: { type: 'string' }, end: { type: 'string' } } }] },
    format: { type: 'string', enum: ['csv', 'json', 'pdf'] },
    schedule: { type: 'string', description: 'five-field cron in timezone' },
    timezone: { type: 'string' },
    recipients: { type: 'array', items: { type: 'string' } },
    directory: { type: 'string' },
  },
}

const openapi = {
  openapi: '3.1.0',
  info: { title: 'KPI Engine dashboard server', version: '0.1.0' },
  components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: { query, error, alertRule, report } },
  security: [{ bearer: [] }],
  paths: {
    '/health': { get: { summary: 'Liveness', security: [], responses: ok('ok') } },
    '/metrics': { get: { summary: 'Prometheus metrics', responses: ok('text') } },
    '/kpis': { get: { summary: 'All KPIs', responses: ok('KPIs') } },
    '/kpis/{code}': { get: { summary: 'One KPI', responses: ok('the KPI') } },
    '/kpis/{code}/history': { get: { summary: 'The KPI by period (query string: grain, by, start, end, where, timezone)', responses: ok('result') } },
    '/kpis/{code}/trend': { get: { summary: 'Slope per period and its significance per group (query string as history, and window)', responses: ok('trend') } },
    '/kpis/{code}/forecast': { get: { summary: 'Forecast with prediction intervals (query string as history, and horizon, season_length, level, method, trend, seasonal)', responses: ok('forecast') } },
    '/definitions': { get: { summary: 'KPI definitions', responses: ok('KPIs') }, post: { summary: 'Create a KPI in the running engine (validated; 409 if it exists)', requestBody: body({ type: 'object' }), responses: ok('the change') } },
    '/definitions/{code}': { get: { summary: 'One definition', responses: ok('the KPI') }, put: { summary: 'Change a KPI (validated; refused changes change nothing)', requestBody: body({ type: 'object' }), responses: ok('the change') }, delete: { summary: 'Remove a KPI (?cascade=true removes the KPIs using it)', responses: ok('the change') } },
    '/definitions/validate': { post: { summary: 'Every problem of a formula, with positions and suggestions', requestBody: body({ type: 'object', properties: { formula: { type: 'string' } } }), responses: ok('problems') } },
    '/kpis/{code}/trigger': { post: { summary: 'Recalculate the KPI for its live subscribers now', responses: ok('views refreshed') } },
    '/compare': { post: { summary: 'A KPI over current against previous (a range, previous_period or last_year)', requestBody: body(query), responses: ok('comparison') } },
    '/kpis/module/{code}': { get: { summary: 'KPIs of a module', responses: ok('KPIs') } },
    '/object-models': { get: { summary: 'Object models', responses: ok('models') } },
    '/object-models/{code}': { get: { summary: 'One object model with its Mermaid diagram', responses: ok('model') } },
    '/modules': { get: { summary: 'Modules', responses: ok('modules') } },
    '/value-chains': { get: { summary: 'Value chains', responses: ok('value chains') } },
    '/calculate': { post: { summary: 'Calculate a KPI', requestBody: body(query), responses: ok('result') } },
    '/calculate/batch': { post: { summary: 'Calculate several queries', requestBody: body({ type: 'object', properties: { queries: { type: 'array', items: query } } }), responses: ok('items') } },
    '/calculate/dashboard': { post: { summary: 'Calculate KPIs with shared settings', requestBody: body(codes), responses: ok('dashboard') } },
    '/clients': {
      get: { summary: 'Client configurations', responses: ok('clients') },
      post: { summary: 'Create a client configuration', requestBody: body({ type: 'object', required: ['name'], properties: { name: { type: 'string' }, kpis: codes.properties.kpis, settings: { type: 'object' } } }), responses: { 201: { description: 'created' } } },
    },
    '/clients/{id}': { get: { summary: 'One client', responses: ok('client') }, put: { summary: 'Update a client', responses: ok('client') } },
    '/analysis/required-objects': { post: { summary: 'Object models and columns KPIs need', requestBody: body(codes), responses: ok('analysis') } },
    '/proposals/questionnaire': { get: { summary: 'The questionnaire', responses: ok('questionnaire') }, post: { summary: 'The questionnaire for KPIs', requestBody: body(codes), responses: ok('questionnaire') } },
    '/proposals': { post: { summary: 'Price a proposal', requestBody: body({ type: 'object', required: ['kpis', 'answers'], properties: { kpis: codes.properties.kpis, answers: { type: 'object' } } }), responses: ok('proposal') } },
    '/alerts': { get: { summary: 'Active alerts, critical first: rule, kpi or source, level, group, period, value, threshold, since, message', responses: ok('alerts') } },
    '/alerts/history': { get: { summary: 'The last alert events (?limit=, 100 by default): fired and resolved', responses: ok('events') } },
    '/alerts/rules': {
      get: { summary: 'Alert rules with their state', responses: ok('rules') },
      post: { summary: 'Add an alert rule: name, kpi (with by, grain, where) or source, when (thresholds, above, below, change, no_data, source_stale, source_errors, late_rows), warning, critical, for, hysteresis', requestBody: body(alertRule), responses: { 201: { description: 'the rule' }, 400: { description: 'refused, with the reason (KPI_ALERT)' } } },
    },
    '/alerts/rules/{name}': { delete: { summary: 'Remove an alert rule', responses: ok('removed') } },
    '/reports': {
      get: { summary: 'Reports with their next and last runs', responses: ok('reports') },
      post: { summary: 'Add a report; with a schedule it runs in its time zone', requestBody: body(report), responses: { 201: { description: 'the report with its id' }, 400: { description: 'refused, with the reason (KPI_REPORT)' } } },
    },
    '/reports/{id}': { get: { summary: 'One report', responses: ok('report') }, put: { summary: 'Replace a report', requestBody: body(report), responses: ok('report') }, delete: { summary: 'Remove a report', responses: ok('removed') } },
    '/reports/{id}/runs': { get: { summary: 'A report\'s runs with their outcome', responses: ok('runs') } },
    '/reports/{id}/run': {
      post: {
        summary: 'Run a report now: without recipients the answer is the document itself; with them, the run (delivered_to, ok, error)',
        responses: { 200: { description: 'the document or the run', content: { 'text/csv': {}, 'application/json': {}, 'application/pdf': {} } }, 404: { description: 'no such report' }, 502: { description: 'delivery failed' } },
      },
    },
    '/ws/alerts': { get: { summary: 'WebSocket: {type: "alerts", active} at once, then {type: "alert", event, active} per event', responses: { 101: { description: 'switching protocols' } } } },
    '/demo/generate': { post: { summary: 'Generate and register demo data', responses: ok('registered tables') } },
    '/ws/kpi/{code}': {
      get: {
        summary: 'WebSocket: a KPI\'s updates (?period=minute|hour|day); a refused subscription closes with 4000 + its HTTP status',
        responses: {
          101: { description: 'switching protocols' },
          400: { description: 'unknown period' },
          401: { description: 'missing or wrong token' },
          429: { description: 'over the rate limit' },
        },
      },
    },
  },
}

module.exports = { openapi }
