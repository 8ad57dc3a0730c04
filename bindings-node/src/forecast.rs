//! Forecasts and trends: the core's forecast settings document in, Arrow IPC and plain objects
//! out.

use std::sync::Arc;

use kpi_core::forecast::{Forecast, ForecastSettings};
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use serde_json::Value;

use crate::engine::{Engine, ipc, spec};
use crate::errors::{self, guard, guard_async};

fn settings(value: Option<Value>) -> napi::Result<ForecastSettings> {
    ForecastSettings::from_json(&value.unwrap_or(Value::Null).to_string()).map_err(errors::engine)
}

/// A forecast: rows of `period`, the dimensions, `value`, `lower`, `upper`, and the models.
#[napi]
pub struct ForecastResult {
    inner: Arc<Forecast>,
}

#[napi]
impl ForecastResult {
    /// Per group its model, parameters, history with fitted values and forecast rows.
    #[napi]
    pub fn to_json(&self) -> Value {
        self.inner.to_json()
    }

    /// The forecast rows as an Arrow IPC stream.
    #[napi(js_name = "toArrowIPC")]
    pub fn to_arrow_ipc(&self) -> napi::Result<Buffer> {
        guard(|| Ok(ipc(&self.inner.schema(), std::slice::from_ref(self.inner.batch()))?.into()))
    }
}

#[napi]
impl Engine {
    /// Forecasts a query document with forecast settings (`horizon`, `season_length`, `level`,
    /// `method`, `trend`, `seasonal`).
    #[napi]
    pub async fn forecast(&self, query: Value, options: Option<Value>) -> napi::Result<ForecastResult> {
        guard_async(async {
            let spec = spec(query)?;
            let forecast = self.core().forecast_spec(&spec, &settings(options)?).await.map_err(errors::engine)?;
            Ok(ForecastResult { inner: Arc::new(forecast) })
        })
        .await
    }

    /// The trend of a query document over its last `window` periods.
    #[napi]
    pub async fn trend(&self, query: Value, window: Option<u32>) -> napi::Result<Value> {
        guard_async(async {
            let spec = spec(query)?;
            let report = self.core().trend_spec(&spec, window.map(|w| w as usize)).await.map_err(errors::engine)?;
            serde_json::to_value(report).map_err(errors::json_failed)
        })
        .await
    }
}

/// Forecasts a series of values (`null` where a period has none) with forecast settings.
#[napi]
pub fn forecast_series(values: Vec<Option<f64>>, options: Option<Value>) -> napi::Result<Value> {
    guard(|| {
        let options = settings(options)?.to_options(None).map_err(errors::engine)?;
        let forecast = kpi_core::forecast::forecast_series(&values, &options).map_err(|e| errors::engine(e.into_engine("the series")))?;
        serde_json::to_value(forecast).map_err(errors::json_failed)
    })
}
