'use strict'
// The HTTP API: catalog, calculations, definitions, client configurations, layouts, proposals
// and demo data. A route is `{ method, path, right, summary, body, response, handler }`: `path`
// is the OpenAPI template (`/kpis/{code}`), `right` what the caller's role needs (`public`,
// `read`, `staff`, `admin`), `body` and `response` JSON schemas (schemas.js). A handler gets
// `{ params, query, body, principal, scope }` and returns the response body, or `[status, body]`.

const { demo, pricing } = require('kpi-engine')
const { HttpError, need } = require('./http')
const s = require('./schemas')

/** A query document from a URL's query string: `grain`, `by` (repeated or comma-separated),
 *  `start`, `end`, `where`, `timezone`. */
function queryFromParams(kpi, params) {
  const query = { kpi }
  for (const key of ['grain', 'start', 'end', 'where', 'timezone']) if (params.has(key)) query[key] = params.get(key)
  const by = params.getAll('by').flatMap((b) => b.split(',')).filter(Boolean)
  if (by.length) query.by = by
  return query
}

/** An integer query-string parameter, or undefined when absent. */
function integer(params, name) {
  if (!params.has(name)) return undefined
  const text = params.get(name)
  if (!/^\d{1,9}$/.test(text)) throw new HttpError(400, 'BAD_REQUEST', `\`${name}\` must be a whole number, got \`${text}\``)
  return Number(text)
}

/** A number query-string parameter, or undefined when absent. */
function number(params, name) {
  if (!params.has(name)) return undefined
  const value = Number(params.get(name))
  if (!Number.isFinite(value)) throw new HttpError(400, 'BAD_REQUEST', `\`${name}\` must be a number`)
  return value
}

/** Throws 403 unless `principal` may read and write client configuration `id`. */
function needClient(principal, id) {
  if (principal.role === 'admin' || (principal.role === 'client' && principal.client === id)) return
  throw new HttpError(403, 'FORBIDDEN', principal.role === 'client' ? 'client users see their own client configuration only' : `role ${principal.role} may not read client configurations`)
}

/** The routes of `engine` (with `catalog`), its `clients`, `access` rules, user `layouts`
 *  and configured `dashboards`. */
