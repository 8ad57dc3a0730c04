'use strict'
// What a caller's query may read: a client user only its client's KPIs (and no free formulas),
// `by` only the KPI's declared dimensions unless the operator allows any, and every query
// carries the caller's row filters, ANDed with any the query brings, so no field of the
// document can widen what the caller sees.

const { HttpError } = require('./http')

class Access {
  /** `catalog`: the running catalog; `clients`: the client configurations; `limits`: the
   *  configuration's limits (`undeclared_dimensions`). */
  constructor({ catalog, clients, limits = {} }) {
    this.catalog = catalog
    this.clients = clients
    this.undeclared = Boolean(limits.undeclared_dimensions)
  }

  /** The KPI codes a client user may read; `null` for everyone else (all of them). */
  kpisOf(principal) {
    if (principal.role !== 'client') return null
    const client = this.clients.byId.get(principal.client)
    return new Set(client ? client.kpis : [])
  }

  /** Throws 403 unless `principal` may read the KPI `code`. */
  needKpi(principal, code) {
    const allowed = this.kpisOf(principal)
    if (allowed && !allowed.has(code)) throw new HttpError(403, 'FORBIDDEN', `KPI \`${code}\` is not one of your client's KPIs`)
  }

  /** `entries` (catalog entries with a `code`) that `principal` may read. */
  visible(principal, entries) {
    const allowed = this.kpisOf(principal)
    return allowed ? entries.filter((k) => allowed.has(k.code)) : entries
  }

  /** `query` (the engine's query document) as `principal` may run it. */
  scope(principal, query) {
    if (typeof query !== 'object' || query === null || Array.isArray(query)) throw new HttpError(400, 'BAD_REQUEST', 'a query must be a JSON object')
    if (query.formula !== undefined && principal.role === 'client') throw new HttpError(403, 'FORBIDDEN', 'client users calculate their KPIs, not formulas')
    if (typeof query.kpi === 'string') this.needKpi(principal, query.kpi)
    if (Array.isArray(query.by) && !this.undeclared && principal.role !== 'admin') this.checkDimensions(query)
    const security = { ...(typeof query.security === 'object' && query.security !== null ? query.security : {}) }
    for (const [model, filter] of Object.entries(principal.security)) {
      security[model] = typeof security[model] === 'string' ? `(${security[model]}) and (${filter})` : filter
    }
    return Object.keys(security).length > 0 ? { ...query, security } : query
  }

  /** `by` of a KPI query within the KPI's declared dimensions; of a formula, within those some
   *  KPI declares. */
  checkDimensions(query) {
    let declared
    try {
      declared = typeof query.kpi === 'string' ? this.catalog.kpi(query.kpi).dimensions || [] : this.catalog.kpis().flatMap((k) => k.dimensions || [])
    } catch {
      return // an unknown KPI: the engine's own error says so
    }
    const allowed = new Set(declared)
    const other = query.by.filter((d) => typeof d === 'string' && !allowed.has(d))
    if (other.length > 0) {
      const what = typeof query.kpi === 'string' ? `KPI \`${query.kpi}\` declares` : 'the catalog\'s KPIs declare'
      throw new HttpError(400, 'UNDECLARED_DIMENSION', `${other.join(', ')} ${other.length > 1 ? 'are' : 'is'} not a dimension ${what} (${[...allowed].join(', ') || 'none'}); the server's limits.undeclared_dimensions allows any`)
    }
  }
}

module.exports = { Access }
