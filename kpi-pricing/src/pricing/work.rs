//! The statement of work: data integration, KPI implementation and environment setup.

use kpi_catalog::{Catalog, Complexity, RequiredObjects};
use rust_decimal::Decimal;

use crate::answers::{Answers, EnvironmentAnswer, IntegrationMethod, MAX_HOURS, complexity_label};
use crate::error::{Problems, did_you_mean};
use crate::money::{Money, Range};
use crate::price_book::{FixedWork, PriceBook};
use crate::proposal::{DataIntegrationItem, EnvironmentSetup, KpiImplementationItem, TimeAndMaterialsItem};

/// The description that starts the time-and-materials line of integrations.
pub(super) const TM_INTEGRATION: &str = "API/Non-Architected Integration";
/// The description that starts the time-and-materials line of KPIs.
pub(super) const TM_KPIS: &str = "Dynamic RBAC KPIs";

/// Checks answered time-and-materials hours at `path`: none for fixed-price work (`fixed_price`
/// says what it is, `fix` the other way out), else a bounded, ordered range.
fn check_tm_hours(path: &str, fixed: bool, answered: Option<Range<Decimal>>, fixed_price: &str, fix: &str, p: &mut Problems) {
    let Some(hours) = answered else { return };
    let limit = Decimal::from(MAX_HOURS);
    if fixed {
        p.add_with_help(path, format!("{fixed_price}, so it has no time-and-materials hours"), Some(format!("remove tm_hours, or {fix}")));
    } else if hours.min < Decimal::ZERO || hours.max > limit {
        p.add(path, format!("hours must be between 0 and {limit}"));
    } else if hours.min > hours.max {
        p.add(path, format!("the range {hours} runs backwards (min is above max)"));
    }
}

/// The work of one step: the hours to schedule and the items billed as time and materials.
#[derive(Default)]
struct Tally {
    hours: Decimal,
    tm: Vec<(String, Range<Decimal>)>,
}

impl Tally {
    /// The fixed price of `fixed` work, or zero for time and materials over `tm_hours`
    /// (scheduled at its high end and listed for the T&M line).
    fn cost(&mut self, name: &str, fixed: Option<&FixedWork>, tm_hours: Range<Decimal>) -> Money {
        match fixed {
            Some(work) => {
                self.hours += work.hours;
                work.charge
            }
            None => {
                self.hours += tm_hours.max;
                self.tm.push((name.to_string(), tm_hours));
                Money::ZERO
            }
        }
    }
}

/// A time-and-materials line for `items`, each `hours` at the architect's rate; `None` without items.
fn tm_item(what: &str, items: &[(String, Range<Decimal>)], rate: Money) -> Option<TimeAndMaterialsItem> {
    if items.is_empty() {
        return None;
    }
    let hours = Range { min: items.iter().map(|(_, h)| h.min).sum::<Decimal>(), max: items.iter().map(|(_, h)| h.max).sum::<Decimal>() };
    let cost = hours.map(|h| rate.times(h));
    let names: Vec<&str> = items.iter().map(|(n, _)| n.as_str()).collect();
    Some(TimeAndMaterialsItem {
        description: format!("{what} ({})", names.join(", ")),
        estimated_hours: hours.to_string(),
        rate,
        estimated_cost: cost.to_string(),
        hours,
        cost,
    })
}

pub(super) type Priced<T> = (Vec<T>, Option<TimeAndMaterialsItem>, Decimal);

/// Step 3: one line per required object model, the T&M line, and the hours to schedule.
pub(super) fn data_integration(
    catalog: &Catalog,
    needs: &RequiredObjects,
    answers: &Answers,
    book: &PriceBook,
    p: &mut Problems,
) -> Priced<DataIntegrationItem> {
    let required = &needs.object_models;
    for model in answers.data_integration.keys() {
        if !required.contains(model) {
            let help = if catalog.object_model(model).is_ok() {
                Some(format!("the selected KPIs read: {}", required.iter().cloned().collect::<Vec<_>>().join(", ")))
            } else {
                did_you_mean(model, required.iter().map(String::as_str))
            };
            p.add_with_help(format!("data_integration.{model}"), format!("object model `{model}` is not read by the selected KPIs"), help);
        }
    }
    let mut items = Vec::new();
    let mut work = Tally::default();
    for model in required {
        let (path, answer) = match (answers.data_integration.get(model), &answers.default_integration) {
            (Some(a), _) => (format!("data_integration.{model}"), a),
            (None, Some(a)) => ("default_integration".to_string(), a),
            (None, None) => {
                p.add_with_help(
                    format!("data_integration.{model}"),
                    format!("no integration method for object model `{model}`"),
                    Some("answer it under `data_integration`, or give a `default_integration`".into()),
                );
                continue;
            }
        };
        let prices = &book.integration;
        let fixed = match answer.method {
            IntegrationMethod::BatchConformed => Some(&prices.batch_conformed),
            IntegrationMethod::BatchNonConformedSingle => Some(&prices.batch_non_conformed_single),
            IntegrationMethod::BatchNonConformedMulti => Some(&prices.batch_non_conformed_multi),
            IntegrationMethod::BatchEntityResolution => Some(&prices.batch_entity_resolution),
            IntegrationMethod::StreamingApiArchitected => Some(&prices.streaming_api_architected),
            IntegrationMethod::StreamingApiNonArchitected => None,
        };
        let fixed_price = format!("`{}` is fixed-price", answer.method.code());
        check_tm_hours(
            &format!("{path}.tm_hours"),
            fixed.is_some(),
            answer.tm_hours,
            &fixed_price,
            "choose streaming_api_non_architected",
            p,
        );
        let cost = work.cost(model, fixed, answer.tm_hours.unwrap_or(prices.streaming_api_non_architected.hours));
        items.push(DataIntegrationItem {
            object_model: model.clone(),
            object_model_name: catalog.object_model(model).map_or(model.clone(), |m| m.name.clone()),
            source_system: if answer.source_system.trim().is_empty() { "Not specified".into() } else { answer.source_system.clone() },
            integration_type: answer.method.label().into(),
            integration_method: answer.method.code().into(),
            cost,
            time_and_materials: fixed.is_none(),
        });
    }
    (items, tm_item(TM_INTEGRATION, &work.tm, book.rates.integration_architect), work.hours)
}

