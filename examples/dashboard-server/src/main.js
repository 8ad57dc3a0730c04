#!/usr/bin/env node
'use strict'
// Starts the dashboard server on the standard catalog with demo data and live appends.
// Environment: PORT (default 8080), HOST (default 127.0.0.1), KPI_TOKEN (bearer token, off
// by default), KPI_DATA_DIR (client configurations; default ./data), KPI_DEMO_ROWS.

const path = require('node:path')
const { Catalog, Engine, demo } = require('kpi-engine')
const { createServer } = require('./app')
const { startLive, demoTime } = require('./live')

const catalog = Catalog.standard()
const engine = new Engine(catalog, { timezone: 'UTC' })
const now = new Date()
const yearAgo = new Date(now.getTime() - 365 * 86400e3)
const data = demo.generate(catalog, { rows: Number(process.env.KPI_DEMO_ROWS || 50000), seed: 42, start: demoTime(yearAgo), end: demoTime(now) })
for (const [name, ipc] of Object.entries(data)) engine.register(name, ipc)

const server = createServer({
  catalog,
  engine,
  clientsFile: path.join(process.env.KPI_DATA_DIR || path.join(process.cwd(), 'data'), 'clients.json'),
  token: process.env.KPI_TOKEN || undefined,
})
const stopLive = startLive(catalog, engine)
const port = Number(process.env.PORT || 8080)
const host = process.env.HOST || '127.0.0.1'
server.listen(port, host, () => console.log(`KPI dashboard server on http://${host}:${port}/ (OpenAPI: /openapi.json)`))

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    stopLive()
    await server.shutdown()
    process.exit(0)
  })
}
