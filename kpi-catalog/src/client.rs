//! Client configurations: which KPIs a client has, its own variants of them, where its data comes
//! from, how its fields map to object models, and how long its data is kept.

use serde::{Deserialize, Serialize};

use crate::kpi::KpiDefinition;

/// One client's configuration (the seed's "demo config service": "your order").
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientConfig {
    /// Stable identifier.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Codes of the KPIs the client selected (standard or custom).
    #[serde(default)]
    pub selected_kpis: Vec<String>,
    /// The client's own KPIs: a code of a standard KPI overrides it for this client, a new code
    /// extends the catalog.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_kpis: Vec<KpiDefinition>,
    /// Where the client's data comes from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_sources: Vec<DataSource>,
    /// How the client's fields map to object-model columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub field_mappings: Vec<FieldMapping>,
    /// How long staged and analytics data are kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<RetentionPolicy>,
}

/// A system the client's data is read from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DataSource {
    /// Name, referenced by field mappings.
    pub name: String,
    /// The kind of system, e.g. `postgresql`, `mysql`, `parquet`, `kafka`, `rest_api`.
    pub kind: String,
    /// How data arrives.
    #[serde(default)]
    pub integration: IntegrationMode,
    /// Connection details, without secrets (refer to a secret by name instead).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub connection: String,
    /// Whether the source already has the object models' shape (conformed) or needs transformation.
    #[serde(default)]
    pub conformed: bool,
    /// Codes of the object models it feeds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub object_models: Vec<String>,
}

/// How a data source delivers data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationMode {
    /// Periodic extracts.
    #[default]
    Batch,
    /// Continuous events.
    Streaming,
}

/// A client field that fills an object-model column.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldMapping {
    /// The object model's code.
    pub object_model: String,
    /// The column of the object model.
    pub column: String,
    /// The data source's name.
    pub source: String,
    /// The client's field (e.g. `sales.orders.total_amount`).
    pub field: String,
}

/// Retention of the client's data (the seed's `DataRetentionPolicy`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    /// Source data staged for calculation.
    pub staged_source_data: RetentionRule,
    /// Calculated KPI values and aggregates.
    pub analytics_data: RetentionRule,
    /// Which levels of detail are kept.
    #[serde(default)]
    pub granularity: Granularity,
    /// Regulations the policy must meet ([`RetentionPolicy::violations`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compliance: Vec<crate::Compliance>,
}

/// How long one kind of data is kept active, and what happens after.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetentionRule {
    /// Time in the active (hot) database.
    pub retention_period: u32,
    /// Unit of `retention_period`; days when absent.
    #[serde(default = "days")]
    pub retention_unit: RetentionUnit,
    /// Whether data is archived (cold storage) after the active period, or deleted (the default).
    #[serde(default)]
    pub archival_enabled: bool,
    /// Time in cold storage when archived.
    #[serde(default)]
    pub archival_period: u32,
    /// Unit of `archival_period`; `indefinite` keeps archives forever.
    #[serde(default = "years")]
    pub archival_unit: ArchivalUnit,
}

impl Default for RetentionRule {
    fn default() -> Self {
        RetentionRule {
            retention_period: 1,
            retention_unit: RetentionUnit::Years,
            archival_enabled: false,
            archival_period: 0,
            archival_unit: years(),
        }
    }
}

impl RetentionRule {
    /// Days in the active database.
    pub fn active_days(&self) -> u64 {
        self.retention_unit.days(self.retention_period)
    }

    /// Days in the archive: `None` when archives are kept indefinitely, 0 when data is deleted
    /// after the active period.
    pub fn archive_days(&self) -> Option<u64> {
        if !self.archival_enabled {
            return Some(0);
        }
        match self.archival_unit {
            ArchivalUnit::Months => Some(u64::from(self.archival_period) * 30),
            ArchivalUnit::Years => Some(u64::from(self.archival_period) * crate::DAYS_PER_YEAR),
            ArchivalUnit::Indefinite => None,
        }
    }

