'use strict'
// Client configurations, persisted as one JSON file (written atomically) so they survive restarts.

const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')
const { HttpError, need } = require('./http')

class Clients {
  constructor(file) {
    this.file = file
    this.byId = new Map()
    if (file && fs.existsSync(file)) {
      for (const c of JSON.parse(fs.readFileSync(file, 'utf8'))) this.byId.set(c.id, c)
    }
  }

  list() {
    return [...this.byId.values()]
  }

  get(id) {
    const c = this.byId.get(id)
    if (!c) throw new HttpError(404, 'NOT_FOUND', `no client \`${id}\``)
    return c
  }

  /** A client from `body`: a `name`, and the KPIs (codes of `catalog`) it measures. */
  create(body, catalog) {
    const client = this.validate(body, catalog)
    client.id = crypto.randomUUID()
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
    if (!this.file) return
    fs.mkdirSync(path.dirname(this.file), { recursive: true })
    const tmp = `${this.file}.tmp`
    fs.writeFileSync(tmp, JSON.stringify(this.list(), null, 2))
    fs.renameSync(tmp, this.file)
  }
}

module.exports = { Clients }
