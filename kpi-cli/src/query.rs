//! The arguments that name a catalog and a query, shared by `calc`, `sql` and `explain`, mapped
//! onto the engine's query document (so the command line checks options by the same rules as
//! Python, Node and the server).

use std::path::PathBuf;

use clap::Args;
use kpi_catalog::Catalog;
use kpi_core::{QuerySpec, TimeSetting};

use crate::error::CliError;

/// Which catalog to use.
#[derive(Args, Debug, Clone)]
pub struct CatalogArgs {
    /// A catalog file (YAML, or JSON for `.json`); the standard catalog when left out.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub catalog: Option<PathBuf>,
}

impl CatalogArgs {
    /// The catalog: the file's, validated, or the standard one.
    pub fn load(&self) -> Result<Catalog, CliError> {
        match &self.catalog {
            Some(path) => Ok(Catalog::load(path)?),
            None => Ok(Catalog::standard()),
        }
    }
}

/// What to calculate and how.
#[derive(Args, Debug, Clone)]
pub struct QueryArgs {
    /// The KPI's code in the catalog.
    #[arg(long, short = 'k', value_name = "CODE", conflicts_with = "formula", required_unless_present = "formula")]
    pub kpi: Option<String>,
    /// An ad-hoc formula instead of a KPI, e.g. `sum(orders.order_value) / count(orders)`.
    #[arg(long, short = 'f', value_name = "FORMULA")]
    pub formula: Option<String>,
    /// Periods: minute, hour, day, week, month, quarter or year (one value when left out).
    #[arg(long, short = 'g', value_name = "GRAIN")]
    pub grain: Option<String>,
    /// A dimension to group by, e.g. `orders.region` or `orders.customer.segment`; repeatable.
    #[arg(long, short = 'b', value_name = "DIMENSION")]
    pub by: Vec<String>,
    /// First instant of the range (a date, a local date-time or RFC 3339), with --end.
    #[arg(long, value_name = "TIME", requires = "end")]
    pub start: Option<String>,
    /// End of the range (exclusive), with --start.
    #[arg(long, value_name = "TIME", requires = "start")]
    pub end: Option<String>,
    /// A row filter in the formula language, e.g. `orders.channel = 'web'`.
    #[arg(long = "where", short = 'w', value_name = "FILTER")]
    pub filter: Option<String>,
    /// The IANA time zone of the periods (UTC by default).
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
    /// The first day of a week (monday by default).
    #[arg(long, value_name = "DAY")]
    pub week_start: Option<String>,
    /// The first month of the fiscal year and its quarters, e.g. `april` (january by default).
    #[arg(long, value_name = "MONTH")]
    pub fiscal_year_start: Option<String>,
    /// A retail calendar of whole weeks, e.g. `nrf` or `4-4-5, last saturday of december`.
    #[arg(long, value_name = "CALENDAR")]
    pub retail_calendar: Option<String>,
    /// A calendar table of the catalog, e.g. `fiscal_calendar(day, month=period, year=fiscal_year)`.
    #[arg(long, value_name = "TABLE(DATE, GRAIN=COLUMN...)")]
    pub calendar_table: Option<String>,
    /// Leave out periods without rows instead of listing them.
    #[arg(long)]
    pub omit_empty: bool,
    /// Give up after this long, e.g. `30s` or `2m` (the engine's default otherwise).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
}

impl QueryArgs {
    /// The query document, checked.
    pub fn spec(&self) -> Result<QuerySpec, CliError> {
        let spec = QuerySpec {
            kpi: self.kpi.clone(),
            formula: self.formula.clone(),
            grain: self.grain.clone(),
            by: self.by.clone(),
            start: self.start.clone(),
            end: self.end.clone(),
            filter: self.filter.clone(),
            timezone: self.timezone.clone(),
            week_start: self.week_start.clone(),
            fiscal_year_start: self.fiscal_year_start.clone(),
            retail_calendar: self.retail_calendar.clone(),
            calendar_table: self.calendar_table.as_deref().map(str::parse).transpose()?,
            empty_periods: self.omit_empty.then(|| "omit".to_string()),
            timeout: self.timeout.clone().map(TimeSetting::Text),
            ..QuerySpec::default()
        };
        // The document's own rules (a known grain, a parsable range, ...) run when it becomes
        // a query; checking here gives the error before any data is read.
        spec.to_query(&Default::default())?;
        Ok(spec)
    }
}
