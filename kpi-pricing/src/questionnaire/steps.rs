//! The content of the eight steps: questions, options and prices.

use kpi_catalog::Complexity;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{Choice, Question, QuestionKind, Repeat, Step, choice};
use crate::answers::{IntegrationMethod, Platform, Refresh, SupportBand, complexity_label};
use crate::money::{Money, Range};
use crate::price_book::{FixedWork, LicenseTerm, PriceBook};
use crate::retention::Compliance;

fn fixed_choice(value: &str, label: &str, work: &FixedWork) -> Choice {
    choice(json!(value), label).priced(work.charge, work.charge.to_string())
}

/// A decimal as a JSON number.
fn number(value: Decimal) -> Value {
    crate::money::decimal::serialize(&value, serde_json::value::Serializer).unwrap_or(Value::Null)
}

/// `{min, max}` hours as JSON.
fn hours_value(hours: Range<Decimal>) -> Value {
    json!({"min": number(hours.min), "max": number(hours.max)})
}

fn tm_text(rate: Money, hours: Range<Decimal>) -> String {
    format!("T&M at {rate}/hr ({hours} hours)")
}

/// The eight steps with the prices of `book`; `detected_chains` are the value chains the
/// selection needs.
pub(super) fn all(book: &PriceBook, detected_chains: &[String]) -> Vec<Step> {
    let step = |number: u8, id: &str, title: &str, description: &str, questions: Vec<Question>| Step {
        number,
        id: id.into(),
        title: title.into(),
        description: description.into(),
        questions,
    };
    vec![
        step(
            1,
            "kpi_selection",
            "KPI Selection",
            "The KPIs in the cart; the object models and value chains they need are detected from the catalog.",
            vec![
                Question::new("kpis", "Which KPIs are in scope?", QuestionKind::KpiSelection),
                Question::new("client_name", "Client name", QuestionKind::Text).optional(),
                Question::new("proposal_date", "Proposal date", QuestionKind::Date)
                    .optional()
                    .help("today when left out; the proposal is valid for 30 days"),
            ],
        ),
        step(
            2,
            "licensing",
            "Licensing",
            "Licences are priced per value chain and year; longer terms cost less a year.",
            licensing(book, detected_chains),
        ),
        step(3, "data_integration", "Data Source Integration", "How each required object model's data is brought in.", integration(book)),
        step(4, "kpi_implementation", "KPI Implementation Complexity", "How much work each selected KPI takes.", kpi_implementation(book)),
        step(5, "environment", "Environment Setup", "Where the Analytics Engine runs.", environment(book)),
        step(
            6,
            "retention",
            "Data Retention Policies",
            "How long staged source data and analytics data are kept, and at which levels of detail.",
            retention(),
        ),
        step(
            7,
            "infrastructure",
            "Infrastructure Estimation",
            "Volumes and load, from which compute, storage and network are estimated.",
            infrastructure(book),
        ),
        step(8, "managed_services", "Managed Services", "Support after go-live.", managed_services(book)),
    ]
}

fn licensing(book: &PriceBook, detected: &[String]) -> Vec<Question> {
    let l = &book.licensing;
    let terms = LicenseTerm::ALL
        .into_iter()
        .map(|term| {
            let price = l.annual_per_value_chain(term);
            let saving = l.saving_percent(term);
            let years = term.years();
            let text = if saving.is_zero() {
                format!("{price}/year per value chain")
            } else {
                format!("{price}/year per value chain (save {saving}%)")
            };
            choice(json!(years), format!("{years} year{}", if years == 1 { "" } else { "s" })).priced(price, text)
        })
        .collect();
    vec![
        Question::new("value_chains", "Which value chains do you need?", QuestionKind::MultipleChoice)
            .optional()
            .default(json!(detected))
            .help("the value chains of the selected KPIs are always licensed; add others here"),
        Question::new("license_term", "What license term would you prefer?", QuestionKind::SingleChoice).options(terms),
    ]
}

