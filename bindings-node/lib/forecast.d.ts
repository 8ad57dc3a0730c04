// Types of forecasts and trends (re-exported by index.d.ts): the options `forecast` takes and
// the documents `forecast`, `trend` and `forecastSeries` return.

/** How `forecast` and `forecastSeries` forecast. */
export interface ForecastOptions {
  /** Periods ahead, 1 to 1000 (6 by default). */
  horizon?: number
  /** Periods per season (by default from the grain: 7 days, 52 weeks, 12 months, 4 quarters, 24 hours); 1 for none. */
  seasonLength?: number
  /** The prediction intervals' coverage (0.95 by default). */
  level?: number
  /** `'auto'`: the exponential smoothing model with the lowest AICc; `'ets'`: one model; `'seasonal_naive'`: the baseline. */
  method?: 'auto' | 'ets' | 'seasonal_naive'
  /** For `'ets'`: the trend (`'additive'` by default). */
  trend?: 'none' | 'additive' | 'damped'
  /** For `'ets'`: whether the model is seasonal (by default when there is a season). */
  seasonal?: boolean
}

/** One forecast period. */
export interface ForecastPoint {
  value: number
  lower: number
  upper: number
}

/** Exponential smoothing parameters and initial states (innovations form). */
export interface EtsParameters {
  alpha: number
  beta: number
  gamma: number
  phi: number
  initial_level: number
  initial_trend: number
  initial_seasonal: number[]
}

/** The model a forecast chose and its fit. */
export interface ForecastModel {
  /** `ETS(A,Ad,A)`, `seasonal naive`, `naive` or `constant`. */
  model: string
  parameters: EtsParameters | null
  aicc: number | null
  sigma: number
  /** Periods with a value. */
  observed: number
  /** Periods inside the series without one. */
  missing: number
}

/** A series' forecast (`forecastSeries`). */
export interface SeriesForecast extends ForecastModel {
  fitted: (number | null)[]
  points: ForecastPoint[]
}

/** One dimension group's forecast in `Forecast#json`. */
export interface GroupForecast extends ForecastModel {
  dimensions: unknown[]
  history: { period: string; value: number | null; fitted: number | null }[]
  forecast: ({ period: string } & ForecastPoint)[]
}

/** A KPI's trend per dimension group. */
export interface TrendReport {
  kpi: string | null
  grain: string
  dimensions: string[]
  groups: {
    dimensions: unknown[]
    start: string
    slope: number
    intercept: number
    slope_error: number
    r_squared: number
    p_value: number
    significant: boolean
    observed: number
    slope_pct: number | null
    improving: boolean | null
  }[]
  skipped: { dimensions: unknown[]; message: string }[]
}
