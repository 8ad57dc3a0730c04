'use strict'
// The server's configuration: a YAML or JSON file (`--config`, `KPI_CONFIG`) with environment
// variables over it. Every key is checked here, once, so a typo stops the server at start with
// the key's path instead of being ignored.

const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')
const YAML = require('yaml')

/** An error in the configuration: the server does not start. */
class ConfigError extends Error {
  constructor(message) {
    super(message)
    this.code = 'CONFIG'
  }
}

/** The limits an operator may set, with the server's defaults. */
const LIMITS = {
  /** Rows one result may have (periods × groups; checked before executing where it can be). */
  max_result_rows: 100000,
  /** Requests (and WebSocket upgrades) per second per client address. */
  rate_limit: 200,
  /** Bytes of a request body. */
  body_bytes: 1 << 20,
  /** Open WebSockets per client address. */
  sockets_per_client: 50,
  /** Bytes of one WebSocket message from a client. */
  ws_max_payload: 64 << 10,
  /** Milliseconds between WebSocket pings; a socket that missed one pong is closed. */
  heartbeat_ms: 30000,
  /** Whether `by` may name dimensions a KPI does not declare (any column of its models). */
  undeclared_dimensions: false,
}

const KEYS = {
  host: 'string', port: 'integer', catalog: 'string', data_dir: 'string', engine: 'object', sources: 'object',
  postgres: 'object', demo: 'object', dashboards: 'array', retention: 'object', limits: 'object', auth: 'object',
  allowed_hosts: 'array', allowed_origins: 'array', log_level: 'string',
}

/** `value` checked against `type` at `where`. */
function typed(value, type, where) {
  const ok = type === 'array' ? Array.isArray(value)
    : type === 'object' ? typeof value === 'object' && value !== null && !Array.isArray(value)
      : type === 'integer' ? Number.isInteger(value)
        : typeof value === type
  if (!ok) throw new ConfigError(`${where} must be ${type === 'array' || type === 'object' || type === 'integer' ? `an ${type}` : `a ${type}`}, not ${JSON.stringify(value)}`)
  return value
}

/** Refuses keys of `object` (at `where`) outside `known`. */
function only(object, known, where) {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) throw new ConfigError(`${where}.${key} is not a setting (known: ${known.join(', ')})`)
  }
}

/** Environment variables over the file: each names the setting it sets. */
function fromEnv(env) {
  const out = {}
  const list = (text) => text.split(',').map((s) => s.trim()).filter(Boolean)
  const integer = (name) => {
    const n = Number(env[name])
    if (!/^\d+$/.test(env[name].trim()) || !Number.isSafeInteger(n)) throw new ConfigError(`${name} must be a whole number, not \`${env[name]}\``)
    return n
  }
  const set = (name, apply) => env[name] !== undefined && env[name] !== '' && apply(env[name])
  set('HOST', (v) => (out.host = v))
  set('PORT', () => (out.port = integer('PORT')))
  set('KPI_CATALOG', (v) => (out.catalog = v))
  set('KPI_DATA_DIR', (v) => (out.data_dir = v))
  set('KPI_ALLOWED_ORIGINS', (v) => (out.allowed_origins = list(v)))
  set('KPI_ALLOWED_HOSTS', (v) => (out.allowed_hosts = list(v)))
  set('KPI_LOG_LEVEL', (v) => (out.log_level = v))
  set('KPI_RATE_LIMIT', () => ((out.limits ||= {}).rate_limit = integer('KPI_RATE_LIMIT')))
  set('KPI_MAX_RESULT_ROWS', () => ((out.limits ||= {}).max_result_rows = integer('KPI_MAX_RESULT_ROWS')))
  set('KPI_DEMO_ROWS', () => (out.demo = { ...out.demo, rows: integer('KPI_DEMO_ROWS') }))
  set('KPI_DEMO', (v) => v !== '0' && v !== 'false' && (out.demo = { ...out.demo }))
  // KPI_TOKEN: one admin API key, as before users and roles.
  set('KPI_TOKEN', (v) => ((out.auth ||= {}).api_keys = [{ name: 'KPI_TOKEN', key: v, role: 'admin' }]))
  set('KPI_JWT_SECRET', (v) => (((out.auth ||= {}).jwt ||= {}).secret = v))
  set('KPI_JWKS', (v) => (((out.auth ||= {}).jwt ||= {}).jwks = v))
  return out
}

/** `over` merged into `base`: objects key by key, everything else replaced. */
function merge(base, over) {
  const out = { ...base }
  for (const [key, value] of Object.entries(over)) {
    const both = [out[key], value].every((v) => typeof v === 'object' && v !== null && !Array.isArray(v))
    out[key] = both ? merge(out[key], value) : value
  }
  return out
}

