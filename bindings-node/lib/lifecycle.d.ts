// Types of the data lifecycle's documents (re-exported by index.d.ts): what
// setRetentionPolicy takes and retentionPlan, applyRetention, archiveIndex, storage and history
// return. Keys are the engine's own (snake_case), as in a client configuration.

/** How long one kind of data stays active, and what happens after (a client configuration's retention rule). */
export interface RetentionRule {
  retention_period: number
  retention_unit?: 'days' | 'months' | 'years'
  archival_enabled?: boolean
  archival_period?: number
  archival_unit?: 'months' | 'years' | 'indefinite'
}

/** A retention policy, as a client configuration's `retention` section. */
export interface RetentionPolicy {
  staged_source_data: RetentionRule
  analytics_data: RetentionRule
  granularity?: { raw_data?: boolean; minute_aggregates?: boolean; hourly_aggregates?: boolean; daily_aggregates?: boolean; monthly_aggregates?: boolean }
  compliance?: ('gdpr' | 'sox' | 'hipaa' | 'iso_27001')[]
}

/** What applying the retention policy now would do. */
export interface RetentionPlan {
  policy: string | null
  archive_location: string | null
  before: string | null
  releases: { object_model: string; action: 'archive' | 'delete'; rows: number; periods: string[]; bytes: number }[]
  expiring_files: string[]
}

/** What a retention run did. */
export interface RetentionReport {
  at: string | null
  models: { object_model: string; before: string | null; archived_rows: number; deleted_rows: number; files: string[]; bytes: number; skipped?: string }[]
  expired_files: string[]
  seconds: number
}

/** One archived file of the archive index. */
export interface ArchiveEntry {
  object_model: string
  data: 'staged_source_data' | 'analytics_data'
  period: string
  period_start: string
  period_end: string
  file: string
  rows: number
  bytes: number
  sha256: string
  client?: string
  policy: string
  run: number
  archived_at: string
  expires_at?: string
  removed_at?: string
}

/** The archive index. */
export interface ArchiveIndex {
  format: number
  entries: ArchiveEntry[]
  runs: { run: number; object_model: string; before: string; lsn: number; archived_rows: number; deleted_rows: number; at: string }[]
}

/** Rows and bytes hot (active) and cold (archived) per object model. */
export interface StorageReport {
  models: { object_model: string; hot_rows: number; hot_bytes: number; cold_rows: number; cold_bytes: number; cold_files: number; hot_bytes_per_day: number | null; expected_hot_bytes: number | null }[]
  wal_bytes: number
}

/** One recorded KPI value. */
export interface HistoryRow {
  kpi: string
  grain: string
  period: string
  dimensions: Record<string, unknown>
  value: number | null
  revision: number
  computed_at: string
}
