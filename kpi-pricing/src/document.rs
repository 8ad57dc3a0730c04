//! Reading answers and price books from YAML or JSON text.

use serde::de::DeserializeOwned;

use crate::error::PricingError;

/// The largest document accepted, so a huge input is refused before it is parsed.
pub const MAX_DOCUMENT_BYTES: usize = kpi_catalog::MAX_DOCUMENT_BYTES;

fn check_size(text: &str, what: &'static str) -> Result<(), PricingError> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(PricingError::Parse {
            what,
            message: format!("the document is {} bytes; at most {MAX_DOCUMENT_BYTES} are accepted", text.len()),
        });
    }
    Ok(())
}

/// Parses YAML (JSON is YAML too) into `T`; the message keeps the parser's line and column.
pub(crate) fn parse_yaml<T: DeserializeOwned>(text: &str, what: &'static str) -> Result<T, PricingError> {
    check_size(text, what)?;
    serde_saphyr::from_str::<T>(text).map_err(|e| PricingError::Parse {
        what,
        message: e.to_string().lines().next().unwrap_or_default().trim_start_matches("error: ").to_string(),
    })
}

/// Parses JSON into `T`.
pub(crate) fn parse_json<T: DeserializeOwned>(text: &str, what: &'static str) -> Result<T, PricingError> {
    check_size(text, what)?;
    serde_json::from_str::<T>(text).map_err(|e| PricingError::Parse { what, message: e.to_string() })
}

/// Applies `overrides` onto `base`: mappings merge key by key, anything else replaces.
pub(crate) fn merge(base: &mut serde_json::Value, overrides: serde_json::Value) {
    match (base, overrides) {
        (serde_json::Value::Object(base), serde_json::Value::Object(overrides)) => {
            for (key, value) in overrides {
                match base.get_mut(&key) {
                    Some(slot) => merge(slot, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (_, serde_json::Value::Null) => {}
        (slot, value) => *slot = value,
    }
}
