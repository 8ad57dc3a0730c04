'use strict'
// `/ws`: any number of queries over one connection. The client sends
//   { "type": "subscribe", "id": "a", "query": { "kpi": "revenue", "by": [...], "where": ... }, "period": "day" }
//   { "type": "subscribe", "id": "b", "alerts": true }        (staff: the alert events)
//   { "type": "unsubscribe", "id": "a" }
// and gets { type: "subscribed", id }, then { type: "updates", id, kpi, period, updates, lagged },
// { type: "unsubscribed", id }, or { type: "error", id, error: { code, message } }. A bad
// message is answered with an error and the connection stays; every query is scoped to the
// caller (client users' KPIs, row filters) exactly as over HTTP.

const GRAINS = new Set(['minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'])
/** Subscriptions one connection may hold. */
const MAX_SUBSCRIPTIONS = 100

/** Serves the protocol on `ws` for `principal`; `hubOf(query, period)` gives a shared hub. */
function serveProtocol(ws, { principal, access, hubOf, alertHub, logger }) {
  const subscriptions = new Map()
  const send = (message) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(message))
  const fail = (id, code, message) => send({ type: 'error', id, error: { code, message } })

  const subscribe = async (id, query, period) => {
    if (subscriptions.has(id)) return fail(id, 'BAD_REQUEST', `subscription \`${id}\` exists; unsubscribe it first`)
    if (subscriptions.size >= MAX_SUBSCRIPTIONS) return fail(id, 'TOO_MANY_SUBSCRIPTIONS', `one connection holds at most ${MAX_SUBSCRIPTIONS} subscriptions`)
    let scoped
    try {
      scoped = access.scope(principal, query)
    } catch (e) {
      return fail(id, e.code || 'BAD_REQUEST', e.message)
    }
    // The period is the stream's grain.
    const rest = { ...scoped }
    delete rest.grain
    const hub = hubOf(rest, period)
    const member = { ws, id }
    subscriptions.set(id, { hub, member })
    try {
      send({ type: 'subscribed', id, kpi: hub.label, period })
      await hub.join(member)
    } catch (e) {
      subscriptions.delete(id)
      fail(id, e.code || 'ERROR', e.message)
    }
  }

  ws.on('message', (data, binary) => {
    let message
    try {
      if (binary) throw new Error('messages are JSON text')
      message = JSON.parse(data.toString('utf8'))
    } catch (e) {
      return fail(null, 'BAD_JSON', `a message must be a JSON object: ${e.message}`)
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) return fail(null, 'BAD_REQUEST', 'a message must be a JSON object')
    const { type, id } = message
    if (typeof id !== 'string' || id.length === 0 || id.length > 128) return fail(null, 'BAD_REQUEST', '`id` must be text of 1 to 128 characters')
    if (type === 'subscribe' && message.alerts === true) {
      if (subscriptions.has(id)) return fail(id, 'BAD_REQUEST', `subscription \`${id}\` exists; unsubscribe it first`)
      if (!principal.may('staff')) return fail(id, 'FORBIDDEN', `role ${principal.role} may not see alerts`)
      const member = { ws, id }
      subscriptions.set(id, { hub: alertHub, member })
      send({ type: 'subscribed', id, alerts: true })
      return alertHub.join(member)
    }
    if (type === 'subscribe') {
      const query = message.query
      if (typeof query !== 'object' || query === null || Array.isArray(query)) return fail(id, 'BAD_REQUEST', '`query` must be a query document (an object)')
      const period = message.period ?? query.grain ?? 'day'
      if (!GRAINS.has(period)) return fail(id, 'BAD_REQUEST', `\`period\` must be one of ${[...GRAINS].join(', ')}`)
      return subscribe(id, query, period).catch((e) => logger.error({ err: e }, 'subscribe failed'))
    }
    if (type === 'unsubscribe') {
      const found = subscriptions.get(id)
      if (!found) return fail(id, 'NOT_FOUND', `no subscription \`${id}\``)
      subscriptions.delete(id)
      found.hub.leave(found.member)
      return send({ type: 'unsubscribed', id })
    }
    fail(id, 'BAD_REQUEST', '`type` must be subscribe or unsubscribe')
  })
  ws.on('close', () => {
    for (const { hub, member } of subscriptions.values()) hub.leave(member)
    subscriptions.clear()
  })
}

module.exports = { serveProtocol, MAX_SUBSCRIPTIONS }
