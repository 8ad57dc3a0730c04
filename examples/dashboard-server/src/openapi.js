'use strict'
// The OpenAPI document (GET /openapi.json), built from the route table: each route's summary,
// path parameters, request body schema and response schema, the errors every route may answer,
// and the role it needs. The WebSocket endpoints are described by hand (OpenAPI has no
// WebSocket operations).

const schemas = require('./schemas')

const json = (schema) => ({ content: { 'application/json': { schema } } })
const ERRORS = {
  400: 'invalid request: the body fails its schema, or the engine refuses the query (its code and message say why)',
  401: 'no credential, or one that is not valid',
  403: 'the caller\'s role or client may not do this',
  429: 'over the per-address rate limit',
}

/** The OpenAPI 3.1 document of `routes`. */
function openapi(routes) {
  const paths = {}
  for (const route of routes) {
    const parameters = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: { type: 'string' } }))
    const responses = { [route.status || 200]: { description: route.response?.description || 'success', ...json(route.response || schemas.object) } }
    for (const [code, description] of Object.entries(ERRORS)) {
      if (route.right === 'public' && (code === '401' || code === '403')) continue
      responses[code] = { description, ...json({ $ref: '#/components/schemas/error' }) }
    }
    responses.default = { description: 'an engine or server error', ...json({ $ref: '#/components/schemas/error' }) }
    paths[route.path] ||= {}
    paths[route.path][route.method.toLowerCase()] = {
      summary: route.summary,
      'x-required-role': { public: 'none', read: 'any (client users: their client\'s KPIs)', staff: 'admin or analyst', admin: 'admin' }[route.right],
      ...(route.right === 'public' ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(route.body ? { requestBody: { required: true, ...json(route.body) } } : {}),
      responses,
    }
  }
  const socket = (summary) => ({ get: { summary, responses: { 101: { description: 'switching protocols' }, 400: { description: 'bad request' }, 401: { description: 'missing or wrong credential (?token= for browsers)' }, 403: { description: 'an Origin from another site' }, 429: { description: 'over the rate limit or the per-address socket cap' } } } })
  paths['/ws/kpi/{code}'] = socket('WebSocket: a KPI\'s updates (?period=minute|hour|day); a refused subscription closes with 4000 + its HTTP status')
  paths['/ws'] = socket('WebSocket, any query over one connection: send {type:"subscribe", id, query, period}, {type:"subscribe", id, alerts: true} (staff) and {type:"unsubscribe", id}; updates arrive as {type:"updates", id, updates}')
  paths['/ws/alerts'] = socket('WebSocket: {type: "alerts", active} at once, then {type: "alert", event, active} per event (staff)')
  paths['/metrics'] = { get: { summary: 'Prometheus metrics (text; staff)', responses: { 200: { description: 'the Prometheus text format', content: { 'text/plain': {} } } } } }
  return {
    openapi: '3.1.0',
    info: { title: 'KPI Engine dashboard server', version: '0.2.0' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (HS256 or RS256) or an API key' }, apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
      schemas: { query: schemas.query, error: schemas.error, result: schemas.result, alertRule: schemas.alertRule, report: schemas.report },
    },
    security: [{ bearer: [] }, { apiKey: [] }],
    paths,
  }
}

module.exports = { openapi }