    /// The rule in words: `90 days active, archived 1 year`.
    ///
    /// ```
    /// use kpi_catalog::RetentionRule;
    /// assert_eq!(RetentionRule::default().describe(), "1 year active, then deleted");
    /// ```
    pub fn describe(&self) -> String {
        let unit = |n: u32, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
        let active = match self.retention_unit {
            RetentionUnit::Days => unit(self.retention_period, "day"),
            RetentionUnit::Months => unit(self.retention_period, "month"),
            RetentionUnit::Years => unit(self.retention_period, "year"),
        };
        let after = match (self.archival_enabled, self.archival_unit) {
            (false, _) => "then deleted".to_string(),
            (true, ArchivalUnit::Months) => format!("archived {}", unit(self.archival_period, "month")),
            (true, ArchivalUnit::Years) => format!("archived {}", unit(self.archival_period, "year")),
            (true, ArchivalUnit::Indefinite) => "archived indefinitely".to_string(),
        };
        format!("{active} active, {after}")
    }
}

fn days() -> RetentionUnit {
    RetentionUnit::Days
}

fn years() -> ArchivalUnit {
    ArchivalUnit::Years
}

/// Unit of an active retention period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionUnit {
    /// Days.
    Days,
    /// Months (30 days for cost estimates).
    Months,
    /// Years (365 days for cost estimates).
    Years,
}

impl RetentionUnit {
    /// The period in days, as cost estimates count it.
    pub fn days(self, count: u32) -> u64 {
        u64::from(count)
            * match self {
                RetentionUnit::Days => 1,
                RetentionUnit::Months => 30,
                RetentionUnit::Years => 365,
            }
    }
}

/// Unit of an archival period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArchivalUnit {
    /// Months.
    Months,
    /// Years.
    Years,
    /// Kept forever.
    Indefinite,
}

/// Which levels of detail are kept. In a document, a level left out is not kept; the
/// [`Default`] (used when the whole section is absent) is the recommended levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Granularity {
    /// Raw data points.
    #[serde(default)]
    pub raw_data: bool,
    /// Minute aggregates.
    #[serde(default)]
    pub minute_aggregates: bool,
    /// Hourly aggregates.
    #[serde(default)]
    pub hourly_aggregates: bool,
    /// Daily aggregates.
    #[serde(default)]
    pub daily_aggregates: bool,
    /// Monthly aggregates.
    #[serde(default)]
    pub monthly_aggregates: bool,
}

impl Default for Granularity {
    fn default() -> Self {
        Granularity { raw_data: true, minute_aggregates: false, hourly_aggregates: true, daily_aggregates: true, monthly_aggregates: true }
    }
}

impl ClientConfig {
    /// Reads a client configuration from YAML (or JSON, which is YAML too).
    pub fn from_yaml(text: &str) -> Result<ClientConfig, crate::CatalogError> {
        Ok(crate::document::parse::<ClientConfig>(text, crate::Format::Yaml, None)?.value)
    }

    /// Reads a client configuration from JSON.
    pub fn from_json(text: &str) -> Result<ClientConfig, crate::CatalogError> {
        Ok(crate::document::parse::<ClientConfig>(text, crate::Format::Json, None)?.value)
    }

    /// The configuration as YAML.
    pub fn to_yaml(&self) -> Result<String, crate::CatalogError> {
        crate::document::write(self, crate::Format::Yaml)
    }

    /// The configuration as JSON.
    pub fn to_json(&self) -> Result<String, crate::CatalogError> {
        crate::document::write(self, crate::Format::Json)
    }
}

impl RetentionPolicy {
    /// Reads a retention policy from YAML (or JSON, which is YAML too), as the `retention`
    /// section of a client configuration.
    ///
    /// ```
    /// let policy = kpi_catalog::RetentionPolicy::from_yaml("
    /// staged_source_data: { retention_period: 90, archival_enabled: true, archival_period: 1 }
    /// analytics_data: { retention_period: 2, retention_unit: years }
    /// ")?;
    /// assert_eq!(policy.staged_source_data.describe(), "90 days active, archived 1 year");
    /// # Ok::<(), kpi_catalog::CatalogError>(())
    /// ```
    pub fn from_yaml(text: &str) -> Result<RetentionPolicy, crate::CatalogError> {
        Ok(crate::document::parse::<RetentionPolicy>(text, crate::Format::Yaml, None)?.value)
    }
}

