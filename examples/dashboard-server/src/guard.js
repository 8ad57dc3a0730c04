'use strict'
// What every request and upgrade passes before anything costly: the per-address rate limit
// (before authentication, so a flood of bad tokens is refused cheaply), the Host allow-list
// (against DNS rebinding), the Origin check on WebSocket upgrades, and the headers every answer
// carries.

/** Headers on every answer: no framing, no sniffing, scripts and connections only from here. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
}

/** A token bucket per client address holding a second's requests. */
class RateLimiter {
  constructor(perSecond) {
    this.perSecond = perSecond
    this.buckets = new Map()
    // A bucket idle for a second is full again, the same as no bucket: drop those, so
    // addresses that come and go do not grow the map.
    this.pruning = setInterval(() => {
      const now = Date.now()
      for (const [who, b] of this.buckets) if (now - b.at > 1000) this.buckets.delete(who)
    }, 10000)
    this.pruning.unref()
  }

  /** Whether `address` is over the limit (a request from it is counted otherwise). */
  limited(address = 'unknown') {
    const now = Date.now()
    const b = this.buckets.get(address) || { tokens: this.perSecond, at: now }
    b.tokens = Math.min(this.perSecond, b.tokens + ((now - b.at) / 1000) * this.perSecond)
    b.at = now
    this.buckets.set(address, b)
    if (b.tokens < 1) return true
    b.tokens -= 1
    return false
  }

  close() {
    clearInterval(this.pruning)
  }
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1'])
const isLoopbackAddress = (address = '') => address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.')

/** The host name of a `Host` header (`[::1]:8080` is `::1`), lower case; `null` if malformed. */
function hostName(header) {
  if (typeof header !== 'string' || header.length === 0 || header.length > 255) return null
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]\s/@]+))(?::(\d{1,5}))?$/i.exec(header)
  return m ? (m[1] || m[2]).toLowerCase() : null
}

/** Whether the server answers for the request's `Host`: one of `allowed` (names, or
 *  `*.example.com`); with none configured, loopback names on a server listening on loopback
 *  (so a page on a rebound DNS name cannot reach it) and any host elsewhere. */
function hostAllowed(req, allowed = []) {
  const name = hostName(req.headers.host)
  if (name === null) return false
  if (allowed.length > 0) {
    return allowed.some((a) => {
      const want = a.toLowerCase()
      return want.startsWith('*.') ? name.endsWith(want.slice(1)) : name === want
    })
  }
  if (!isLoopbackAddress(req.socket.localAddress)) return true
  return LOOPBACK_NAMES.has(name) || name.startsWith('127.')
}

/** Whether a WebSocket upgrade may proceed from its `Origin`: none (a client that is not a
 *  browser), the server's own host, or one of `allowed` (full origins such as
 *  `https://dashboards.example.com`). A page on another site cannot subscribe with the user's
 *  credentials. */
function originAllowed(req, allowed = []) {
  const origin = req.headers.origin
  if (origin === undefined) return true
  if (allowed.includes(origin)) return true
  try {
    return new URL(origin).host === req.headers.host
  } catch {
    return false
  }
}

module.exports = { SECURITY_HEADERS, RateLimiter, hostAllowed, originAllowed, hostName }
