//! Pricing a proposal: the selected KPIs and the answers, checked together, priced with a book.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use kpi_catalog::{Catalog, RequiredObjects};
use rust_decimal::Decimal;

mod running;
mod work;

use running::{infrastructure, managed_services, retention_policy};
use work::{TM_INTEGRATION, TM_KPIS, data_integration, environment_setup, kpi_implementation};

use crate::answers::Answers;
use crate::error::{PricingError, Problems, did_you_mean};
use crate::money::{Money, Range};
use crate::price_book::{LicenseTerm, PriceBook};
use crate::proposal::{Implementation, Licensing, Retention, ServiceProposal, TimeAndMaterialsItem, Totals};
use crate::schedule::{Work, plan};

/// Days a proposal stays valid.
pub const VALID_DAYS: i64 = 30;

/// Prices a proposal for the KPIs `kpis` (codes in `catalog`) with `answers` and `book`.
///
/// Value chains and object models come from the catalog's required-objects analysis; every
/// problem with the selection, the answers and the book is listed in one
/// [`PricingError::Invalid`].
///
/// ```
/// use kpi_catalog::Catalog;
/// use kpi_pricing::{Answers, PriceBook, price};
///
/// let answers = Answers::from_yaml(r#"
/// client_name: Acme
/// proposal_date: 2026-11-22
/// license_term: 3
/// default_integration: { method: batch_conformed, source_system: Snowflake }
/// environment: { platform: none }
/// infrastructure: { daily_gb: 2, concurrent_users: 50, refresh: hour }
/// managed_services: { retainer: true, additional_hours: 50 }
/// "#)?;
/// let proposal = price(&Catalog::standard(), &["perfect_order_rate", "new_customers"], &answers, &PriceBook::default())?;
/// assert_eq!(proposal.licensing.value_chains, ["crm", "scor"]);
/// assert_eq!(proposal.licensing.annual_total.to_string(), "$65,000");
/// assert_eq!(proposal.managed_services.annual_total.to_string(), "$8,750");
/// assert_eq!(proposal.valid_until, "2026-12-22");
/// # Ok::<(), kpi_pricing::PricingError>(())
/// ```
pub fn price<S: AsRef<str>>(catalog: &Catalog, kpis: &[S], answers: &Answers, book: &PriceBook) -> Result<ServiceProposal, PricingError> {
    book.validate()?;
    let selected = selected_kpis(catalog, kpis)?;
    let needs = catalog.required_objects(&selected)?;
    let mut p = Problems::default();
    let mut assumptions = Vec::new();

    let date = proposal_date(answers, &mut p);
    let term = license_term(answers, &mut p);
    let chains = value_chains(catalog, &needs, answers, book, &mut p);
    let integration = data_integration(catalog, &needs, answers, book, &mut p);
    let kpi_items = kpi_implementation(catalog, &selected, answers, book, &mut p, &mut assumptions);
    let environment = environment_setup(answers.environment.as_ref(), book, &mut p, &mut assumptions);
    let (policy, retention) = retention_policy(answers, &mut p, &mut assumptions);
    let managed = managed_services(answers.managed_services.as_ref(), book, &mut p, &mut assumptions);
    let horizon_days = u64::from(term.map_or(1, LicenseTerm::years)) * 365;
    let infrastructure =
        infrastructure(answers.infrastructure.as_ref(), selected.len(), &policy, horizon_days, book, &mut p, &mut assumptions);
    let (Some(term), Some(date), Some(environment), Some(managed), Some(infrastructure)) =
        (term, date, environment, managed, infrastructure)
    else {
        return Err(PricingError::Invalid { what: "answers", problems: p });
    };
    p.into_result("answers", ())?;

    let annual_per_chain = book.licensing.annual_per_value_chain(term);
    let annual_licence = annual_per_chain.times(Decimal::from(chains.len()));
    let licensing = Licensing {
        value_chain_names: chains.iter().map(|c| catalog.value_chain(c).map_or(c.clone(), |v| v.name.clone())).collect(),
        value_chains: chains,
        license_term: term,
        annual_cost_per_chain: annual_per_chain,
        annual_total: annual_licence,
        term_total: annual_licence.times(term.years().into()),
        saving_percent: book.licensing.saving_percent(term),
    };

    let (data_integration, integration_tm, integration_hours) = integration;
    let (kpi_implementation, kpi_tm, kpi_hours) = kpi_items;
    let tm_items: Vec<TimeAndMaterialsItem> = [integration_tm, kpi_tm].into_iter().flatten().collect();
    let fixed_cost_total = Money::sum(data_integration.iter().map(|i| i.cost)) + Money::sum(kpi_implementation.iter().map(|k| k.cost));
    let tm_cost_range = Range::sum(tm_items.iter().map(|t| t.cost));
    let implementation_total = tm_cost_range + fixed_cost_total + environment.cost;
    let work = Work {
        setup_hours: if environment.setup_required { environment.cloud_architect_hours } else { Decimal::ZERO },
        integration_hours,
        integration_tm: tm_items.iter().any(|t| t.description.starts_with(TM_INTEGRATION)),
        kpi_hours,
        kpi_tm: tm_items.iter().any(|t| t.description.starts_with(TM_KPIS)),
    };
    let (resources, timeline) = plan(&work, book.rates.integration_developer, book.rates.integration_architect, book.rates.cloud_architect);

    let yearly_recurring = licensing.annual_total + infrastructure.total.annual + managed.annual_total;
    let year1 = implementation_total + yearly_recurring;
    let later_years = yearly_recurring.times(Decimal::from(term.years() - 1));
    let totals = Totals { year1, yearly_recurring, term_total: year1 + later_years };
    let retention =
        Retention { staged_source_storage: infrastructure.sizing.as_ref().map(|s| s.staged_source_storage.clone()), ..retention };
    Ok(ServiceProposal {
        client: answers.client_name.clone().filter(|c| !c.trim().is_empty()),
        date: date.format("%Y-%m-%d").to_string(),
        valid_until: (date + chrono::Duration::days(VALID_DAYS)).format("%Y-%m-%d").to_string(),
        selected_kpis: selected,
        required_object_models: needs.object_models.iter().cloned().collect(),
        licensing,
        implementation: Implementation {
            data_integration,
            kpi_implementation,
            environment_setup: environment,
            tm_items,
            fixed_cost_total,
            tm_cost_range,
            implementation_total,
        },
        infrastructure,
        retention,
        managed_services: managed,
        totals,
        resources,
        timeline,
        assumptions,
    })
}

