//! The proposal questionnaire as data, for a UI to render: the specification's eight steps
//! with their questions, options, prices (from the price book) and conditional follow-ups.

mod steps;

use kpi_catalog::{Catalog, Complexity};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Value, json};

use crate::error::PricingError;
use crate::money::Money;
use crate::price_book::PriceBook;

/// The questionnaire. Each question's `id` is the path of its answer in [`crate::Answers`]
/// (`{objectModel}` and `{kpi}` stand for each repeated item). A choice's `value` is written at
/// that path, except that an object value's fields are set next to it, in the object holding
/// the path's last segment (`{archival_period: 5, archival_unit: years}` for
/// `retention.staged_source_data.archival`). A `multipleChoice` answer is the list of chosen
/// values; a `flags` answer is an object with each chosen value set to `true`. A question is
/// answered only when its `showIf` holds and none of its `exclusiveWith` questions is answered.
///
/// ```
/// let q = kpi_pricing::questionnaire(&kpi_pricing::PriceBook::default());
/// assert_eq!(q.steps.len(), 8);
/// let term = &q.steps[1].questions[1];
/// assert_eq!(term.id, "license_term");
/// assert_eq!(term.options[1].price_text.as_deref(), Some("$32,500/year per value chain (save 7%)"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Questionnaire {
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// For [`questionnaire_for`]: what the selected KPIs need.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection: Option<Selection>,
}

/// One step.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// 1 to 8.
    pub number: u8,
    /// A stable identifier, e.g. `licensing`.
    pub id: String,
    /// The heading.
    pub title: String,
    /// What the step decides.
    pub description: String,
    /// Its questions.
    pub questions: Vec<Question>,
}

/// How a question is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum QuestionKind {
    /// One option.
    SingleChoice,
    /// A list of options.
    MultipleChoice,
    /// Options set to `true` in an object.
    Flags,
    /// Yes or no.
    YesNo,
    /// A number (see `min`, `max`, `unit`).
    Number,
    /// Free text.
    Text,
    /// A date, `YYYY-MM-DD`.
    Date,
    /// `{min, max}` hours.
    HoursRange,
    /// KPI codes from the catalog.
    KpiSelection,
    /// Explicit instances and volumes (an `InfrastructureSpec`); the options are the priced
    /// instance types.
    Instances,
}

/// What a question repeats over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Repeat {
    /// Each object model the selected KPIs read.
    ObjectModel,
    /// Each selected KPI.
    Kpi,
}

/// Shown only when the answer to `question` is one of `equals`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// The id of the question it depends on.
    pub question: String,
    /// The answers that show it.
    pub equals: Vec<Value>,
}

/// An option of a choice.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    /// What the answer holds when it is chosen.
    pub value: Value,
    /// The label.
    pub label: String,
    /// Its price, when it has a fixed one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    /// The price as the questionnaire shows it, e.g. `T&M at $175/hr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_text: Option<String>,
    /// What it means.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether it is the recommended choice.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub recommended: bool,
}

/// One question.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Question {
    /// The path of its answer.
    pub id: String,
    /// The question.
    pub prompt: String,
    /// How it is answered.
    pub kind: QuestionKind,
    /// The options of a choice.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    /// Whether a choice also accepts a custom number.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_custom: bool,
    /// Whether pricing needs it (unless one of its `exclusiveWith` questions is answered).
    pub required: bool,
    /// What it repeats over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat: Option<Repeat>,
    /// When it is shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_if: Option<Condition>,
    /// Questions answered instead of this one (either this or those).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exclusive_with: Vec<String>,
    /// The answer assumed when it is left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// Smallest number.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::money::decimal::option")]
    pub min: Option<Decimal>,
    /// Largest number.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::money::decimal::option")]
    pub max: Option<Decimal>,
    /// The unit of a number, e.g. `GB/day`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// A hint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Question {
    fn new(id: &str, prompt: &str, kind: QuestionKind) -> Question {
        Question {
            id: id.into(),
            prompt: prompt.into(),
            kind,
            options: Vec::new(),
            allow_custom: false,
            required: true,
            repeat: None,
            show_if: None,
            exclusive_with: Vec::new(),
            default: None,
            min: None,
            max: None,
            unit: None,
            help: None,
        }
    }

    fn options(mut self, options: Vec<Choice>) -> Question {
        self.options = options;
        self
    }

    fn optional(mut self) -> Question {
        self.required = false;
        self
    }

    fn repeat(mut self, repeat: Repeat) -> Question {
        self.repeat = Some(repeat);
        self
    }

    fn show_if(mut self, question: &str, equals: Vec<Value>) -> Question {
        self.show_if = Some(Condition { question: question.into(), equals });
        self
    }

    fn exclusive_with(mut self, ids: &[&str]) -> Question {
        self.exclusive_with = ids.iter().map(|id| id.to_string()).collect();
        self
    }

    fn default(mut self, value: Value) -> Question {
        self.default = Some(value);
        self
    }

    fn range(mut self, min: Option<Decimal>, max: Option<Decimal>, unit: &str) -> Question {
        self.min = min;
        self.max = max;
        self.unit = Some(unit.into());
        self
    }

    fn help(mut self, help: impl Into<String>) -> Question {
        self.help = Some(help.into());
        self
    }
}