fn integration(book: &PriceBook) -> Vec<Question> {
    let i = &book.integration;
    let rate = book.rates.integration_architect;
    let options = IntegrationMethod::ALL
        .into_iter()
        .map(|m| {
            let (work, description) = match m {
                IntegrationMethod::BatchConformed => {
                    (Some(&i.batch_conformed), "Data already matches the object model; minimal transformation.")
                }
                IntegrationMethod::BatchNonConformedSingle => (Some(&i.batch_non_conformed_single), "Transformed from one source system."),
                IntegrationMethod::BatchNonConformedMulti => {
                    (Some(&i.batch_non_conformed_multi), "Merged and transformed from several source systems.")
                }
                IntegrationMethod::BatchEntityResolution => {
                    (Some(&i.batch_entity_resolution), "Deduplication and entity matching across sources.")
                }
                IntegrationMethod::StreamingApiArchitected => {
                    (Some(&i.streaming_api_architected), "A documented REST/GraphQL API with a clear schema.")
                }
                IntegrationMethod::StreamingApiNonArchitected => (None, "A legacy API that needs reverse engineering."),
            };
            let c = match work {
                Some(w) => fixed_choice(m.code(), m.label(), w),
                None => choice(json!(m.code()), m.label()).price_text(tm_text(rate, i.streaming_api_non_architected.hours)),
            };
            c.described(description)
        })
        .collect();
    let tm = i.streaming_api_non_architected.hours;
    vec![
        Question::new("data_integration.{objectModel}.source_system", "Source system", QuestionKind::Text)
            .optional()
            .repeat(Repeat::ObjectModel)
            .help("e.g. Salesforce CRM, SAP ERP"),
        Question::new("data_integration.{objectModel}.method", "Integration method", QuestionKind::SingleChoice)
            .options(options)
            .repeat(Repeat::ObjectModel)
            .help("`default_integration` answers every object model not answered one by one"),
        Question::new("data_integration.{objectModel}.tm_hours", "Estimated hours", QuestionKind::HoursRange)
            .optional()
            .repeat(Repeat::ObjectModel)
            .show_if("data_integration.{objectModel}.method", vec![json!(IntegrationMethod::StreamingApiNonArchitected.code())])
            .default(hours_value(tm))
            .range(Some(Decimal::ZERO), Some(crate::answers::MAX_HOURS.into()), "hours"),
    ]
}

fn kpi_implementation(book: &PriceBook) -> Vec<Question> {
    let k = &book.kpi_implementation;
    let rate = book.rates.integration_architect;
    let options = [
        (Complexity::Otb, Some(&k.otb), "Standard KPI from the catalog, no customisation."),
        (Complexity::CustomBasic, Some(&k.custom_basic), "A simple formula change or custom calculation."),
        (Complexity::Rbac, Some(&k.rbac), "Role-based data filtering, e.g. managers see their team."),
        (Complexity::DynamicRbac, None, "Hierarchical access, e.g. commissions with inheritance."),
    ]
    .into_iter()
    .map(|(c, work, description)| {
        let option = match work {
            Some(w) => fixed_choice(c.as_str(), complexity_label(c), w),
            None => choice(json!(c.as_str()), complexity_label(c)).price_text(tm_text(rate, k.dynamic_rbac.hours)),
        };
        option.described(description)
    })
    .collect();
    vec![
        Question::new("kpi_implementation.{kpi}.complexity", "Complexity", QuestionKind::SingleChoice)
            .options(options)
            .optional()
            .repeat(Repeat::Kpi)
            .help("the KPI's catalog complexity when left out"),
        Question::new("kpi_implementation.{kpi}.tm_hours", "Estimated hours", QuestionKind::HoursRange)
            .optional()
            .repeat(Repeat::Kpi)
            .show_if("kpi_implementation.{kpi}.complexity", vec![json!(Complexity::DynamicRbac.as_str())])
            .default(hours_value(k.dynamic_rbac.hours)),
    ]
}

