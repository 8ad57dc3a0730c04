'use strict'
// Who is calling and what they may see: API keys and JWT bearer tokens (HS256 with a shared
// secret, RS256 with keys from a JWKS file or URL) become a `Principal` with a role, an optional
// client, and the row filters its claims imply.

const crypto = require('node:crypto')
const fs = require('node:fs')
const jose = require('jose')
const { HttpError } = require('./http')

/** What a role may do: `read` (the catalog and calculations; a client user only its client's
 *  KPIs), `staff` (alerts, reports, health details: the whole organisation's view) and `admin`
 *  (definitions, data, client configurations, alert rules and reports). */
const ROLE_RIGHTS = { admin: ['read', 'staff', 'admin'], analyst: ['read', 'staff'], client: ['read'] }
const DOING = { read: 'read', staff: 'see alerts, reports or server details', admin: 'change definitions, data or configuration' }

/** A caller: `role`, `subject` (for logs and layouts), `client` (a client user's client id),
 *  `claims`, and `security` (the engine's row filters per object model). */
class Principal {
  constructor({ subject, role, client = null, claims = {}, security = {} }) {
    this.subject = subject
    this.role = role
    this.client = client
    this.claims = claims
    this.security = security
  }

  /** Whether the role grants `right` (`read` or `admin`). */
  may(right) {
    return ROLE_RIGHTS[this.role]?.includes(right) ?? false
  }

  /** Throws 403 unless the role grants `right`. */
  need(right) {
    if (!this.may(right)) throw new HttpError(403, 'FORBIDDEN', `role ${this.role} may not ${DOING[right]}`)
  }

  toJSON() {
    return { subject: this.subject, role: this.role, client: this.client, security: this.security }
  }
}

/** The caller when no authentication is configured (a server on loopback only). */
const ANONYMOUS = new Principal({ subject: 'anonymous', role: 'admin' })

/** `value` as a string literal of the formula language (quotes doubled), so a claim can never
 *  end the literal and add a condition of its own. */
const literal = (value) => `'${String(value).replace(/'/g, "''")}'`

/** The row filters `claims` imply under `rowFilters` (claim → column): a claim `region: "north"`
 *  with `region: orders.region` is `{ orders: "orders.region = 'north'" }`; a list of values is
 *  `in (...)`; an empty list matches nothing. Filters of one model are joined with `and`. */
function securityOf(claims, rowFilters = {}) {
  const byModel = {}
  for (const [claim, column] of Object.entries(rowFilters)) {
    const value = claims[claim]
    if (value === undefined || value === null) continue
    const values = Array.isArray(value) ? value : [value]
    if (values.some((v) => typeof v !== 'string' && typeof v !== 'number')) throw new HttpError(403, 'FORBIDDEN', `the claim \`${claim}\` must be text or a list of text`)
    const condition = values.length === 0 ? 'false' : values.length === 1 ? `${column} = ${literal(values[0])}` : `${column} in (${values.map(literal).join(', ')})`
    const model = column.split('.')[0]
    byModel[model] = byModel[model] ? `${byModel[model]} and ${condition}` : condition
  }
  return byModel
}

/** Digest of an API key: keys are compared as SHA-256 digests with `timingSafeEqual`, so the
 *  comparison takes the same time wherever a wrong key differs. */
const digest = (key) => crypto.createHash('sha256').update(key).digest()

class Auth {
  /** `auth`: the configuration's `auth` section (see config.js). */
  constructor(auth = {}) {
    this.rowFilters = auth.row_filters || {}
    this.roleClaim = auth.role_claim || 'role'
    this.clientClaim = auth.client_claim || 'client'
    this.keys = (auth.api_keys || []).map((k) => ({
      name: k.name || 'api key',
      digest: k.key_sha256 ? Buffer.from(k.key_sha256, 'hex') : digest(k.key ?? process.env[k.key_env]),
      role: k.role,
      client: k.client ?? null,
      claims: k.claims || {},
    }))
    const jwt = auth.jwt
    if (jwt) {
      const secret = jwt.secret ?? (jwt.secret_env && process.env[jwt.secret_env])
      this.jwt = {
        issuer: jwt.issuer,
        audience: jwt.audience,
        algorithms: jwt.algorithms || [...(secret ? ['HS256'] : []), ...(jwt.jwks ? ['RS256'] : [])],
        hmac: secret ? new TextEncoder().encode(secret) : null,
        jwks: jwt.jwks ? keySet(jwt.jwks) : null,
      }
    }
    this.enabled = this.keys.length > 0 || Boolean(this.jwt)
  }

  /** The caller of `req`: from `Authorization: Bearer <JWT or API key>`, `X-API-Key`, or (for
   *  WebSocket upgrades, which browsers cannot give headers) `?token=`. Throws 401 when
   *  authentication is configured and the credential is missing or wrong. */
  async principal(req, url = null) {
    if (!this.enabled) return ANONYMOUS
    const header = req.headers.authorization
    const bearer = typeof header === 'string' && /^Bearer\s+(\S+)$/i.exec(header)?.[1]
    const token = bearer || req.headers['x-api-key'] || url?.searchParams.get('token')
    if (!token || typeof token !== 'string') throw new HttpError(401, 'UNAUTHORIZED', 'a bearer token (JWT) or API key is required')
    if (this.jwt && /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token)) return this.fromJwt(token)
    const presented = digest(token)
    // Every key is compared, so the time taken does not say which one nearly matched.
    let found = null
    for (const key of this.keys) if (crypto.timingSafeEqual(presented, key.digest) && !found) found = key
    if (!found) throw new HttpError(401, 'UNAUTHORIZED', 'the API key is not valid')
    return new Principal({ subject: found.name, role: found.role, client: found.client, claims: found.claims, security: securityOf(found.claims, this.rowFilters) })
  }

  async fromJwt(token) {
    const { hmac, jwks, issuer, audience, algorithms } = this.jwt
    let payload
    try {
      const header = jose.decodeProtectedHeader(token)
      const key = header.alg === 'HS256' ? hmac : jwks
      if (!key) throw new Error(`tokens signed with ${header.alg} are not accepted here`)
      ;({ payload } = await jose.jwtVerify(token, key, { issuer, audience, algorithms }))
    } catch (e) {
      throw new HttpError(401, 'UNAUTHORIZED', `the token is not valid: ${e.code === 'ERR_JWT_EXPIRED' ? 'it has expired' : e.message}`)
    }
    const role = payload[this.roleClaim]
    if (!ROLE_RIGHTS[role]) throw new HttpError(403, 'FORBIDDEN', `the token's \`${this.roleClaim}\` claim must be admin, analyst or client`)
    const client = payload[this.clientClaim] ?? null
    if (role === 'client' && typeof client !== 'string') throw new HttpError(403, 'FORBIDDEN', `a client user's token needs a \`${this.clientClaim}\` claim`)
    return new Principal({ subject: String(payload.sub ?? 'jwt'), role, client, claims: payload, security: securityOf(payload, this.rowFilters) })
  }
}

/** The verification keys of `location`: a JWKS file, or an https URL fetched (and cached) by jose. */
function keySet(location) {
  if (/^https?:\/\//i.test(location)) return jose.createRemoteJWKSet(new URL(location), { timeoutDuration: 5000, cooldownDuration: 30000 })
  return jose.createLocalJWKSet(JSON.parse(fs.readFileSync(location, 'utf8')))
}

module.exports = { Auth, Principal, ANONYMOUS, securityOf, literal }