/// The selected codes, deduplicated in order; unknown codes are listed together.
fn selected_kpis<S: AsRef<str>>(catalog: &Catalog, kpis: &[S]) -> Result<Vec<String>, PricingError> {
    let mut p = Problems::default();
    if kpis.is_empty() {
        p.add("kpis", "no KPIs are selected; a proposal prices at least one");
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, code) in kpis.iter().enumerate() {
        let code = code.as_ref();
        if catalog.kpi(code).is_err() {
            p.add_with_help(
                format!("kpis[{i}]"),
                format!("unknown KPI `{code}`"),
                did_you_mean(code, catalog.kpis().map(|k| k.code.as_str())),
            );
        } else if seen.insert(code.to_string()) {
            out.push(code.to_string());
        }
    }
    p.into_result("answers", out)
}

fn proposal_date(answers: &Answers, p: &mut Problems) -> Option<NaiveDate> {
    match &answers.proposal_date {
        None => Some(chrono::Utc::now().date_naive()),
        Some(text) => match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
            Ok(d) if d.checked_add_signed(chrono::Duration::days(VALID_DAYS)).is_some() => Some(d),
            _ => {
                p.add("proposal_date", format!("`{text}` is not a date written as YYYY-MM-DD"));
                None
            }
        },
    }
}

fn license_term(answers: &Answers, p: &mut Problems) -> Option<LicenseTerm> {
    match answers.license_term {
        None => {
            p.add_with_help("license_term", "no licence term is given", Some("answer 1, 3 or 5 (years)".into()));
            None
        }
        Some(years) => {
            let term = LicenseTerm::from_years(years);
            if term.is_none() {
                p.add_with_help("license_term", format!("a licence term of {years} years is not sold"), Some("answer 1, 3 or 5".into()));
            }
            term
        }
    }
}

/// The detected value chains plus those the answers add, minus those licensing includes.
fn value_chains(catalog: &Catalog, needs: &RequiredObjects, answers: &Answers, book: &PriceBook, p: &mut Problems) -> Vec<String> {
    let mut chains: BTreeSet<String> = needs.value_chains.clone();
    for (i, code) in answers.value_chains.iter().enumerate() {
        if catalog.value_chain(code).is_err() {
            p.add_with_help(
                format!("value_chains[{i}]"),
                format!("unknown value chain `{code}`"),
                did_you_mean(code, catalog.value_chains().map(|v| v.code.as_str())),
            );
        } else {
            chains.insert(code.clone());
        }
    }
    chains.retain(|c| !book.licensing.included_value_chains.contains(c));
    if chains.is_empty() {
        p.add_with_help(
            "value_chains",
            "none of the selected KPIs belongs to a licensable value chain",
            Some("name the value chains to license in `value_chains`".into()),
        );
    }
    chains.into_iter().collect()
}