function routes({ catalog, engine, clients, access, layouts, dashboards = [] }) {
  const kpiOf = (code, principal) => {
    access.needKpi(principal, code)
    return engine.catalog.kpi(code)
  }
  return [
    { method: 'GET', path: '/kpis', right: 'read', summary: 'The KPIs the caller may read', response: s.entries, handler: ({ principal }) => access.visible(principal, engine.catalog.kpis()) },
    { method: 'GET', path: '/kpis/module/{code}', right: 'read', summary: 'KPIs of a module', response: s.entries, handler: ({ params, principal }) => access.visible(principal, engine.catalog.kpis({ module: params.code })) },
    { method: 'GET', path: '/kpis/{code}', right: 'read', summary: 'One KPI', response: s.entry, handler: ({ params, principal }) => kpiOf(params.code, principal) },
    {
      method: 'GET', path: '/kpis/{code}/history', right: 'read', response: s.result,
      summary: 'The KPI by period (query string: grain, by, start, end, where, timezone)',
      handler: async ({ params, query, scope }) => (await engine.calculate(scope(queryFromParams(params.code, query)))).toJSON(),
    },
    {
      method: 'GET', path: '/kpis/{code}/trend', right: 'read', response: s.object,
      summary: 'Slope per period and its significance per group (query string as history, and window)',
      handler: ({ params, query, scope }) => engine.trend(scope(queryFromParams(params.code, query)), { window: integer(query, 'window') }),
    },
    {
      method: 'GET', path: '/kpis/{code}/forecast', right: 'read', response: s.object,
      summary: 'Forecast with prediction intervals (query string as history, and horizon, season_length, level, method, trend, seasonal)',
      handler: async ({ params, query, scope }) => {
        const seasonal = query.has('seasonal') ? query.get('seasonal') === 'true' : undefined
        const options = { horizon: integer(query, 'horizon'), seasonLength: integer(query, 'season_length'), level: number(query, 'level'), method: query.get('method') ?? undefined, trend: query.get('trend') ?? undefined, seasonal }
        return (await engine.forecast(scope(queryFromParams(params.code, query)), options)).toJSON()
      },
    },
    { method: 'GET', path: '/definitions', right: 'read', summary: 'KPI definitions', response: s.entries, handler: ({ principal }) => access.visible(principal, engine.catalog.kpis()) },
    { method: 'GET', path: '/definitions/{code}', right: 'read', summary: 'One definition', response: s.entry, handler: ({ params, principal }) => kpiOf(params.code, principal) },
    {
      method: 'POST', path: '/definitions/validate', right: 'read', summary: 'Every problem of a formula, with positions and suggestions',
      body: { type: 'object', required: ['formula'], properties: { formula: { type: 'string', maxLength: 10000 } } },
      response: { type: 'object', properties: { valid: { type: 'boolean' }, problems: s.array } },
      handler: ({ body }) => {
        const problems = engine.catalog.validateFormula(body.formula)
        return { valid: problems.length === 0, problems }
      },
    },
    {
      method: 'POST', path: '/definitions', right: 'admin', status: 201, summary: 'Create a KPI in the running engine (validated; 409 if it exists)',
      body: { type: 'object', required: ['code'], properties: { code: { type: 'string' } } }, response: s.change,
      handler: async ({ body }) => {
        if (engine.catalog.kpis().some((k) => k.code === body.code)) throw new HttpError(409, 'CONFLICT', `KPI \`${body.code}\` exists; PUT /definitions/${body.code} changes it`)
        return [201, await engine.defineKpi(body)]
      },
    },
    {
      method: 'PUT', path: '/definitions/{code}', right: 'admin', summary: 'Change a KPI (validated; refused changes change nothing)', body: s.object, response: s.change,
      handler: ({ params, body }) => {
        if (body.code !== undefined && body.code !== params.code) throw new HttpError(400, 'BAD_REQUEST', '`code` must be the one in the path')
        if (!engine.catalog.kpis().some((k) => k.code === params.code)) throw new HttpError(404, 'NOT_FOUND', `no KPI \`${params.code}\`; POST /definitions creates one`)
        return engine.defineKpi({ ...body, code: params.code })
      },
    },
    { method: 'DELETE', path: '/definitions/{code}', right: 'admin', summary: 'Remove a KPI (?cascade=true removes the KPIs using it)', response: s.change, handler: ({ params, query }) => engine.removeKpi(params.code, { cascade: query.get('cascade') === 'true' }) },
    { method: 'POST', path: '/kpis/{code}/trigger', right: 'admin', summary: 'Recalculate the KPI for its live subscribers now', response: s.object, handler: async ({ params }) => ({ kpi: params.code, refreshed_views: await engine.trigger(params.code) }) },
    {
      method: 'POST', path: '/compare', right: 'read', summary: 'A KPI over current against previous (a range, previous_period or last_year)',
      body: { ...s.query, required: ['current'], properties: { ...s.query.properties, current: { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 2 }, previous: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 2 }] } } },
      response: s.object,
      handler: ({ body, scope }) => {
        const { current, previous, ...query } = body
        return engine.compare(scope(query), current, previous)
      },
    },
    { method: 'GET', path: '/object-models', right: 'read', summary: 'Object models', response: s.entries, handler: () => catalog.objectModels() },
    {
      method: 'GET', path: '/object-models/{code}', right: 'read', summary: 'One object model with its Mermaid diagram', response: s.entry,
      handler: ({ params }) => {
        const model = catalog.objectModels().find((o) => o.code === params.code)
        if (!model) throw new HttpError(404, 'NOT_FOUND', `no object model \`${params.code}\``)
        return { ...model, diagram: catalog.diagram([params.code]) }
      },
    },
    { method: 'GET', path: '/modules', right: 'read', summary: 'Modules', response: s.entries, handler: () => catalog.modules() },
    { method: 'GET', path: '/value-chains', right: 'read', summary: 'Value chains', response: s.entries, handler: () => catalog.valueChains() },
    { method: 'GET', path: '/dashboards', right: 'read', summary: 'The dashboards the operator configured (name, kpis, grain, by), with the KPIs the caller may read', response: s.array, handler: ({ principal }) => dashboards.map((d) => ({ ...d, kpis: d.kpis.filter((k) => access.kpisOf(principal)?.has(k) ?? true) })) },
    // Identical calculations at once run once: the engine shares one in flight.
    { method: 'POST', path: '/calculate', right: 'read', summary: 'Calculate a KPI or formula (the engine\'s query document)', body: s.query, response: s.result, handler: async ({ body, scope }) => (await engine.calculate(scope(body))).toJSON() },
    {
      method: 'POST', path: '/calculate/batch', right: 'read', summary: 'Calculate several queries; each fails alone',
      body: { type: 'object', required: ['queries'], properties: { queries: { type: 'array', items: s.query, maxItems: 1000 } } }, response: s.items,
      handler: async ({ body, scope }) => ({ items: (await engine.dashboard(body.queries.map(scope))).items }),
    },
    {
      method: 'POST', path: '/calculate/dashboard', right: 'read', summary: 'Calculate KPIs with shared settings',
      body: { ...s.query, required: ['kpis'], properties: { ...s.query.properties, kpis: s.codes } }, response: s.items,
      handler: ({ body, scope }) => {
        const { kpis, ...shared } = body
        return engine.dashboard(kpis.map((kpi) => scope({ ...shared, kpi })))
      },
    },
    {
      method: 'GET', path: '/clients', right: 'read', summary: 'Client configurations: all for admins, a client user\'s own', response: { type: 'array', items: s.client },
      handler: ({ principal }) => {
        if (principal.role === 'client') return clients.list().filter((c) => c.id === principal.client)
        needClient(principal, null)
        return clients.list()
      },
    },
    { method: 'POST', path: '/clients', right: 'admin', status: 201, summary: 'Create a client configuration', body: { ...s.clientBody, required: ['name'] }, response: s.client, handler: ({ body }) => [201, clients.create(body, catalog)] },
    {
      method: 'GET', path: '/clients/{id}', right: 'read', summary: 'One client configuration (admins, and the client\'s own users)', response: s.client,
      handler: ({ params, principal }) => {
        needClient(principal, params.id)
        return clients.get(params.id)
      },
    },
    {
      method: 'PUT', path: '/clients/{id}', right: 'read', summary: 'Update a client configuration (admins, and the client\'s own users)', body: s.clientBody, response: s.client,
      handler: ({ params, body, principal }) => {
        needClient(principal, params.id)
        if (body.id !== undefined && body.id !== params.id) throw new HttpError(400, 'BAD_REQUEST', '`id` must be the one in the path')
        return clients.update(params.id, body, catalog)
      },
    },
    {
      method: 'GET', path: '/me', right: 'read', summary: 'The caller: role, client, row filters, and the saved layout',
      response: { type: 'object', properties: { subject: { type: 'string' }, role: { type: 'string' }, client: { type: ['string', 'null'] }, security: { type: 'object' }, layout: { type: ['object', 'null'] } } },
      handler: ({ principal }) => ({ ...principal.toJSON(), layout: layouts.get(principal.subject) }),
    },
    {
      method: 'PUT', path: '/me/layout', right: 'read', summary: 'Save the caller\'s dashboard layout: KPIs, view per KPI, period', body: s.layout, response: s.layout,
      handler: ({ principal, body }) => {
        for (const code of body.kpis || []) access.needKpi(principal, code)
        return layouts.set(principal.subject, body)
      },
    },
    { method: 'POST', path: '/analysis/required-objects', right: 'read', summary: 'Object models and columns KPIs need', body: s.kpiList, response: s.object, handler: ({ body }) => catalog.requiredObjects(body.kpis) },
    { method: 'GET', path: '/proposals/questionnaire', right: 'read', summary: 'The questionnaire', response: s.object, handler: () => pricing.questionnaire() },
    { method: 'POST', path: '/proposals/questionnaire', right: 'read', summary: 'The questionnaire for KPIs', body: s.kpiList, response: s.object, handler: ({ body }) => pricing.questionnaire(catalog, body.kpis) },
    {
      method: 'POST', path: '/proposals', right: 'read', summary: 'Price a proposal',
      body: { type: 'object', required: ['kpis', 'answers'], properties: { kpis: s.codes, answers: { type: 'object' } } },
      response: { type: 'object', properties: { proposal: s.object, markdown: { type: 'string' } } },
      handler: ({ body }) => {
        const proposal = pricing.price(catalog, { kpis: body.kpis, answers: body.answers })
        return { proposal: proposal.toJSON(), markdown: proposal.toMarkdown() }
      },
    },
    {
      method: 'POST', path: '/demo/generate', right: 'admin', summary: 'Generate and register demo data',
      body: { type: 'object', properties: { rows: { type: 'integer', minimum: 1, maximum: 1000000 }, seed: { type: 'integer' }, start: { type: 'string' }, end: { type: 'string' } } },
      response: { type: 'object', properties: { registered: { type: 'array', items: { type: 'string' } } } },
      handler: ({ body }) => {
        const data = demo.generate(catalog, { rows: need(body, 'rows', 'number', true) ?? 10000, seed: body.seed ?? 42, start: body.start, end: body.end })
        for (const [name, ipc] of Object.entries(data)) engine.register(name, ipc)
        return { registered: Object.keys(data) }
      },
    },
  ]
}

module.exports = { routes, queryFromParams }