/** A file's settings: YAML (JSON is YAML too). */
function readFile(file) {
  let text
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (e) {
    throw new ConfigError(`cannot read the configuration ${file}: ${e.message}`)
  }
  let doc
  try {
    doc = YAML.parse(text, { maxAliasCount: 100 })
  } catch (e) {
    throw new ConfigError(`${file} is not YAML or JSON: ${e.message}`)
  }
  if (doc === null || doc === undefined) return {}
  return typed(doc, 'object', file)
}

/** Checks a source per object model: `{ parquet }`, `{ csv }` (a path or URL) or `{ postgres, table? }`. */
function checkSource(model, source, where) {
  typed(source, 'object', where)
  only(source, ['parquet', 'csv', 'postgres', 'table', 'follow'], where)
  const kinds = ['parquet', 'csv', 'postgres'].filter((k) => source[k] !== undefined)
  if (kinds.length !== 1) throw new ConfigError(`${where} needs exactly one of parquet, csv or postgres`)
  typed(source[kinds[0]], 'string', `${where}.${kinds[0]}`)
  if (source.table !== undefined && kinds[0] !== 'postgres') throw new ConfigError(`${where}.table is for postgres sources`)
  return { model, kind: kinds[0], location: source[kinds[0]], table: source.table, follow: source.follow === true }
}

/** Checks `auth`: API keys, JWT verification and the claims that filter rows. */
function checkAuth(auth, where) {
  only(auth, ['api_keys', 'jwt', 'row_filters', 'role_claim', 'client_claim'], where)
  for (const [i, key] of (auth.api_keys ? typed(auth.api_keys, 'array', `${where}.api_keys`) : []).entries()) {
    const at = `${where}.api_keys[${i}]`
    typed(key, 'object', at)
    only(key, ['name', 'key', 'key_sha256', 'key_env', 'role', 'client', 'claims'], at)
    if ([key.key, key.key_sha256, key.key_env].filter((k) => k !== undefined).length !== 1) throw new ConfigError(`${at} needs one of key, key_sha256 or key_env`)
    if (key.key_env !== undefined && !process.env[key.key_env]) throw new ConfigError(`${at}.key_env names ${key.key_env}, which is not set`)
    if (key.key !== undefined && typed(key.key, 'string', `${at}.key`).length < 16) throw new ConfigError(`${at}.key is shorter than 16 characters`)
    if (key.key_sha256 !== undefined && !/^[0-9a-f]{64}$/i.test(key.key_sha256)) throw new ConfigError(`${at}.key_sha256 must be 64 hex digits`)
    checkRole(key.role, key.client, `${at}.role`)
    if (key.claims !== undefined) typed(key.claims, 'object', `${at}.claims`)
  }
  if (auth.jwt !== undefined) {
    typed(auth.jwt, 'object', `${where}.jwt`)
    only(auth.jwt, ['secret', 'secret_env', 'jwks', 'issuer', 'audience', 'algorithms'], `${where}.jwt`)
    if (auth.jwt.secret_env !== undefined && !process.env[auth.jwt.secret_env]) throw new ConfigError(`${where}.jwt.secret_env names ${auth.jwt.secret_env}, which is not set`)
    const secret = auth.jwt.secret ?? (auth.jwt.secret_env && process.env[auth.jwt.secret_env])
    if (secret === undefined && auth.jwt.jwks === undefined) throw new ConfigError(`${where}.jwt needs a secret (HS256) or jwks (RS256: a JWKS file or URL)`)
    if (auth.jwt.jwks !== undefined) typed(auth.jwt.jwks, 'string', `${where}.jwt.jwks`)
    if (secret !== undefined && Buffer.byteLength(typed(secret, 'string', `${where}.jwt.secret`)) < 32) throw new ConfigError(`${where}.jwt.secret is shorter than 32 bytes (HS256 wants at least 256 bits)`)
  }
  for (const [claim, column] of Object.entries(auth.row_filters ? typed(auth.row_filters, 'object', `${where}.row_filters`) : {})) {
    if (typeof column !== 'string' || !/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$/.test(column)) throw new ConfigError(`${where}.row_filters.${claim} must be a column such as orders.region, not ${JSON.stringify(column)}`)
  }
}

const ROLES = ['admin', 'analyst', 'client']

/** Checks a role name; a client user names the client configuration it belongs to. */
function checkRole(role, client, where) {
  if (!ROLES.includes(role)) throw new ConfigError(`${where} must be one of ${ROLES.join(', ')}, not ${JSON.stringify(role)}`)
  if (role === 'client' && typeof client !== 'string') throw new ConfigError(`${where.replace(/\.role$/, '')} has role client and needs a \`client\` (a client configuration id)`)
}

