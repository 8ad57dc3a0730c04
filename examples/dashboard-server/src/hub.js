'use strict'
// One engine subscription per query (as its caller may see it) and period, fanned out to every
// member: a socket of the per-KPI URL, or one subscription id on a `/ws` connection.

/** Unsent bytes past which a socket counts as slow and its pushes are held back and merged. */
const SLOW_BYTES = 1 << 20

/** The time window a stream of `period` covers: recent minutes or hours around `now` (a year of
 *  minutes would be half a million periods), and how often it moves with the clock; days and
 *  longer cover all the data and never move. */
function windowOf(period, now = new Date()) {
  const span = { minute: [2 * 3600e3, 2 * 3600e3, 30 * 60e3], hour: [3 * 86400e3, 86400e3, 6 * 3600e3] }[period]
  if (!span) return { range: {}, rollMs: null }
  const at = (ms) => new Date(now.getTime() + ms).toISOString().slice(0, 19)
  return { range: { start: at(-span[0]), end: at(span[1]) }, rollMs: span[2] }
}

/** The key of a hub: the scoped query (row filters included) and the period. */
const hubKey = (query, period) => JSON.stringify([period, Object.keys(query).sort().map((k) => [k, query[k]])])

/** The period and dimension group an update is of. */
const cellOf = (u) => JSON.stringify([u.period, u.dimensions])

/**
 * A hub keeps the latest value of every period and group so a member that joins later gets a
 * snapshot at once, and serializes each update batch once for all members. A slow socket (over
 * `slowBytes` unsent) is sent nothing meanwhile: the latest update of each period and group it
 * missed is kept, and sent in one message flagged `lagged` once it has room again, so it never
 * loses a value and holds at most one update per period and group. A minute or hour stream
 * without a range of its own rolls its window with the clock (a new view over the new window,
 * then the old one closed), so it never freezes.
 */
class Hub {
  /** `rollMs`: how often a rolling window moves (the period's own by default). */
  constructor(engine, query, period, metrics, onEmpty, slowBytes = SLOW_BYTES, { rollMs } = {}) {
    this.rollMs = rollMs
    this.engine = engine
    this.query = query
    this.label = query.kpi ?? 'formula'
    this.period = period
    this.metrics = metrics
    this.slowBytes = slowBytes
    this.members = new Set()
    this.latest = new Map()
    this.onEmpty = onEmpty
    this.ready = this.open().then(() => {
      this.pump()
      return this.sub
    })
  }

  /** Opens the engine's view over the current window, and schedules the next roll. */
  async open() {
    const own = this.query.start !== undefined || this.query.end !== undefined
    const { range, rollMs } = own ? { range: {}, rollMs: null } : windowOf(this.period)
    const sub = await this.engine.open({ ...this.query, grain: this.period, ...range })
    if (this.closed) return sub.close()
    const old = this.sub
    this.sub = sub
    old?.close()
    if (range.start) for (const [cell, u] of this.latest) if (u.period < range.start) this.latest.delete(cell)
    if (rollMs) {
      this.roller = setTimeout(() => this.open().catch(() => {}), this.rollMs ?? rollMs)
      this.roller.unref()
    }
  }

  /** The message of `updates` for `member`: the batch's JSON with the member's id in front. */
  message(body, member) {
    return member.id === null ? `{"type":"updates",${body.slice(1)}` : `{"type":"updates","id":${JSON.stringify(member.id)},${body.slice(1)}`
  }

  body(updates, lagged) {
    return JSON.stringify({ kpi: this.label, period: this.period, updates, lagged, sent_at: new Date().toISOString() })
  }

  /** Adds `member` (`{ ws, id }`) and sends it the snapshot; rejects when the engine refuses
   *  the query. */
  async join(member) {
    this.members.add(member)
    try {
      await this.ready
    } catch (e) {
      this.leave(member)
      throw e
    }
    if (this.latest.size > 0 && member.ws.readyState === member.ws.OPEN) {
      const snapshot = [...this.latest.values()].map((u) => ({ ...u, kind: 'snapshot', previous_value: null }))
      member.ws.send(this.message(this.body(snapshot, false), member))
      this.metrics.pushed.inc(snapshot.length)
    }
  }

  leave(member) {
    if (!this.members.delete(member)) return
    if (this.members.size === 0) this.close()
  }

  close() {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.roller)
    this.sub?.close()
    this.onEmpty()
  }

  async pump() {
    while (!this.closed) {
      const sub = this.sub
      let batch
      try {
        batch = await sub.next(1000)
      } catch (e) {
        // A view closed by a roll (or the hub's close) ends its wait; a fault of the current
        // one reaches the members.
        if (sub !== this.sub || this.closed) continue
        batch = { error: { code: e.code || 'ERROR', kind: e.kind, message: e.message } }
        await new Promise((resolve) => setTimeout(resolve, 1000).unref())
      }
      if (batch === null || sub !== this.sub) continue
      if (batch.error) {
        const text = JSON.stringify({ type: 'error', kpi: this.label, error: batch.error })
        for (const m of this.members) if (m.ws.readyState === m.ws.OPEN) m.ws.send(m.id === null ? text : `{"id":${JSON.stringify(m.id)},${text.slice(1)}`)
        continue
      }
      for (const u of batch.updates) this.latest.set(cellOf(u), u)
      const body = this.body(batch.updates, batch.lagged)
      for (const m of this.members) this.push(m, batch.updates, body)
    }
  }

  push(member, updates, body) {
    const ws = member.ws
    if (ws.readyState !== ws.OPEN) return
    if (ws.bufferedAmount > this.slowBytes || member.missed) {
      member.missed ||= new Map()
      for (const u of updates) member.missed.set(cellOf(u), u)
      if (ws.bufferedAmount > this.slowBytes) return
      const merged = [...member.missed.values()]
      member.missed = null
      ws.send(this.message(this.body(merged, true), member))
      this.metrics.pushed.inc(merged.length)
      return
    }
    ws.send(this.message(body, member))
    this.metrics.pushed.inc(updates.length)
  }
}

module.exports = { Hub, hubKey, windowOf, SLOW_BYTES }
