//! The questionnaire as data: its steps and prices, and that answering it as its documentation
//! says gives answers that price.

use kpi_catalog::Catalog;
use kpi_pricing::{Answers, PriceBook, Question, QuestionKind, questionnaire, questionnaire_for};
use serde_json::{Map, Value, json};

#[test]
fn eight_steps_with_the_specification_prices() {
    let q = questionnaire(&PriceBook::default());
    let ids: Vec<&str> = q.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "kpi_selection",
            "licensing",
            "data_integration",
            "kpi_implementation",
            "environment",
            "retention",
            "infrastructure",
            "managed_services"
        ]
    );
    let v = serde_json::to_value(&q).unwrap();
    let texts: Vec<String> = v["steps"][2]["questions"][1]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| format!("{}: {}", o["label"].as_str().unwrap(), o["priceText"].as_str().unwrap()))
        .collect();
    assert_eq!(
        texts,
        [
            "Batch - Conformed/Cleansed: $1,500",
            "Batch - Non-Conformed Single Source: $2,500",
            "Batch - Non-Conformed Multi Source: $3,500",
            "Batch - Entity Resolution: $3,500",
            "Streaming - API/Architected: $2,500",
            "Streaming - API/Non-Architected: T&M at $175/hr (40-60 hours)",
        ]
    );
    let bands: Vec<&str> =
        v["steps"][7]["questions"][1]["options"].as_array().unwrap().iter().map(|o| o["priceText"].as_str().unwrap()).collect();
    assert_eq!(bands, ["covered by retainer", "retainer + $3,750-7,500", "retainer + $7,500-15,000"]);
    assert_eq!(v["steps"][7]["questions"][0]["options"][0]["priceText"], "$5,000/year (66.67 hours at $75/hr)");
    let follow_up = &v["steps"][2]["questions"][2];
    assert_eq!(
        follow_up["showIf"],
        json!({"question": "data_integration.{objectModel}.method", "equals": ["streaming_api_non_architected"]})
    );
}

#[test]
fn prices_come_from_the_book() {
    let book =
        PriceBook::from_yaml("licensing: { one_year: 40000 }\nintegration: { batch_conformed: { hours: 15, charge: 1750 } }").unwrap();
    let v = serde_json::to_value(questionnaire(&book)).unwrap();
    assert_eq!(v["steps"][1]["questions"][1]["options"][0]["priceText"], "$40,000/year per value chain");
    assert_eq!(v["steps"][1]["questions"][1]["options"][1]["priceText"], "$32,500/year per value chain (save 18%)");
    assert_eq!(v["steps"][2]["questions"][1]["options"][0]["price"], 1750);
}

#[test]
fn a_selection_fills_the_repeated_questions() {
    let q = questionnaire_for(&Catalog::standard(), &crate::SPEC_KPIS, &PriceBook::default()).unwrap();
    let s = q.selection.as_ref().unwrap();
    let models: Vec<&str> = s.object_models.iter().map(|m| m.code.as_str()).collect();
    assert_eq!(models, ["customers", "orders"]);
    assert_eq!(s.kpis.len(), 3);
    let chains: Vec<&str> = s.value_chains.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(chains, ["crm", "scor"]);
    let options = &q.steps[1].questions[0].options;
    let recommended: Vec<&Value> = options.iter().filter(|o| o.recommended).map(|o| &o.value).collect();
    assert_eq!(recommended, [&json!("scor"), &json!("crm")]);
    assert!(!options.iter().any(|o| o.value == json!("cross_domain")));
    assert!(questionnaire_for(&Catalog::standard(), &["nope"], &PriceBook::default()).is_err());
}

/// Sets `value` at the dotted `path` of `root`, creating objects on the way; a chosen object
/// (`choice`) is set next to the last segment instead.
fn set(root: &mut Value, path: &str, value: Value, choice: bool) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap();
    let mut at = root;
    for p in parts {
        at = at.as_object_mut().unwrap().entry(p).or_insert_with(|| Value::Object(Map::new()));
    }
    match value {
        Value::Object(fields) if choice => {
            for (k, v) in fields {
                at.as_object_mut().unwrap().insert(k, v);
            }
        }
        v => {
            at.as_object_mut().unwrap().insert(last.to_string(), v);
        }
    }
}

fn get<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(root, |at, p| at.get(p))
}

/// The answer a user who takes the recommended (else first) option or the default gives.
fn typical_answer(q: &Question) -> Option<Value> {
    let pick = q.options.iter().find(|o| o.recommended).or(q.options.first()).map(|o| o.value.clone());
    match q.kind {
        QuestionKind::SingleChoice => pick,
        QuestionKind::MultipleChoice => Some(json!(q.options.iter().take(1).map(|o| o.value.clone()).collect::<Vec<_>>())),
        QuestionKind::Flags => Some(Value::Object(
            q.options.iter().filter(|o| o.recommended).map(|o| (o.value.as_str().unwrap().to_string(), json!(true))).collect(),
        )),
        QuestionKind::YesNo => Some(pick.unwrap_or(json!(true))),
        QuestionKind::Number => q.default.clone().or_else(|| q.min.map(|m| json!(m.to_string().parse::<i64>().unwrap() + 10))),
        QuestionKind::Text => Some(json!("Some system")),
        QuestionKind::Date => Some(json!("2026-11-22")),
        QuestionKind::HoursRange => q.default.clone(),
        QuestionKind::KpiSelection | QuestionKind::Instances => None,
    }
}

#[test]
fn answering_every_question_as_documented_prices() {
    let catalog = Catalog::standard();
    let q = questionnaire_for(&catalog, &crate::SPEC_KPIS, &PriceBook::default()).unwrap();
    let s = q.selection.as_ref().unwrap();
    let mut answers = json!({});
    let mut answered = Vec::new();
    for question in q.steps.iter().flat_map(|s| &s.questions) {
        let items: Vec<String> = match question.repeat {
            None => vec![String::new()],
            Some(kpi_pricing::Repeat::ObjectModel) => s.object_models.iter().map(|m| m.code.clone()).collect(),
            Some(kpi_pricing::Repeat::Kpi) => s.kpis.iter().map(|k| k.code.clone()).collect(),
        };
        for item in items {
            let fill = |id: &str| id.replace("{objectModel}", &item).replace("{kpi}", &item);
            let shown = question.show_if.as_ref().is_none_or(|c| get(&answers, &fill(&c.question)).is_some_and(|v| c.equals.contains(v)));
            let excluded = question.exclusive_with.iter().any(|id| answered.contains(id));
            if !shown || excluded {
                continue;
            }
            if let Some(value) = typical_answer(question) {
                set(&mut answers, &fill(&question.id), value, question.kind == QuestionKind::SingleChoice);
                answered.push(question.id.clone());
            }
        }
    }
    let answers: Answers = serde_json::from_value(answers.clone()).unwrap_or_else(|e| panic!("{e}: {answers:#}"));
    let p = kpi_pricing::price(&catalog, &crate::SPEC_KPIS, &answers, &PriceBook::default()).unwrap();
    assert_eq!(p.licensing.license_term.years(), 1);
    assert_eq!(p.implementation.environment_setup.cloud_architect_hours, 60.into());
    assert_eq!(p.retention.staged_source_data.description, "90 days active, archived 1 year");
    assert_eq!(p.retention.granularity, ["hourly", "daily", "monthly"]);
}
