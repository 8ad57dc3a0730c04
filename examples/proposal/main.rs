//! Prices a service proposal from a YAML (or JSON) answers file and prints it as Markdown, or as
//! the specification's `ServiceProposal` JSON with `--json`.
//!
//! ```text
//! cargo run -p kpi-examples --bin proposal -- [--json] [--price-book FILE] [ANSWERS] [KPI ...]
//! ```
//!
//! Without arguments it prices `examples/proposal/answers.yaml` (the specification's worked
//! example) for perfect order rate, on-time delivery and new customers.

use std::process::ExitCode;

use kpi_catalog::Catalog;
use kpi_pricing::{Answers, PriceBook, price};

const DEFAULT_ANSWERS: &str = include_str!("answers.yaml");
const DEFAULT_KPIS: [&str; 3] = ["perfect_order_rate", "on_time_delivery_rate", "new_customers"];

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The proposal for the command line `args`, as text to print.
fn run(args: Vec<String>) -> Result<String, String> {
    let mut json = false;
    let mut book = PriceBook::default();
    let mut answers_file = None;
    let mut kpis = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => json = true,
            "--price-book" => {
                let path = args.next().ok_or("--price-book needs a file")?;
                let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
                book = PriceBook::from_yaml(&text).map_err(|e| e.to_string())?;
            }
            _ if answers_file.is_none() && (arg.ends_with(".yaml") || arg.ends_with(".yml") || arg.ends_with(".json")) => {
                answers_file = Some(arg)
            }
            _ => kpis.push(arg),
        }
    }
    let text = match &answers_file {
        Some(path) => std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?,
        None => DEFAULT_ANSWERS.to_string(),
    };
    let answers = Answers::from_yaml(&text).map_err(|e| e.to_string())?;
    if kpis.is_empty() {
        kpis = DEFAULT_KPIS.map(String::from).to_vec();
    }
    let proposal = price(&Catalog::standard(), &kpis, &answers, &book).map_err(|e| e.to_string())?;
    Ok(if json { proposal.to_json() } else { proposal.to_markdown() })
}

#[cfg(test)]
mod tests {
    use super::run;

    #[test]
    fn prices_the_specification_example() {
        let md = run(vec![]).unwrap();
        assert!(md.contains("**Annual Cost:** $96,070"), "{md}");
        let json: serde_json::Value = serde_json::from_str(&run(vec!["--json".into()]).unwrap()).unwrap();
        assert_eq!(json["infrastructure"]["total"]["annual"], 22320);
    }

    #[test]
    fn reports_bad_arguments() {
        assert!(run(vec!["missing.yaml".into()]).unwrap_err().contains("missing.yaml"));
        assert!(run(vec!["no_such_kpi".into()]).unwrap_err().contains("unknown KPI `no_such_kpi`"));
        assert!(run(vec!["--price-book".into()]).is_err());
    }
}