/// Step 4: one line per selected KPI, the T&M line, and the hours to schedule.
pub(super) fn kpi_implementation(
    catalog: &Catalog,
    selected: &[String],
    answers: &Answers,
    book: &PriceBook,
    p: &mut Problems,
    assumptions: &mut Vec<String>,
) -> Priced<KpiImplementationItem> {
    for code in answers.kpi_implementation.keys() {
        if !selected.contains(code) {
            p.add_with_help(
                format!("kpi_implementation.{code}"),
                format!("KPI `{code}` is not selected"),
                did_you_mean(code, selected.iter().map(String::as_str)),
            );
        }
    }
    let mut items = Vec::new();
    let mut work = Tally::default();
    let mut defaulted = 0;
    for code in selected {
        let Ok(kpi) = catalog.kpi(code) else { continue };
        let answer = answers.kpi_implementation.get(code).cloned().unwrap_or_default();
        defaulted += usize::from(answer.complexity.is_none());
        let complexity = answer.complexity.unwrap_or(kpi.complexity);
        let path = format!("kpi_implementation.{code}.tm_hours");
        let prices = &book.kpi_implementation;
        let fixed = match complexity {
            Complexity::Otb => Some(&prices.otb),
            Complexity::CustomBasic => Some(&prices.custom_basic),
            Complexity::Rbac => Some(&prices.rbac),
            Complexity::DynamicRbac => None,
        };
        let fixed_price = format!("a {} KPI is fixed-price", complexity_label(complexity));
        check_tm_hours(&path, fixed.is_some(), answer.tm_hours, &fixed_price, "set complexity: dynamic_rbac", p);
        let cost = work.cost(code, fixed, answer.tm_hours.unwrap_or(prices.dynamic_rbac.hours));
        items.push(KpiImplementationItem {
            kpi_code: code.clone(),
            kpi_name: kpi.name.clone(),
            complexity: complexity_label(complexity).into(),
            cost,
            time_and_materials: fixed.is_none(),
        });
    }
    if defaulted > 0 {
        assumptions.push(format!("{defaulted} KPI(s) without an answer are priced at their catalog complexity."));
    }
    (items, tm_item(TM_KPIS, &work.tm, book.rates.integration_architect), work.hours)
}

/// Step 5.
pub(super) fn environment_setup(
    answer: Option<&EnvironmentAnswer>,
    book: &PriceBook,
    p: &mut Problems,
    assumptions: &mut Vec<String>,
) -> Option<EnvironmentSetup> {
    let Some(answer) = answer else {
        p.add_with_help(
            "environment",
            "no environment is chosen",
            Some("answer platform: on_premises, azure, aws, gcp, oracle or none".into()),
        );
        return None;
    };
    let rate = book.rates.cloud_architect;
    if !answer.platform.needs_setup() {
        if answer.cloud_architect_hours.is_some_and(|h| !h.is_zero()) {
            p.add_with_help(
                "environment.cloud_architect_hours",
                "cloud architect hours are given, but the platform is `none` (no setup)",
                Some("remove the hours, or choose the platform to set up".into()),
            );
        }
        return Some(EnvironmentSetup {
            platform: answer.platform.label().into(),
            setup_required: false,
            cloud_architect_hours: Decimal::ZERO,
            rate,
            cost: Money::ZERO,
        });
    }
    let usual = book.environment.cloud_architect_hours;
    let hours = match answer.cloud_architect_hours {
        Some(h) if h <= Decimal::ZERO || h > Decimal::from(MAX_HOURS) => {
            p.add("environment.cloud_architect_hours", format!("{h} hours must be more than 0 and at most {MAX_HOURS}"));
            return None;
        }
        Some(h) => {
            if h < usual.min || h > usual.max {
                assumptions.push(format!("Environment setup is quoted at {h} cloud architect hours, outside the usual {usual} hours."));
            }
            h
        }
        None => {
            let h = book.environment.estimated_hours;
            assumptions.push(format!(
                "Environment setup is quoted at {h} cloud architect hours (usually {usual}); it is billed as time and materials."
            ));
            h
        }
    };
    Some(EnvironmentSetup {
        platform: answer.platform.label().into(),
        setup_required: true,
        cloud_architect_hours: hours,
        rate,
        cost: rate.times(hours),
    })
}