impl crate::Catalog {
    /// The catalog as one client sees it: its custom KPIs override standard KPIs of the same code
    /// or extend the catalog. Everything is validated together, including that selected KPIs
    /// exist, data sources and field mappings name existing object models and columns, and
    /// retention periods are positive; [`crate::CatalogError::Invalid`] lists every problem.
    ///
    /// ```
    /// use kpi_catalog::{Catalog, ClientConfig, KpiDefinition};
    /// let client = ClientConfig {
    ///     id: "acme".into(),
    ///     name: "Acme".into(),
    ///     selected_kpis: vec!["revenue".into(), "web_revenue".into()],
    ///     custom_kpis: vec![KpiDefinition::new("web_revenue", "Web revenue", "sum(orders.order_value where orders.channel = 'web')")],
    ///     ..Default::default()
    /// };
    /// let catalog = Catalog::standard().for_client(&client)?;
    /// assert_eq!(catalog.kpi("web_revenue")?.name, "Web revenue");
    /// # Ok::<(), kpi_catalog::CatalogError>(())
    /// ```
    pub fn for_client(&self, client: &ClientConfig) -> Result<crate::Catalog, crate::CatalogError> {
        use crate::error::{Problem, ProblemKind, Problems};
        use crate::source::Location;
        let mut catalog = self.clone();
        for kpi in &client.custom_kpis {
            catalog.add_kpi(kpi.clone());
        }
        let mut problems = catalog.problems().0;
        let mut problem = |kind, path: String, message: String, help: Option<String>| {
            problems.push(Problem {
                kind,
                message,
                help,
                location: Location { file: Some(format!("client {}", client.id)), path, line: None, column: None },
                diagnostic: None,
            })
        };
        let suggest = |code: &str, candidates: Vec<&str>| {
            kpi_formula::diagnostic::did_you_mean(code, candidates).map(|s| format!("did you mean `{s}`?"))
        };
        let kpi_codes: Vec<&str> = catalog.kpis().map(|k| k.code.as_str()).collect();
        let model_codes: Vec<&str> = catalog.object_models().map(|m| m.code.as_str()).collect();
        if client.id.trim().is_empty() {
            problem(ProblemKind::Missing, "id".into(), "the client has no id".into(), None);
        }
        for (i, code) in client.selected_kpis.iter().enumerate() {
            if !kpi_codes.contains(&code.as_str()) {
                problem(
                    ProblemKind::UnknownReference,
                    format!("selected_kpis[{i}]"),
                    format!("unknown KPI `{code}`"),
                    suggest(code, kpi_codes.clone()),
                );
            }
        }
        let sources: Vec<&str> = client.data_sources.iter().map(|s| s.name.as_str()).collect();
        for (i, s) in client.data_sources.iter().enumerate() {
            for (j, m) in s.object_models.iter().enumerate() {
                if !model_codes.contains(&m.as_str()) {
                    problem(
                        ProblemKind::UnknownReference,
                        format!("data_sources[{i}].object_models[{j}]"),
                        format!("unknown object model `{m}`"),
                        suggest(m, model_codes.clone()),
                    );
                }
            }
        }
        for (i, f) in client.field_mappings.iter().enumerate() {
            match catalog.object_model(&f.object_model) {
                Err(_) => problem(
                    ProblemKind::UnknownReference,
                    format!("field_mappings[{i}].object_model"),
                    format!("unknown object model `{}`", f.object_model),
                    suggest(&f.object_model, model_codes.clone()),
                ),
                Ok(m) if m.column(&f.column).is_none() => {
                    let columns = m.columns.iter().map(|c| c.name.as_str()).collect();
                    problem(
                        ProblemKind::UnknownReference,
                        format!("field_mappings[{i}].column"),
                        format!("`{}` has no column `{}`", m.code, f.column),
                        suggest(&f.column, columns),
                    )
                }
                Ok(_) => {}
            }
            if !sources.contains(&f.source.as_str()) {
                problem(
                    ProblemKind::UnknownReference,
                    format!("field_mappings[{i}].source"),
                    format!("unknown data source `{}`", f.source),
                    suggest(&f.source, sources.clone()),
                );
            }
        }
        if let Some(r) = &client.retention {
            for (name, rule) in [("staged_source_data", &r.staged_source_data), ("analytics_data", &r.analytics_data)] {
                if rule.retention_period == 0 {
                    problem(
                        ProblemKind::Missing,
                        format!("retention.{name}.retention_period"),
                        "the retention period must be at least 1".into(),
                        None,
                    );
                }
                if rule.archival_enabled && rule.archival_period == 0 && rule.archival_unit != ArchivalUnit::Indefinite {
                    problem(
                        ProblemKind::Missing,
                        format!("retention.{name}.archival_period"),
                        "archival is enabled but the archival period is 0".into(),
                        Some("give a period, or use archival_unit: indefinite".into()),
                    );
                }
            }
        }
        if problems.is_empty() { Ok(catalog) } else { Err(crate::CatalogError::Invalid(Problems(problems))) }
    }
}