fn choice(value: Value, label: impl Into<String>) -> Choice {
    Choice { value, label: label.into(), price: None, price_text: None, description: None, recommended: false }
}

impl Choice {
    fn priced(mut self, price: Money, text: impl Into<String>) -> Choice {
        self.price = Some(price);
        self.price_text = Some(text.into());
        self
    }

    fn price_text(mut self, text: impl Into<String>) -> Choice {
        self.price_text = Some(text.into());
        self
    }

    fn described(mut self, text: &str) -> Choice {
        self.description = Some(text.into());
        self
    }

    fn recommended(mut self) -> Choice {
        self.recommended = true;
        self
    }
}

/// What the selected KPIs need, for a UI to fill the repeated questions.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Selection {
    /// The selected KPIs with their catalog complexity.
    pub kpis: Vec<SelectedKpi>,
    /// The object models they read: `(code, name)`.
    pub object_models: Vec<NamedItem>,
    /// The value chains they need licensed.
    pub value_chains: Vec<NamedItem>,
}

/// A selected KPI.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectedKpi {
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its catalog complexity (the answer assumed when step 4 leaves it out).
    pub complexity: Complexity,
}

/// A code with its display name.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NamedItem {
    /// The code.
    pub code: String,
    /// The display name.
    pub name: String,
}

/// The questionnaire with the prices of `book`.
pub fn questionnaire(book: &PriceBook) -> Questionnaire {
    Questionnaire { steps: steps::all(book, &[]), selection: None }
}

/// The questionnaire for a selection of KPIs: value chains the KPIs need are marked
/// recommended and `selection` lists the KPIs and object models the repeated questions cover.
pub fn questionnaire_for<S: AsRef<str>>(catalog: &Catalog, kpis: &[S], book: &PriceBook) -> Result<Questionnaire, PricingError> {
    let needs = catalog.required_objects(kpis)?;
    let chains: Vec<String> = needs.value_chains.iter().filter(|c| !book.licensing.included_value_chains.contains(c)).cloned().collect();
    let mut steps = steps::all(book, &chains);
    let all_chains = catalog.value_chains().filter(|v| !book.licensing.included_value_chains.contains(&v.code));
    steps[1].questions[0].options = all_chains
        .map(|v| {
            let c = choice(json!(v.code), v.name.clone()).described(&v.description);
            if chains.contains(&v.code) { c.recommended() } else { c }
        })
        .collect();
    let named = |code: &String, name: String| NamedItem { code: code.clone(), name };
    let mut selected = Vec::new();
    for code in kpis {
        let kpi = catalog.kpi(code.as_ref())?;
        if !selected.iter().any(|k: &SelectedKpi| k.code == kpi.code) {
            selected.push(SelectedKpi { code: kpi.code.clone(), name: kpi.name.clone(), complexity: kpi.complexity });
        }
    }
    let selection = Selection {
        kpis: selected,
        object_models: needs
            .object_models
            .iter()
            .map(|m| named(m, catalog.object_model(m).map_or(m.clone(), |o| o.name.clone())))
            .collect(),
        value_chains: chains.iter().map(|c| named(c, catalog.value_chain(c).map_or(c.clone(), |v| v.name.clone()))).collect(),
    };
    Ok(Questionnaire { steps, selection: Some(selection) })
}
