'use strict'
// Data lifecycle on the Engine: durable appends (`new Engine(catalog, { dataDir })`), retention
// policies, archives and KPI history; and where the data is calculated (`{ cluster }`). The policy and history query documents are checked in
// Rust, so Node refuses what Python and the command line refuse.

const { call, callAsync } = require('./errors')
const { doc } = require('./documents')

/** Methods the Engine class gets (see index.d.ts for their documentation). */
const methods = {
  setRetentionPolicy(policy) {
    call(() => this._inner.setRetentionPolicy(policy))
  },
  retentionPolicy() {
    return call(() => this._inner.retentionPolicy())
  },
  retentionPlan() {
    return call(() => this._inner.retentionPlan())
  },
  async applyRetention() {
    return callAsync(() => this._inner.applyRetention())
  },
  archiveIndex() {
    return call(() => this._inner.archiveIndex())
  },
  async verifyArchive() {
    return callAsync(() => this._inner.verifyArchive())
  },
  async checkpoint() {
    return callAsync(() => this._inner.checkpoint())
  },
  async close() {
    return callAsync(() => this._inner.close())
  },
  get dataDir() {
    return this._inner.dataDir()
  },
  get cluster() {
    return this._inner.cluster()
  },
  async checkCluster() {
    return callAsync(() => this._inner.checkCluster())
  },
  storage() {
    return call(() => this._inner.storage())
  },
  recordHistory(result) {
    return call(() => this._inner.recordHistory(result._inner))
  },
  async history(kpi, options = {}) {
    return callAsync(() => this._inner.history(doc({ ...options, kpi })))
  },
}

/** Adds the lifecycle methods to `Engine`. */
function withLifecycle(Engine) {
  Object.defineProperties(Engine.prototype, Object.getOwnPropertyDescriptors(methods))
  return Engine
}

module.exports = { withLifecycle }