fn environment(book: &PriceBook) -> Vec<Question> {
    let rate = book.rates.cloud_architect;
    let usual = book.environment.cloud_architect_hours;
    let options = Platform::ALL
        .into_iter()
        .map(|p| {
            if p.needs_setup() {
                choice(json!(p.code()), p.label()).price_text(format!("T&M - Cloud Architect at {rate}/hr ({usual} hours)"))
            } else {
                choice(json!(p.code()), "No Setup - We have an existing environment").priced(Money::ZERO, "$0")
            }
        })
        .collect();
    let setups: Vec<Value> = Platform::ALL.into_iter().filter(|p| p.needs_setup()).map(|p| json!(p.code())).collect();
    vec![
        Question::new("environment.platform", "Where will the Analytics Engine run?", QuestionKind::SingleChoice).options(options),
        Question::new("environment.cloud_architect_hours", "Estimated cloud architect hours", QuestionKind::Number)
            .optional()
            .show_if("environment.platform", setups)
            .default(number(book.environment.estimated_hours))
            .range(Some(usual.min), Some(usual.max), "hours"),
    ]
}

fn retention() -> Vec<Question> {
    let days = |d: u32, label: &str| choice(json!(d), label);
    let archive = |period: Option<u32>, label: &str| match period {
        Some(p) => choice(json!({"archival_period": p, "archival_unit": "years"}), label),
        None => choice(json!({"archival_unit": "indefinite"}), label),
    };
    let mut questions = Vec::new();
    for (kind, what, actives, archives) in [
        (
            "staged_source_data",
            "raw source data",
            vec![
                days(30, "30 days").described("Real-time analytics only."),
                days(90, "90 days").described("Standard for most use cases.").recommended(),
                days(180, "180 days (6 months)"),
                days(365, "365 days (1 year)"),
            ],
            vec![
                archive(Some(1), "1 year").recommended(),
                archive(Some(3), "3 years"),
                archive(Some(5), "5 years").described("Common for compliance."),
                archive(Some(7), "7 years").described("Financial/SOX compliance."),
                archive(Some(10), "10 years"),
                archive(None, "Indefinitely"),
            ],
        ),
        (
            "analytics_data",
            "calculated analytics data",
            vec![
                days(90, "90 days").described("3 months of historical trends."),
                days(180, "180 days (6 months)"),
                days(365, "365 days (1 year)").recommended(),
                days(730, "730 days (2 years)"),
            ],
            vec![
                archive(Some(3), "3 years"),
                archive(Some(5), "5 years").recommended(),
                archive(Some(7), "7 years"),
                archive(Some(10), "10 years"),
                archive(None, "Indefinitely"),
            ],
        ),
    ] {
        let base = format!("retention.{kind}");
        let mut active = Question::new(
            &format!("{base}.retention_period"),
            &format!("How long do you need to retain {what} in the active database?"),
            QuestionKind::SingleChoice,
        )
        .options(actives)
        .optional()
        .range(Some(Decimal::ONE), None, "days")
        .help("in days; a custom answer is any number of days");
        active.allow_custom = true;
        questions.push(active);
        questions.push(
            Question::new(
                &format!("{base}.archival_enabled"),
                &format!("Do you want to archive {what} after this period?"),
                QuestionKind::YesNo,
            )
            .optional()
            .help("yes archives to cold storage; no deletes permanently"),
        );
        questions.push(
            Question::new(&format!("{base}.archival"), "How long should archived data be retained?", QuestionKind::SingleChoice)
                .options(archives)
                .optional()
                .show_if(&format!("{base}.archival_enabled"), vec![json!(true)]),
        );
    }
    let level = |field: &str, label: &str| choice(json!(field), label);
    questions.push(
        Question::new("retention.granularity", "Which levels of data granularity do you need to retain?", QuestionKind::Flags)
            .options(vec![
                level("raw_data", "Raw data points").described("Highest detail, largest storage."),
                level("minute_aggregates", "Minute-level aggregates"),
                level("hourly_aggregates", "Hourly aggregates").described("Recommended minimum.").recommended(),
                level("daily_aggregates", "Daily aggregates").recommended(),
                level("monthly_aggregates", "Monthly aggregates").recommended(),
            ])
            .optional()
            .help("lower granularity means less storage cost but less detail"),
    );
    questions.push(
        Question::new("retention.compliance", "Do you have specific compliance or regulatory requirements?", QuestionKind::MultipleChoice)
            .options(
                Compliance::ALL
                    .into_iter()
                    .map(|c| {
                        let text = match c {
                            Compliance::Gdpr => "EU data protection: no unlimited retention of personal source data.",
                            Compliance::Sox => "Financial reporting: 7 years.",
                            Compliance::Hipaa => "Healthcare: 6 years.",
                            Compliance::Iso27001 => "Information security: a year of source-data audit trail.",
                        };
                        choice(json!(c.code()), c.label()).described(text)
                    })
                    .collect(),
            )
            .optional()
            .help("retention periods are raised to meet them, and the proposal lists each change"),
    );
    questions.push(Question::new("retention.industry_specific", "Industry-specific requirement", QuestionKind::Text).optional());
    questions
}

