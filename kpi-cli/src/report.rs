//! `kpi report run`: a report (the document the server's `POST /reports` takes, from a file or
//! from flags) rendered over files or demo data as CSV, JSON or PDF, written to a file or
//! standard output, or mailed through an SMTP server.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use kpi_core::{MailSettings, ReportFormat, ReportRange, ReportSpec};

use crate::data::DataArgs;
use crate::error::CliError;
use crate::query::CatalogArgs;

const REPORT_EXAMPLES: &str = "Examples:
  kpi report run -k revenue,perfect_order_rate -g week -b orders.region --range 2024-01-01,2024-04-01 -d data/ -o q1.pdf
  kpi report run -k order_count --range last_7_days --format csv --timezone Europe/Berlin -d data/ > week.csv
  kpi report run weekly.json -d data/ --to ops@example.com --smtp mail.example.com:587 --from kpi@example.com";

/// What to do with reports.
#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Render a report now: to a file (--out), standard output, or mail (--to).
    #[command(after_help = REPORT_EXAMPLES)]
    Run(RunArgs),
}

/// A report to run.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// A report document (JSON): name, kpis, grain, by, where, range, format, timezone, title,
    /// recipients. Flags given as well override its fields.
    #[arg(value_name = "REPORT.json")]
    pub definition: Option<PathBuf>,
    /// The report's name (its title and file name).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// KPI codes, comma-separated or repeated.
    #[arg(long, short = 'k', value_name = "CODES", value_delimiter = ',')]
    pub kpis: Vec<String>,
    /// Periods: minute, hour, day (the default), week, month, quarter, year, or none.
    #[arg(long, short = 'g', value_name = "GRAIN")]
    pub grain: Option<String>,
    /// A dimension to group by; repeatable.
    #[arg(long, short = 'b', value_name = "DIMENSION")]
    pub by: Vec<String>,
    /// A row filter in the formula language.
    #[arg(long = "where", short = 'w', value_name = "FILTER")]
    pub filter: Option<String>,
    /// last_month (default), last_7_days, last_30_days, yesterday, last_week, last_quarter,
    /// last_year, month_to_date, year_to_date, or START,END.
    #[arg(long, value_name = "RANGE")]
    pub range: Option<String>,
    /// pdf (default), csv or json.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// The IANA time zone of the range and periods (UTC by default).
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
    /// A title for the document.
    #[arg(long, value_name = "TITLE")]
    pub title: Option<String>,
    /// Write the document here (standard output when left out and nobody is mailed).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Mail the document to this address; repeatable (needs --smtp and --from).
    #[arg(long, value_name = "ADDRESS")]
    pub to: Vec<String>,
    /// The SMTP server, HOST or HOST:PORT.
    #[arg(long, value_name = "HOST[:PORT]", requires = "from")]
    pub smtp: Option<String>,
    /// TLS to the SMTP server: starttls (default), tls or none.
    #[arg(long, value_name = "MODE", requires = "smtp")]
    pub smtp_tls: Option<String>,
    /// The sender's address.
    #[arg(long, value_name = "ADDRESS")]
    pub from: Option<String>,
    #[command(flatten)]
    pub catalog: CatalogArgs,
    #[command(flatten)]
    pub data: DataArgs,
}

fn usage(message: String) -> CliError {
    CliError::Usage(message)
}

impl RunArgs {
    /// The report document: the file's, with the flags over it.
    fn spec(&self) -> Result<ReportSpec, CliError> {
        let mut spec = match &self.definition {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(CliError::io(path))?;
                ReportSpec::from_json(&text)?
            }
            None => ReportSpec { name: "report".into(), ..Default::default() },
        };
        if let Some(name) = &self.name {
            spec.name = name.clone();
        }
        if !self.kpis.is_empty() {
            spec.kpis = self.kpis.iter().map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect();
        }
        if spec.kpis.is_empty() {
            return Err(usage("no KPIs: give -k CODES or a report document that names them".into()));
        }
        spec.grain = self.grain.clone().or(spec.grain);
        if !self.by.is_empty() {
            spec.by = self.by.clone();
        }
        spec.filter = self.filter.clone().or(spec.filter);
        spec.timezone = self.timezone.clone().or(spec.timezone);
        spec.title = self.title.clone().or(spec.title);
        if let Some(range) = &self.range {
            spec.range = match range.split_once(',') {
                Some((start, end)) => ReportRange::Fixed { start: start.trim().into(), end: end.trim().into() },
                None => serde_json::from_value(serde_json::Value::String(range.clone()))
                    .map_err(|_| usage(format!("`{range}` is not a range: last_month, last_7_days, last_30_days, yesterday, last_week, last_quarter, last_year, month_to_date, year_to_date, or START,END")))?,
            };
        }
        if let Some(format) = &self.format {
            spec.format = serde_json::from_value::<ReportFormat>(serde_json::Value::String(format.clone()))
                .map_err(|_| usage(format!("`{format}` is not a report format: pdf, csv or json")))?;
        }
        if !self.to.is_empty() {
            spec.recipients = self.to.clone();
        }
        // A report run from the command line has no schedule of its own.
        spec.schedule = None;
        Ok(spec)
    }

    fn mail(&self) -> Result<Option<MailSettings>, CliError> {
        let Some(server) = &self.smtp else { return Ok(None) };
        let (host, port) = match server.rsplit_once(':') {
            Some((host, port)) => {
                (host.to_string(), Some(port.parse::<u16>().map_err(|_| usage(format!("`{port}` is not a port in --smtp")))?))
            }
            None => (server.clone(), None),
        };
        Ok(Some(MailSettings { host, port, tls: self.smtp_tls.clone(), from: self.from.clone().unwrap_or_default(), ..Default::default() }))
    }
}

/// Runs `kpi report ...`.
pub async fn run(command: &ReportCommand) -> Result<(), CliError> {
    let ReportCommand::Run(args) = command;
    let spec = args.spec()?;
    let mail = args.mail()?;
    if !spec.recipients.is_empty() && mail.is_none() {
        return Err(usage("--to needs --smtp HOST[:PORT] and --from ADDRESS".into()));
    }
    if args.data.is_empty() {
        return Err(usage("no data: give --data DIR, --data MODEL=PATH, --demo ROWS or --data-dir DIR".into()));
    }
    let engine = args.data.engine(args.catalog.load()?).await?;
    let document = match mail {
        Some(mail) => {
            engine.set_mail(&mail)?;
            let report = engine.add_report(spec.clone()).await?;
            let (run, document) = engine.run_report(report.id).await?;
            if let Some(error) = run.error {
                return Err(CliError::Engine(kpi_core::EngineError::Delivery { target: mail.shown(), message: error }));
            }
            eprintln!("kpi: mailed {} to {}", document.filename, run.delivered_to.join(", "));
            document
        }
        None => engine.render_report(&spec).await?,
    };
    for (kpi, error) in &document.failed_kpis {
        eprintln!("kpi: warning: {kpi} could not be calculated: {error}");
    }
    match &args.out {
        Some(path) => {
            std::fs::write(path, &document.bytes).map_err(CliError::io(path))?;
            eprintln!("kpi: wrote {} ({} bytes, {})", path.display(), document.bytes.len(), document.period_label);
        }
        None if spec.recipients.is_empty() => {
            std::io::stdout().write_all(&document.bytes).map_err(CliError::io("<stdout>"))?;
        }
        None => {}
    }
    Ok(())
}
