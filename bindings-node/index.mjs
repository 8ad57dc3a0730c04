// ESM entry: the same API as the CommonJS one.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const api = require('./index.js')
try {
  // Tables made by the ES module build of apache-arrow are written by it (see index.js).
  api._addArrowModule(await import('apache-arrow'))
} catch {
  // apache-arrow is optional.
}

export const {
  AlertEvents,
  Catalog,
  ClientConfig,
  Engine,
  Feed,
  Forecast,
  forecastSeries,
  validateFormula,
  Result,
  Subscription,
  Proposal,
  demo,
  pricing,
  errorCodes,
  KpiError,
  FormulaError,
  QueryError,
  CatalogError,
  DataError,
  CalculationError,
  PricingError,
  InternalError,
} = api
export default api
