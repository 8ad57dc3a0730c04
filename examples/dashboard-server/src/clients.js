'use strict'
// Client configurations, persisted as one JSON file (written durably, see store.js) so they
// survive restarts and crashes.

const crypto = require('node:crypto')
const { HttpError, need } = require('./http')
const { JsonFile } = require('./store')

class Clients {
  /** `file`: where they persist (`null`: in memory); `log`: a pino-style logger. */
  constructor(file, log) {
    this.store = new JsonFile(file, log)
    this.byId = new Map()
    for (const c of this.store.read([])) this.byId.set(c.id, c)
  }

  list() {
    return [...this.byId.values()]
  }

  get(id) {
    const c = this.byId.get(id)
    if (!c) throw new HttpError(404, 'NOT_FOUND', `no client \`${id}\``)
    return c
  }

  /** A client from `body`: a `name`, the KPIs (codes of `catalog`) it measures, and optionally
   *  its `id` (what client users' tokens name; a new UUID otherwise). */
  create(body, catalog) {
    const client = this.validate(body, catalog)
    const id = need(body, 'id', 'string', true)
    if (id !== undefined && !/^[\w-]{1,64}$/.test(id)) throw new HttpError(400, 'BAD_REQUEST', '`id` must be 1 to 64 letters, digits, `_` or `-`')
    if (id !== undefined && this.byId.has(id)) throw new HttpError(409, 'CONFLICT', `client \`${id}\` exists; PUT /clients/${id} changes it`)
    client.id = id ?? crypto.randomUUID()
    client.created_at = new Date().toISOString()
    this.byId.set(client.id, client)
    this.save()
    return client
  }

  update(id, body, catalog) {
    const before = this.get(id)
    const client = { ...this.validate({ ...before, ...body }, catalog), id, created_at: before.created_at }
    client.updated_at = new Date().toISOString()
    this.byId.set(id, client)
    this.save()
    return client
  }

  validate(body, catalog) {
    const name = need(body, 'name', 'string').trim()
    if (!name) throw new HttpError(400, 'BAD_REQUEST', '`name` must not be empty')
    const kpis = need(body, 'kpis', 'array', true) || []
    for (const code of kpis) {
      try {
        catalog.kpi(code)
      } catch (e) {
        throw new HttpError(400, e.code || 'BAD_REQUEST', e.message)
      }
    }
    return { name, kpis, settings: body.settings || {} }
  }

  save() {
    this.store.write(this.list())
  }
}

module.exports = { Clients }
