// Types of the `kpi-engine` package.

/** Base class of every error of the KPI engine. */
export class KpiError extends Error {
  /** Which kind: KPI_FORMULA, KPI_QUERY, KPI_OPTION, KPI_CATALOG, KPI_DATA, KPI_SCHEMA, KPI_READ,
   *  KPI_TIMEOUT, KPI_CANCELLED, KPI_MEMORY, KPI_SQL, KPI_EXECUTION, or a pricing code. */
  code: string
}
/** A formula, filter or dimension is invalid. */
export class FormulaError extends KpiError {
  /** Line of the problem, from 1. */
  line: number
  /** Column of the problem in characters, from 1. */
  column: number
  /** Byte offset where the problem starts. */
  start: number
  /** Byte offset where it ends. */
  end: number
}
export class QueryError extends KpiError {}
export class CatalogError extends KpiError {}
export class DataError extends KpiError {}
export class CalculationError extends KpiError {}
export class PricingError extends KpiError {}

/** A KPI, object model, module or value chain, as the catalog's JSON has it. */
export type CatalogEntry = { code: string; name: string; [key: string]: unknown }

export class Catalog {
  static standard(): Catalog
  static fromYaml(text: string): Catalog
  static fromJson(text: string | object): Catalog
  kpis(filter?: { module?: string; valueChain?: string }): CatalogEntry[]
  kpi(code: string): CatalogEntry
  objectModels(): CatalogEntry[]
  modules(): CatalogEntry[]
  valueChains(): CatalogEntry[]
  requiredObjects(kpis: string[]): Record<string, unknown>
  /** A Mermaid diagram of the object models. */
  diagram(objectModels: string[]): string
}

/** What to calculate: a KPI code or a formula, and how. */
export interface Query {
  kpi?: string
  formula?: string
  grain?: 'minute' | 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year'
  by?: string[]
  start?: string
  end?: string
  where?: string
}

/** One period and dimension group: `period`, the dimensions by label, `value`. */
export type Row = { period: string | null; value: number | null; [dimension: string]: unknown }

export class Result {
  readonly rows: Row[]
  readonly summaries: unknown[]
  /** The rows as an Arrow IPC stream, for apache-arrow's `tableFromIPC`. */
  toArrowIPC(): Buffer
  toJSON(): Record<string, unknown>
}

export interface Update {
  kpi: string
  period: string | null
  dimensions: unknown[]
  value: number | null
  previous_value: number | null
  status: string
  revision: number
  computed_at: string
  kind: 'snapshot' | 'change' | 'correction'
  lagged: boolean
}

export class Subscription implements AsyncIterable<Update> {
  next(timeoutMs?: number): Promise<{ updates: Omit<Update, 'lagged'>[]; lagged: boolean; error: string | null } | null>
  close(): void
  [Symbol.asyncIterator](): AsyncIterator<Update>
}

export interface AppendReport {
  rows: number
  lateRows: number
  beyondLateness: number
}

/** Rows, an Arrow IPC buffer (stream or file format), or an apache-arrow Table. */
export type Data = Record<string, unknown>[] | Uint8Array | { schema: unknown; batches: unknown }

export interface SubscribeOptions {
  /** "change" (default), "minute", "hour", "day", or milliseconds. */
  refresh?: 'change' | 'minute' | 'hour' | 'day' | number
  onError?: (error: Error) => void
}

/** What the engine did since it was created. */
export interface Metrics {
  calculations: number
  errors: number
  timeouts: number
  cancellations: number
  cache_hits: number
  cache_misses: number
  /** Cache misses answered by bringing a cached result of older data up to date: only the
   *  periods appends touched were recalculated. */
  cache_patches: number
  /** Calculations that took the result of an identical one in flight. */
  shared: number
  queued: number
  rows_ingested: number
  late_rows: number
  rows_beyond_lateness: number
  rows_released: number
}

export class Engine {
  constructor(catalog: Catalog, options?: { timezone?: string; timeoutMs?: number; memoryLimit?: number })
  readonly catalog: Catalog
  register(objectModel: string, data: Data): void
  append(objectModel: string, data: Data): AppendReport
  calculate(query: Query): Promise<Result>
  dashboard(queries: Query[]): Promise<{ items: Record<string, unknown>[]; wall_ms: number }>
  /** The engine's counters since it was created. */
  metrics(): Metrics
  explain(query: Query): Promise<{ logical: string; optimized: string; physical: string }>
  toSql(query: Query, dialect?: string): Promise<string>
  /** Calls `onUpdate` for each update; returns a function that stops. */
  subscribe(query: Query, onUpdate: (update: Update) => void, options?: SubscribeOptions): () => void
  updates(query: Query, options?: SubscribeOptions): AsyncGenerator<Update>
  open(query: Query, options?: SubscribeOptions): Promise<Subscription>
}

export const demo: {
  /** Demo data: table name → Arrow IPC stream. */
  generate(catalog: Catalog, options?: { rows?: number; seed?: number; start?: string; end?: string }): Record<string, Buffer>
}

export class Proposal {
  toJSON(): Record<string, any>
  toMarkdown(): string
}

export const pricing: {
  questionnaire(catalog?: Catalog, kpis?: string[]): Record<string, any>
  price(catalog: Catalog, input: { kpis: string[]; answers: string | Record<string, unknown> }): Proposal
}