/** Whether `host` (an address or name to listen on) only accepts connections from this machine. */
function isLoopback(host) {
  if (host === 'localhost') return true
  if (net.isIPv4(host)) return host.startsWith('127.')
  return host === '::1'
}

/**
 * The configuration from `argv` (`--config FILE`, `--demo`) and `env`: a file's settings,
 * environment variables over them, then the defaults. Throws a `ConfigError` naming the setting
 * that is wrong.
 */
function loadConfig({ argv = [], env = process.env, cwd = process.cwd() } = {}) {
  let file = env.KPI_CONFIG || undefined
  let demoFlag = false
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--config') file = argv[++i]
    else if (argv[i].startsWith('--config=')) file = argv[i].slice('--config='.length)
    else if (argv[i] === '--demo') demoFlag = true
    else throw new ConfigError(`unknown argument ${argv[i]} (usage: kpi-dashboard-server [--config FILE] [--demo])`)
  }
  if (file === undefined && argv.includes('--config')) throw new ConfigError('--config needs a file')
  let settings = merge(file ? readFile(path.resolve(cwd, file)) : {}, fromEnv(env))
  if (demoFlag) settings = merge(settings, { demo: {} })
  for (const [key, value] of Object.entries(settings)) {
    if (!(key in KEYS)) throw new ConfigError(`\`${key}\` is not a setting (known: ${Object.keys(KEYS).join(', ')})`)
    typed(value, KEYS[key], key)
  }
  const base = file ? path.dirname(path.resolve(cwd, file)) : cwd
  const local = (p) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(p) ? p : path.resolve(base, p))
  const limits = { ...LIMITS, ...(settings.limits || {}) }
  only(limits, Object.keys(LIMITS), 'limits')
  for (const [key, value] of Object.entries(limits)) typed(value, typeof LIMITS[key] === 'boolean' ? 'boolean' : 'integer', `limits.${key}`)
  const sources = Object.entries(settings.sources || {}).map(([model, s]) => {
    const source = checkSource(model, s, `sources.${model}`)
    return source.kind === 'postgres' ? source : { ...source, location: local(source.location) }
  })
  if (settings.postgres) only(settings.postgres, ['dsn', 'schema'], 'postgres')
  if (settings.demo) only(settings.demo, ['rows', 'seed', 'live', 'speed'], 'demo')
  for (const [i, board] of (settings.dashboards || []).entries()) {
    typed(board, 'object', `dashboards[${i}]`)
    only(board, ['name', 'kpis', 'grain', 'by'], `dashboards[${i}]`)
    typed(board.name, 'string', `dashboards[${i}].name`)
    typed(board.kpis, 'array', `dashboards[${i}].kpis`)
  }
  const auth = settings.auth || {}
  checkAuth(auth, 'auth')
  if (auth.jwt?.jwks) auth.jwt = { ...auth.jwt, jwks: local(auth.jwt.jwks) }
  const config = {
    file,
    host: settings.host || '127.0.0.1',
    port: settings.port,
    catalog: settings.catalog && settings.catalog !== 'standard' ? local(settings.catalog) : 'standard',
    dataDir: local(settings.data_dir || 'data'),
    engine: settings.engine || {},
    sources,
    postgres: settings.postgres,
    demo: settings.demo ? { rows: 50000, seed: 42, live: true, speed: 1, ...settings.demo } : null,
    dashboards: settings.dashboards || [],
    retention: settings.retention,
    limits,
    auth,
    allowedHosts: settings.allowed_hosts || [],
    allowedOrigins: settings.allowed_origins || [],
    // The demo's terminal shows the summary, not a line per request, unless asked.
    logLevel: settings.log_level || (settings.demo && !file ? 'warn' : 'info'),
  }
  const authenticated = (auth.api_keys || []).length > 0 || auth.jwt !== undefined
  if (!isLoopback(config.host) && !authenticated) {
    throw new ConfigError(`refusing to listen on ${config.host} without authentication: set auth.api_keys or auth.jwt (or KPI_TOKEN, KPI_JWT_SECRET), or listen on 127.0.0.1`)
  }
  if (!config.demo && sources.length === 0 && !config.postgres) {
    throw new ConfigError('no data: configure `sources` (or `postgres`) in a config file, or ask for demo data with --demo or KPI_DEMO=1')
  }
  return config
}

module.exports = { loadConfig, ConfigError, LIMITS, ROLES, isLoopback }
