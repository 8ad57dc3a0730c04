//! `kpi archive` and `kpi retention plan`: a retention policy applied to (or planned over) the
//! data directory of a durable engine, with a progress bar for long runs.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use kpi_catalog::{ClientConfig, RetentionPolicy};
use kpi_core::{Engine, EngineOptions, ManualClock, RetentionPlan, RetentionProgress, RetentionReport};

use crate::data::DataArgs;
use crate::error::CliError;
use crate::query::CatalogArgs;

pub const ARCHIVE_EXAMPLES: &str = "Examples:
  kpi archive --data-dir /var/lib/kpi --policy retention.yaml
  kpi archive --data-dir /tmp/kpi --demo 20000 --policy retention.yaml --now 2025-06-01
  kpi archive --data-dir /var/lib/kpi --client acme.yaml --archive s3://cold/kpi/ --json";

pub const PLAN_EXAMPLES: &str = "Examples:
  kpi retention plan --data-dir /var/lib/kpi --policy retention.yaml
  kpi retention plan --data-dir /var/lib/kpi --client acme.yaml --json";

/// What to do about retention.
#[derive(Subcommand, Debug)]
pub enum RetentionCommand {
    /// Show what `kpi archive` would archive, delete and remove now, without doing it.
    #[command(after_help = PLAN_EXAMPLES)]
    Plan(LifecycleArgs),
}

/// The data directory, the policy and the data to load first.
#[derive(Args, Debug)]
pub struct LifecycleArgs {
    #[command(flatten)]
    pub catalog: CatalogArgs,
    /// A retention policy (YAML or JSON: staged_source_data, analytics_data, granularity,
    /// compliance), as the `retention` section of a client configuration.
    #[arg(long, value_name = "FILE", conflicts_with = "client")]
    pub policy: Option<PathBuf>,
    /// A client configuration whose `retention` policy applies.
    #[arg(long, value_name = "FILE")]
    pub client: Option<PathBuf>,
    /// Where archives go: a directory or an object-store URL (`archive/` in the data directory
    /// by default).
    #[arg(long = "archive", value_name = "DIR|URL")]
    pub archive_location: Option<String>,
    /// Act as if it were this time (RFC 3339 or a date), e.g. to plan ahead.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The data directory (--data-dir, required: its tables, write-ahead log and, by default,
    /// its archive) and data to register into it first (files stay where they are and are not
    /// archived; demo data is held, logged and archived).
    #[command(flatten)]
    pub data: DataArgs,
}

impl LifecycleArgs {
    /// The durable engine over the data directory, with the policy and the data loaded.
    async fn engine(&self) -> Result<Engine, CliError> {
        let policy = match (&self.policy, &self.client) {
            (Some(path), _) => Some(RetentionPolicy::from_yaml(&std::fs::read_to_string(path).map_err(CliError::io(path))?)?),
            (None, Some(path)) => {
                let client = ClientConfig::from_yaml(&std::fs::read_to_string(path).map_err(CliError::io(path))?)?;
                Some(client.retention.ok_or_else(|| CliError::Usage(format!("{} has no `retention` policy", path.display())))?)
            }
            (None, None) => None,
        };
        let policy = policy.ok_or_else(|| CliError::Usage("give the policy: --policy FILE or --client FILE".into()))?;
        let dir = self.data.data_dir.as_ref().ok_or_else(|| CliError::Usage("give the engine's data directory: --data-dir DIR".into()))?;
        let mut options = EngineOptions::default().with_data_dir(dir).with_retention_policy(policy);
        if let Some(location) = &self.archive_location {
            options = options.with_archive_location(location.as_str());
        }
        if let Some(now) = &self.now {
            let at = chrono::DateTime::parse_from_rfc3339(now)
                .map(|t| t.to_utc())
                .or_else(|_| chrono::NaiveDate::parse_from_str(now, "%Y-%m-%d").map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc()))
                .map_err(|_| CliError::Usage(format!("--now `{now}` is neither a date (YYYY-MM-DD) nor RFC 3339")))?;
            options = options.with_clock(Arc::new(ManualClock::new(at)));
        }
        let engine = Engine::with_options(self.catalog.load()?, options)?;
        self.data.register(&engine).await?;
        Ok(engine)
    }
}

/// `kpi retention plan`.
pub async fn plan(args: &LifecycleArgs) -> Result<bool, CliError> {
    let engine = args.engine().await?;
    let plan = engine.retention_plan()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&plan).map_err(|e| CliError::Usage(e.to_string()))?);
    } else {
        print_plan(&plan);
    }
    engine.close().await?;
    Ok(true)
}

/// `kpi archive`.
pub async fn archive(args: &LifecycleArgs) -> Result<bool, CliError> {
    let engine = args.engine().await?;
    let bar = if args.json { ProgressBar::hidden() } else { ProgressBar::new(0) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:24} [{bar:30}] {pos}/{len} months, {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let progress = |p: &RetentionProgress| {
        bar.set_message(p.object_model.clone());
        bar.set_length(p.total);
        bar.set_position(p.done);
    };
    let report = engine.apply_retention_with(&progress).await?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| CliError::Usage(e.to_string()))?);
    } else {
        print_report(&report);
    }
    engine.close().await?;
    Ok(true)
}

fn print_plan(plan: &RetentionPlan) {
    let policy = plan.policy.as_deref().unwrap_or("no policy");
    let before = plan.before.map(|t| t.to_rfc3339()).unwrap_or_default();
    println!("policy: {policy}; rows before {before} leave active data");
    if let Some(location) = &plan.archive_location {
        println!("archive: {location}");
    }
    if plan.releases.is_empty() {
        println!("nothing to archive or delete");
    }
    for release in &plan.releases {
        println!(
            "{:<24} {:<8} {:>10} rows  {:>10} bytes  {}",
            release.object_model,
            release.action,
            release.rows,
            release.bytes,
            release.periods.join(", ")
        );
    }
    for file in &plan.expiring_files {
        println!("expired, would be removed: {file}");
    }
}

fn print_report(report: &RetentionReport) {
    let mut any = false;
    for model in report.models.iter().filter(|m| m.archived_rows + m.deleted_rows > 0 || m.skipped.is_some()) {
        any = true;
        match &model.skipped {
            Some(why) => println!("{:<24} skipped: {why}", model.object_model),
            None => println!(
                "{:<24} archived {:>10} rows ({} files, {} bytes), deleted {:>10} rows",
                model.object_model,
                model.archived_rows,
                model.files.len(),
                model.bytes,
                model.deleted_rows
            ),
        }
    }
    if !any {
        println!("nothing to archive or delete");
    }
    for file in &report.expired_files {
        println!("removed expired archive {file}");
    }
    let rows: u64 = report.models.iter().map(|m| m.archived_rows).sum();
    if report.seconds > 0.0 && rows > 0 {
        println!("{rows} rows archived in {:.2} s ({:.0} rows/s)", report.seconds, rows as f64 / report.seconds);
    }
}
