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

const openapi = {
  openapi: '3.1.0',
  info: { title: 'KPI Engine dashboard server', version: '0.1.0' },
  components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: { query, error } },
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
