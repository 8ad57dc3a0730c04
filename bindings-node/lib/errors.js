'use strict'
// The package's errors: the addon reports each error as JSON (`{ code, kind, message, ... }`),
// which becomes the KpiError subclass of its kind.

/** Base class of every error of the KPI engine; `code` says which error (e.g. `KPI_FORMULA`),
 *  `kind` which kind (`formula`, `query`, `catalog`, `data`, `calculation`, `pricing`, `internal`). */
class KpiError extends Error {
  constructor(message, code, kind) {
    super(message)
    this.name = new.target.name
    this.code = code
    this.kind = kind ?? KIND_OF_CLASS.get(new.target) ?? 'internal'
  }
}
/** A formula, filter or dimension is invalid; `line`, `column`, `start` and `end` say where. */
class FormulaError extends KpiError {}
/** The query's settings or an option are invalid. */
class QueryError extends KpiError {}
/** The catalog is invalid or does not hold what was asked. */
class CatalogError extends KpiError {}
/** Registered data is missing or does not fit its object model. */
class DataError extends KpiError {}
/** A calculation failed, timed out, was cancelled or ran out of memory. */
class CalculationError extends KpiError {}
/** A proposal's answers or price book are invalid. */
class PricingError extends KpiError {}
/** A bug in the KPI engine (it panicked); the engine keeps working. */
class InternalError extends KpiError {}

// The class of each kind the engine reports (the kind comes with every error).
const CLASS_OF_KIND = {
  formula: FormulaError,
  query: QueryError,
  catalog: CatalogError,
  data: DataError,
  calculation: CalculationError,
  pricing: PricingError,
  internal: InternalError,
}
const KIND_OF_CLASS = new Map(Object.entries(CLASS_OF_KIND).map(([kind, cls]) => [cls, kind]))

/** The native error `e` as a KpiError (its reason is JSON); other errors unchanged. */
function typed(e) {
  let detail
  try {
    detail = JSON.parse(e.message)
  } catch {
    return e
  }
  return fromDetail(detail) ?? e
}

/** A KpiError from an error's JSON (`{ code, kind, message, ... }`), or undefined. */
function fromDetail(detail) {
  if (!detail || typeof detail.code !== 'string') return undefined
  const Class = CLASS_OF_KIND[detail.kind] ?? InternalError
  const err = new Class(detail.message, detail.code, detail.kind)
  for (const key of ['line', 'column', 'start', 'end']) {
    if (key in detail) err[key] = detail[key]
  }
  return err
}

function call(fn) {
  try {
    return fn()
  } catch (e) {
    throw typed(e)
  }
}

async function callAsync(fn) {
  try {
    return await fn()
  } catch (e) {
    throw typed(e)
  }
}

module.exports = { KpiError, FormulaError, QueryError, CatalogError, DataError, CalculationError, PricingError, InternalError, fromDetail, call, callAsync }