const INSTANCES: &str = "infrastructure.instances";

fn infrastructure(book: &PriceBook) -> Vec<Question> {
    let refresh = [Refresh::Minute, Refresh::Hour, Refresh::Day]
        .into_iter()
        .map(|r| choice(json!(r.code()), format!("{}{}", r.code()[..1].to_uppercase(), &r.code()[1..])))
        .collect();
    let instance_types =
        book.instances.iter().map(|(name, price)| choice(json!(name), name.clone()).priced(*price, format!("{price}/month"))).collect();
    vec![
        Question::new("infrastructure.daily_gb", "Daily data ingestion", QuestionKind::Number)
            .range(Some(Decimal::ZERO), None, "GB/day")
            .exclusive_with(&[INSTANCES]),
        Question::new("infrastructure.concurrent_users", "Number of concurrent users", QuestionKind::Number)
            .range(Some(Decimal::ZERO), None, "users")
            .exclusive_with(&[INSTANCES]),
        Question::new("infrastructure.refresh", "Refresh period", QuestionKind::SingleChoice).options(refresh).exclusive_with(&[INSTANCES]),
        Question::new("infrastructure.queries_per_hour", "Expected on-demand queries per hour", QuestionKind::Number)
            .optional()
            .exclusive_with(&[INSTANCES])
            .range(Some(Decimal::ZERO), None, "queries/hour")
            .help("one per concurrent user and refresh when left out; the number of KPIs comes from the selection"),
        Question::new(INSTANCES, "Or: explicit instances and volumes", QuestionKind::Instances)
            .options(instance_types)
            .optional()
            .exclusive_with(&["infrastructure.daily_gb", "infrastructure.concurrent_users", "infrastructure.refresh", "infrastructure.queries_per_hour"])
            .help("api_gateway, business_services, backend_services ({instance_type, count}), redis, active_storage_gb, archive_storage_gb, network_gb_per_month; replaces the estimate"),
    ]
}

fn managed_services(book: &PriceBook) -> Vec<Question> {
    let m = &book.managed_services;
    let bands = SupportBand::ALL
        .into_iter()
        .map(|b| {
            let billed = b.billed_hours();
            let text = if billed.max.is_zero() {
                "covered by retainer".to_string()
            } else {
                format!("retainer + {}", Range { min: m.hourly_rate.times(billed.min), max: m.hourly_rate.times(billed.max) })
            };
            choice(json!(b.code()), format!("{} hours", b.code())).price_text(text)
        })
        .collect();
    vec![
        Question::new("managed_services.retainer", "Would you like managed services support?", QuestionKind::YesNo).options(vec![
            choice(json!(true), "Yes, include the annual retainer").priced(
                m.retainer,
                format!("{}/year ({} hours at {}/hr)", m.retainer, crate::money::quantity(m.retainer_hours), m.hourly_rate),
            ),
            choice(json!(false), "No, we'll handle support internally").priced(Money::ZERO, "$0"),
        ]),
        Question::new("managed_services.additional_hours_band", "Estimated additional hours needed per year?", QuestionKind::SingleChoice)
            .options(bands)
            .optional()
            .show_if("managed_services.retainer", vec![json!(true)])
            .help("a band is quoted at its upper end; or give a custom estimate"),
        Question::new("managed_services.additional_hours", "Custom estimate of additional hours", QuestionKind::Number)
            .optional()
            .show_if("managed_services.retainer", vec![json!(true)])
            .exclusive_with(&["managed_services.additional_hours_band"])
            .range(Some(Decimal::ZERO), Some(crate::answers::MAX_HOURS.into()), "hours/year")
            .help(format!("billed at {}/hr", m.hourly_rate)),
    ]
}
