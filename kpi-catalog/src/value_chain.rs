//! Value chains and the modules inside them: how the catalog is organised and licensed.

use serde::{Deserialize, Serialize};

/// A value chain, e.g. SCOR (supply chain), CRM, SaaS. Licensing is priced per value chain.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ValueChain {
    /// Stable code, e.g. `scor`.
    pub code: String,
    /// Display name, e.g. `Supply Chain Operations Reference`.
    pub name: String,
    /// What the value chain covers.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// A module: a group of KPIs inside one value chain, e.g. SCOR `deliver`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Module {
    /// Stable code, unique across the catalog, e.g. `deliver`.
    pub code: String,
    /// Display name.
    pub name: String,
    /// The code of the value chain it belongs to.
    pub value_chain: String,
    /// What the module covers.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}
