'use strict'
// One WebSocket for every live query and the alerts (the server's `/ws` protocol): cards subscribe
// and unsubscribe by id; after a lost connection (a server restart) it reconnects with backoff
// and subscribes everything again. The first connection's time is measured for the
// Performance API as `kpi:ws-connect`.

/* exported LiveSocket */
class LiveSocket {
  /** `token`: the credential, if any; `onState(online)`: told when the connection changes. */
  constructor(token, onState) {
    this.token = token
    this.onState = onState
    this.subscriptions = new Map()
    this.retry = 500
    this.measured = false
    this.connect()
  }

  get online() {
    return this.socket?.readyState === WebSocket.OPEN
  }

  connect() {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws${this.token ? `?token=${encodeURIComponent(this.token)}` : ''}`
    performance.mark('kpi:ws-open')
    const socket = new WebSocket(url)
    this.socket = socket
    socket.onopen = () => {
      if (!this.measured) {
        performance.measure('kpi:ws-connect', 'kpi:ws-open')
        this.measured = true
      }
      this.retry = 500
      for (const [id, s] of this.subscriptions) this.send({ type: 'subscribe', id, ...s.fields })
      this.onState(true)
    }
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data)
      const s = this.subscriptions.get(message.id)
      if (s) s.onMessage(message)
    }
    socket.onclose = () => {
      if (this.socket !== socket) return
      this.onState(false)
      setTimeout(() => this.socket === socket && this.connect(), this.retry)
      this.retry = Math.min(10000, this.retry * 2)
    }
  }

  send(message) {
    if (this.online) this.socket.send(JSON.stringify(message))
  }

  /** Follows `fields` (`{ query, period }`, or `{ alerts: true }`); `onMessage` gets the
   *  subscription's messages (`updates`, `alerts`, `alert`, `error`). */
  subscribe(id, fields, onMessage) {
    this.subscriptions.set(id, { fields, onMessage })
    this.send({ type: 'subscribe', id, ...fields })
  }

  unsubscribe(id) {
    if (this.subscriptions.delete(id)) this.send({ type: 'unsubscribe', id })
  }
}
