//! dbt's semantic layer (MetricFlow) as a catalog: semantic models become object models
//! (entities keys and many-to-one relationships, dimensions and measure columns), measures the
//! aggregates of formulas, and metrics KPIs: simple, ratio, derived (with `offset_to_grain` and
//! `offset_window`),
//! cumulative (windows, grain-to-date, all-time) and filters written with `Dimension(...)`,
//! `TimeDimension(...)` and `Entity(...)`. What cannot be imported exactly is listed in
//! [`DbtImport::skipped`] with the reason and its location, never approximated.
//!
//! dbt does not declare column types: keys are `int64`, categorical dimensions `string`, time
//! dimensions `timestamp`, measure columns `float64` (`bool` for `sum_boolean`), unless an
//! element says otherwise with `meta: {type: <type>}` (or `config: {meta: ...}`).

mod expr;
mod filter;
mod shapes;

use std::collections::BTreeMap;
use std::path::Path;

use crate::column_type::ColumnType;
use crate::document::{Format, parse, read};
use crate::source::{Location, Origin};
use crate::{Catalog, CatalogError, ColumnDef, KeyPair, KeyPairs, KpiDefinition, ObjectModel, RelationshipDef};

use expr::{grain_name, is_identifier, qualify, span_text, substitute};
use shapes::{ConversionParams, DbtFile, Input, InputFields, Metric, SemanticModel, meta_type};

/// The most files a project directory may hold.
const MAX_FILES: usize = 10_000;

/// A catalog imported from dbt, and what could not be imported.
#[derive(Debug)]
pub struct DbtImport {
    /// The object models and KPIs imported; validated.
    pub catalog: Catalog,
    /// Elements left out, with why and where.
    pub skipped: Vec<Skipped>,
}

/// An element of a dbt project that was not imported.
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    /// What it is, e.g. `metric conversion_rate` or `dimension orders.is_large`.
    pub what: String,
    /// Why, and what would work.
    pub reason: String,
    /// Where it is defined.
    pub location: Location,
}

impl Skipped {
    /// `{what, reason, location, file, line, column}`, as the bindings and tools list it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "what": self.what, "reason": self.reason, "location": self.location.to_string(),
            "file": self.location.file, "line": self.location.line, "column": self.location.column,
        })
    }
}

/// Imports a dbt project: a directory (its `.yml`/`.yaml` files, `target/` and packages
/// excepted), one YAML file, or the `semantic_manifest.json` dbt writes.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("kpi-dbt-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("orders.yml"), r#"
/// semantic_models:
///   - name: orders
///     defaults: { agg_time_dimension: ordered_at }
///     entities: [{ name: order, type: primary, expr: order_id }]
///     dimensions: [{ name: ordered_at, type: time }, { name: status, type: categorical }]
///     measures: [{ name: order_total, agg: sum, expr: amount }]
/// metrics:
///   - name: revenue
///     type: simple
///     type_params: { measure: order_total }
///     filter: "{{ Dimension('order__status') }} = 'completed'"
/// "#)?;
/// let imported = kpi_catalog::import::import_dbt(&dir)?;
/// assert_eq!(imported.catalog.kpi("revenue")?.formula, "sum(orders.amount where orders.status = 'completed')");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn import_dbt(path: impl AsRef<Path>) -> Result<DbtImport, CatalogError> {
    let path = path.as_ref();
    let files = if path.is_dir() { project_files(path)? } else { vec![path.to_path_buf()] };
    let mut sources = Vec::new();
    for file in files {
        sources.push((file.display().to_string(), read(&file)?));
    }
    import_dbt_sources(&sources)
}

/// [`import_dbt`] over texts already read: `(name, text)` pairs, JSON when the name ends in
/// `.json`, YAML otherwise.
pub fn import_dbt_sources(sources: &[(String, String)]) -> Result<DbtImport, CatalogError> {
    let mut project = Project::default();
    for (name, text) in sources {
        let format = if name.ends_with(".json") { Format::Json } else { Format::Yaml };
        let parsed = parse::<DbtFile>(text, format, Some(name))?;
        let DbtFile { semantic_models, metrics } = parsed.value;
        for (i, m) in semantic_models.into_iter().enumerate() {
            project.models.push((m, parsed_origin(&parsed.file, "semantic_models", i)));
        }
        for (i, m) in metrics.into_iter().enumerate() {
            project.metrics.push((m, parsed_origin(&parsed.file, "metrics", i)));
        }
    }
    project.import()
}

fn parsed_origin(file: &std::sync::Arc<crate::source::SourceFile>, list: &str, index: usize) -> Origin {
    let node = file.root.as_ref().and_then(|r| r.get(list)).and_then(|n| n.items().get(index)).cloned();
    Origin::new(file, format!("{list}[{index}]"), node)
}

/// The YAML files of a project directory, in a stable order.
fn project_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, CatalogError> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = std::fs::read_dir(&d).map_err(|source| CatalogError::Io { path: d.clone(), source })?;
        for entry in entries.flatten() {
            let p = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if p.is_dir() {
                if !matches!(name.as_str(), "target" | "dbt_packages" | "dbt_modules" | "logs" | "node_modules") && !name.starts_with('.') {
                    pending.push(p);
                }
            } else if name.ends_with(".yml") || name.ends_with(".yaml") {
                out.push(p);
            }
            if out.len() > MAX_FILES {
                return Err(CatalogError::Import {
                    what: format!("dbt project {}", dir.display()),
                    message: format!("more than {MAX_FILES} YAML files"),
                });
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A semantic model as the importer resolved it.
pub(super) struct Model {
    name: String,
    time_column: Option<String>,
    primary: Option<String>,
    primary_column: Option<String>,
    /// Foreign entities: (entity, key column).
    foreign: Vec<(String, String)>,
    /// Dimensions: (name, column).
    dimensions: Vec<(String, String)>,
}

impl Model {
    /// The key column of one of the model's entities.
    fn entity_column(&self, entity: &str) -> Option<String> {
        if self.primary.as_deref() == Some(entity) {
            self.primary_column.clone()
        } else {
            self.foreign.iter().find(|(e, _)| e == entity).map(|(_, c)| c.clone())
        }
    }

    /// The column of one of the model's entities or dimensions.
    fn property_column(&self, name: &str) -> Option<String> {
        self.entity_column(name).or_else(|| self.dimensions.iter().find(|(d, c)| d == name && is_identifier(c)).map(|(_, c)| c.clone()))
    }
}

/// A measure as a formula aggregate over its object model.
struct Measure {
    model: usize,
    /// `sum(orders.amount)` with a `{where}` slot for filters, e.g. `sum(orders.amount{where})`.
    template: String,
    /// The measure's own condition (`sum_boolean`), and-ed with filters.
    condition: Option<String>,
}

#[derive(Default)]
struct Project {
    models: Vec<(SemanticModel, Origin)>,
    metrics: Vec<(Metric, Origin)>,
    resolved: Vec<Model>,
    measures: BTreeMap<String, Measure>,
    /// The semantic model each metric reads (simple metrics, and ratio and derived metrics
    /// whose inputs all read one), for `Metric(...)` in filters.
    metric_models: BTreeMap<String, usize>,
    skipped: Vec<Skipped>,
}

impl Project {
    fn skip(&mut self, what: String, reason: impl Into<String>, origin: &Origin, fields: &[&str]) {
        self.skipped.push(Skipped { what, reason: reason.into(), location: origin.locate(fields) });
    }

    fn import(mut self) -> Result<DbtImport, CatalogError> {
        let mut catalog = Catalog::new();
        let models = std::mem::take(&mut self.models);
        let objects: Vec<ObjectModel> = models.iter().enumerate().map(|(i, (m, origin))| self.object_model(i, m, origin)).collect();
        // Relationships once every model's primary entity is known.
        for (mut object, i) in objects.into_iter().zip(0..) {
            let own = &self.resolved[i];
            for (entity, column) in &own.foreign {
                if let Some(target) = self.resolved.iter().find(|t| t.primary.as_deref() == Some(entity.as_str()) && t.name != own.name)
                    && let Some(key) = &target.primary_column
                {
                    object.relationships.push(RelationshipDef {
                        name: entity.clone(),
                        to: target.name.clone(),
                        on: KeyPairs(vec![KeyPair { from: column.clone(), to: key.clone() }]),
                        cardinality: kpi_formula::Cardinality::ManyToOne,
                    });
                }
            }
            catalog.add_object_model(object);
        }
        let metrics = std::mem::take(&mut self.metrics);
        self.metric_models = self.models_of(&metrics);
        let by_name: BTreeMap<&str, &Metric> = metrics.iter().map(|(m, _)| (m.name.as_str(), m)).collect();
        for (metric, origin) in &metrics {
            match self.metric_formula(metric, &by_name) {
                Ok(formula) => {
                    let mut kpi = KpiDefinition::new(&metric.name, metric.label.clone().unwrap_or_else(|| metric.name.clone()), formula);
                    kpi.description = metric.description.clone().unwrap_or_default();
                    kpi.tags = vec!["dbt".into(), metric.kind.to_lowercase()];
                    catalog.add_kpi(kpi);
                }
                Err(reason) => self.skip(format!("metric {}", metric.name), reason, origin, &[]),
            }
        }
        // A KPI whose formula does not check (or uses one that was left out) is left out too.
        loop {
            let failing: Vec<(String, String)> = catalog
                .kpis()
                .filter_map(|k| kpi_formula::check_kpi(&k.code, &catalog).err().map(|d| (k.code.clone(), d.first().message.clone())))
                .collect();
            if failing.is_empty() {
                break;
            }
            for (code, reason) in failing {
                catalog.remove_kpi(&code);
                if let Some((_, origin)) = metrics.iter().find(|(m, _)| m.name == code) {
                    let reason = format!("its formula does not check: {reason}");
                    self.skip(format!("metric {code}"), reason, origin, &[]);
                }
            }
        }
        catalog.validate()?;
        Ok(DbtImport { catalog, skipped: self.skipped })
    }

    /// The object model of semantic model `i`, recording its entities, dimensions and measures.
    fn object_model(&mut self, i: usize, m: &SemanticModel, origin: &Origin) -> ObjectModel {
        let mut columns: Vec<ColumnDef> = Vec::new();
        let mut add = |name: &str, ty: ColumnType| {
            if !columns.iter().any(|c| c.name == name) {
                columns.push(ColumnDef::new(name, ty));
            }
        };
        let typed = |meta: Option<&str>, default: ColumnType| meta.and_then(|t| t.parse::<ColumnType>().ok()).unwrap_or(default);
        let mut model = Model {
            name: m.name.clone(),
            time_column: None,
            primary: None,
            primary_column: None,
            foreign: Vec::new(),
            dimensions: Vec::new(),
        };
        for (k, e) in m.entities.iter().enumerate() {
            let column = e.expr.clone().unwrap_or_else(|| e.name.clone());
            if !is_identifier(&column) {
                self.skip(
                    format!("entity {}.{}", m.name, e.name),
                    "an entity computed by an expression; name a column",
                    origin,
                    &["entities", &k.to_string(), "expr"],
                );
                continue;
            }
            add(&column, typed(meta_type(&e.meta, &e.config), ColumnType::Int64));
            match e.kind.to_lowercase().as_str() {
                "primary" | "unique" | "natural" if model.primary.is_none() => {
                    model.primary = Some(e.name.clone());
                    model.primary_column = Some(column);
                }
                "foreign" => model.foreign.push((e.name.clone(), column)),
                _ => {}
            }
        }
        let mut computed = Vec::new();
        for (k, d) in m.dimensions.iter().enumerate() {
            let column = d.expr.clone().unwrap_or_else(|| d.name.clone());
            let time = d.kind.eq_ignore_ascii_case("time");
            if !is_identifier(&column) {
                if time {
                    let reason = "a time dimension computed by an SQL expression; add the column to the model";
                    self.skip(format!("dimension {}.{}", m.name, d.name), reason, origin, &["dimensions", &k.to_string(), "expr"]);
                } else {
                    computed.push((k, d.name.clone(), column));
                }
                continue;
            }
            add(&column, typed(meta_type(&d.meta, &d.config), if time { ColumnType::Timestamp } else { ColumnType::String }));
            if time && model.time_column.is_none() {
                model.time_column = Some(column.clone());
            }
            model.dimensions.push((d.name.clone(), column));
        }
        if let Some(name) = m.defaults.as_ref().and_then(|d| d.agg_time_dimension.as_ref())
            && let Some((_, column)) = model.dimensions.iter().find(|(d, _)| d == name)
        {
            model.time_column = Some(column.clone());
        }
        for (k, measure) in m.measures.iter().enumerate() {
            let at = ["measures", &k.to_string()];
            match self.measure(&m.name, &model, measure, &mut add, typed) {
                Ok(translated) => {
                    self.measures.insert(measure.name.clone(), Measure { model: i, ..translated });
                }
                Err(reason) => self.skip(format!("measure {}.{}", m.name, measure.name), reason, origin, &at),
            }
        }
        // Computed dimensions are inlined where filters name them; they read the columns the
        // model declares (their types are not known otherwise).
        for (k, name, expr) in computed {
            let mut unknown = None;
            let checked = qualify(&m.name, &expr, |c| {
                if !columns.iter().any(|d| d.name == c) {
                    unknown.get_or_insert_with(|| c.to_string());
                }
            });
            let reason = match (checked, unknown) {
                (Err(reason), _) => reason,
                (Ok(_), Some(c)) => format!(
                    "the expression reads `{c}`, which no entity, dimension or measure of `{}` declares; declare it (a dimension with meta: {{type: ...}})",
                    m.name
                ),
                (Ok(_), None) => {
                    model.dimensions.push((name, expr));
                    continue;
                }
            };
            self.skip(format!("dimension {}.{name}", m.name), reason, origin, &["dimensions", &k.to_string(), "expr"]);
        }
        let object = ObjectModel {
            code: m.name.clone(),
            name: m.name.clone(),
            description: m.description.clone().unwrap_or_default(),
            time_column: model.time_column.clone(),
            primary_key: model.primary_column.iter().cloned().collect(),
            columns,
            tags: vec!["dbt".into()],
            ..ObjectModel::default()
        };
        self.resolved.push(model);
        object
    }

    /// A measure as an aggregate template.
    fn measure(
        &self,
        table: &str,
        model: &Model,
        m: &shapes::Measure,
        add: &mut impl FnMut(&str, ColumnType),
        typed: impl Fn(Option<&str>, ColumnType) -> ColumnType,
    ) -> Result<Measure, String> {
        if let Some(own) = &m.agg_time_dimension
            && model.dimensions.iter().find(|(d, _)| d == own).map(|(_, c)| c) != model.time_column.as_ref()
        {
            return Err(format!("its time dimension `{own}` is not the model's; one time column per object model is imported"));
        }
        let agg = m.agg.to_lowercase();
        let expr = m.expr.as_ref().map(|e| e.text()).unwrap_or_else(|| m.name.clone());
        let numeric = !matches!(agg.as_str(), "count" | "count_distinct");
        let default = if agg == "sum_boolean" {
            ColumnType::Bool
        } else if numeric {
            ColumnType::Float64
        } else {
            ColumnType::String
        };
        let arg = qualify(table, &expr, |c| add(c, typed(meta_type(&m.meta, &m.config), default)))?;
        let (func, extra, condition) = match agg.as_str() {
            "sum" if expr == "1" => ("count_rows", None, None),
            "sum" | "count" | "count_distinct" | "min" | "max" | "median" => (agg.as_str(), None, None),
            "average" | "avg" => ("avg", None, None),
            "sum_boolean" => ("count_rows", None, Some(arg.clone())),
            "percentile" => {
                let p = m.agg_params.as_ref().ok_or("a percentile without agg_params.percentile")?;
                let fraction = p.percentile.ok_or("a percentile without agg_params.percentile")?;
                let func = match (p.use_discrete_percentile, p.use_approximate_percentile) {
                    (true, true) => return Err("an approximate discrete percentile; drop one of the two".into()),
                    (true, false) => "percentile_disc",
                    (false, true) => "approx_percentile",
                    (false, false) => "percentile",
                };
                (func, Some(format!(", {fraction}")), None)
            }
            other => {
                return Err(format!(
                    "the aggregation `{other}`; one of sum, count, count_distinct, average, min, max, median, percentile, sum_boolean"
                ));
            }
        };
        let mut template = match func {
            "count_rows" => format!("count({table}{{where}})"),
            f => format!("{f}({arg}{}{{where}})", extra.unwrap_or_default()),
        };
        if let Some(na) = &m.non_additive_dimension {
            if model.dimensions.iter().find(|(d, _)| *d == na.name).map(|(_, c)| c) != model.time_column.as_ref() {
                return Err(format!("its non-additive dimension `{}` is not the model's time column", na.name));
            }
            let edge = match na.window_choice.as_deref().map(str::to_lowercase).as_deref() {
                None | Some("max") => "last",
                Some("min") => "first",
                Some(other) => return Err(format!("window_choice `{other}`; max or min")),
            };
            template = match na.window_groupings.as_slice() {
                [] => format!("{edge}({template})"),
                [entity] => {
                    let column =
                        model.entity_column(entity).ok_or_else(|| format!("window grouping `{entity}` is not an entity of `{table}`"))?;
                    format!("{edge}({template}, {table}.{column})")
                }
                _ => return Err("more than one window grouping; one entity is imported".into()),
            };
        }
        Ok(Measure { model: 0, template, condition })
    }

    /// The model a metric reads (see [`Project::metric_models`]).
    fn metric_model(&self, name: &str) -> Option<&Model> {
        self.resolved.get(*self.metric_models.get(name)?)
    }

    /// The semantic model of each metric that reads one: a simple metric's measure's, then
    /// ratio and derived metrics whose inputs all read the same one (until none is added).
    fn models_of(&self, metrics: &[(Metric, Origin)]) -> BTreeMap<String, usize> {
        let mut models: BTreeMap<String, usize> = metrics
            .iter()
            .filter(|(m, _)| m.kind.eq_ignore_ascii_case("simple"))
            .filter_map(|(m, _)| Some((m.name.clone(), self.measures.get(&m.type_params.measure.as_ref()?.fields().name)?.model)))
            .collect();
        loop {
            let before = models.len();
            for (m, _) in metrics {
                let tp = &m.type_params;
                let inputs: Vec<String> = tp.numerator.iter().chain(&tp.denominator).chain(&tp.metrics).map(|i| i.fields().name).collect();
                if models.contains_key(&m.name) || inputs.is_empty() {
                    continue;
                }
                let read: Option<Vec<usize>> = inputs.iter().map(|i| models.get(i).copied()).collect();
                if let Some(first) = read.as_ref().and_then(|r| r.first().copied()).filter(|f| read.iter().flatten().all(|m| m == f)) {
                    models.insert(m.name.clone(), first);
                }
            }
            if models.len() == before {
                return models;
            }
        }
    }

    /// A measure's aggregate with filter templates (dbt's), for the measure's model.
    fn measure_formula(&self, name: &str, filters: &[String]) -> Result<String, String> {
        let measure = self.measures.get(name).ok_or_else(|| format!("measure `{name}` is not defined or was not imported"))?;
        let model = &self.resolved[measure.model];
        let mut conditions: Vec<String> = measure.condition.iter().cloned().collect();
        for f in filters {
            conditions.push(filter::translate(f, model, &self.resolved, &|name| self.metric_model(name))?);
        }
        let clause = match conditions.as_slice() {
            [] => String::new(),
            [one] => format!(" where {one}"),
            many => format!(" where {}", many.iter().map(|c| format!("({c})")).collect::<Vec<_>>().join(" and ")),
        };
        Ok(measure.template.replace("{where}", &clause))
    }

    /// The formula of a metric.
    fn metric_formula(&self, metric: &Metric, all: &BTreeMap<&str, &Metric>) -> Result<String, String> {
        let filters = metric.filter.as_ref().map(|f| f.templates()).unwrap_or_default();
        let tp = &metric.type_params;
        match metric.kind.to_lowercase().as_str() {
            "simple" => {
                let input = tp.measure.as_ref().ok_or("a simple metric without a measure")?.fields();
                self.input_formula(&input, &filters, true, all)
            }
            "ratio" => {
                let n = tp.numerator.as_ref().ok_or("a ratio without a numerator")?.fields();
                let d = tp.denominator.as_ref().ok_or("a ratio without a denominator")?.fields();
                let operand = |f: String| if is_identifier(&f) { f } else { format!("({f})") };
                let (n, d) = (self.input_formula(&n, &filters, false, all)?, self.input_formula(&d, &filters, false, all)?);
                Ok(format!("{} / {}", operand(n), operand(d)))
            }
            "derived" => {
                let expr = tp.expr.as_ref().ok_or("a derived metric without expr")?.text();
                let mut names = BTreeMap::new();
                for input in &tp.metrics {
                    let f = input.fields();
                    let key = f.alias.clone().unwrap_or_else(|| f.name.clone());
                    names.insert(key, self.input_formula(&f, &filters, false, all)?);
                }
                substitute(&expr, &names)
            }
            "cumulative" => {
                let input = tp.measure.as_ref().ok_or("a cumulative metric without a measure")?.fields();
                let x = self.input_formula(&input, &filters, true, all)?;
                let params = tp.cumulative_type_params.as_ref();
                let window = params.and_then(|p| p.window.clone()).or_else(|| tp.window.clone());
                let to_date = params.and_then(|p| p.grain_to_date.clone()).or_else(|| tp.grain_to_date.clone());
                // MetricFlow's default above the metric's own grain is the first day's value.
                let summary = params.and_then(|p| p.period_agg.clone()).unwrap_or_else(|| "first".into()).to_lowercase();
                match (window, to_date) {
                    (Some(w), None) => Ok(format!("rolling({x}, '{}', '{summary}')", span_text(&w.text())?)),
                    (None, Some(g)) if summary == "last" => Ok(format!("to_date({x}, '{}')", grain_name(&g)?)),
                    (None, None) if summary == "last" => Ok(format!("cumulative({x})")),
                    (None, _) => Err(format!(
                        "period_agg `{summary}` of a grain-to-date or all-time cumulative metric: the engine takes these at each period's end (write period_agg: last to import it)"
                    )),
                    (Some(_), Some(_)) => Err("both a window and grain_to_date".into()),
                }
            }
            "conversion" => self.conversion_formula(
                tp.conversion_type_params.as_ref().ok_or("a conversion metric without conversion_type_params")?,
                &filters,
            ),
            other => Err(format!("metric type `{other}`")),
        }
    }

    /// `conversions(...)` or `conversion_rate(...)` of a conversion metric; the metric's filters
    /// select base events, as MetricFlow applies them.
    fn conversion_formula(&self, params: &ConversionParams, filters: &[String]) -> Result<String, String> {
        let side = |input: &Input, own_filters: &[String]| -> Result<(String, &Model, InputFields), String> {
            let f = input.fields();
            if f.offset_window.is_some() || f.offset_to_grain.is_some() {
                return Err(format!("an offset on the conversion metric's measure `{}`", f.name));
            }
            let mut all = own_filters.to_vec();
            all.extend(f.filter.iter().flat_map(|x| x.templates()));
            let measure = self.measures.get(&f.name).ok_or_else(|| format!("measure `{}` is not defined or was not imported", f.name))?;
            Ok((self.measure_formula(&f.name, &all)?, &self.resolved[measure.model], f))
        };
        let (base, base_model, base_fields) = side(&params.base_measure, filters)?;
        let (conv, conv_model, conv_fields) = side(&params.conversion_measure, &[])?;
        if base_fields.fill_nulls_with.is_some_and(|v| v != 0.0) {
            return Err("fill_nulls_with on the base measure of a conversion metric (other than 0)".into());
        }
        let (b, c) = (&base_model.name, &conv_model.name);
        let key = |m: &Model, name: &str, what: &str| {
            m.property_column(name).ok_or_else(|| format!("{what} `{name}` is not an entity or dimension of `{}`", m.name))
        };
        let entity = &params.entity;
        let mut on = vec![format!("{b}.{} = {c}.{}", key(base_model, entity, "entity")?, key(conv_model, entity, "entity")?)];
        for p in params.constant_properties.iter().flatten() {
            on.push(format!(
                "{b}.{} = {c}.{}",
                key(base_model, &p.base_property, "base property")?,
                key(conv_model, &p.conversion_property, "conversion property")?
            ));
        }
        let func = match params.calculation.as_deref().map(str::to_lowercase).as_deref() {
            None | Some("conversion_rate") => "conversion_rate",
            Some("conversions") => "conversions",
            Some(other) => return Err(format!("calculation `{other}`; conversion_rate or conversions")),
        };
        let window = params.window.as_ref().map(|w| format!(", '{}'", w.text())).unwrap_or_default();
        let x = format!("{func}({base}, {conv}, {}{window})", on.join(" and "));
        Ok(match conv_fields.fill_nulls_with {
            Some(v) => format!("coalesce({x}, {v})"),
            None => x,
        })
    }

    /// A measure (`measure_input`) or metric input as a formula: a KPI reference when it
    /// carries nothing of its own, the referenced simple metric inlined when filters apply.
    fn input_formula(
        &self,
        input: &InputFields,
        outer: &[String],
        measure_input: bool,
        all: &BTreeMap<&str, &Metric>,
    ) -> Result<String, String> {
        let mut filters: Vec<String> = outer.to_vec();
        filters.extend(input.filter.iter().flat_map(|f| f.templates()));
        let mut x = if measure_input {
            self.measure_formula(&input.name, &filters)?
        } else if filters.is_empty() {
            input.name.clone()
        } else {
            let referenced = all.get(input.name.as_str()).ok_or_else(|| format!("metric `{}` is not defined", input.name))?;
            if !referenced.kind.eq_ignore_ascii_case("simple") {
                return Err(format!("a filter on `{}`, which is not a simple metric", input.name));
            }
            let mut inner: Vec<String> = referenced.filter.as_ref().map(|f| f.templates()).unwrap_or_default();
            inner.extend(filters);
            let measure = referenced.type_params.measure.as_ref().ok_or("a simple metric without a measure")?.fields();
            self.input_formula(&measure, &inner, true, all)?
        };
        if let Some(grain) = &input.offset_to_grain {
            x = format!("at_start({x}, '{}')", grain_name(grain)?);
        }
        if let Some(window) = &input.offset_window {
            x = format!("prev({x}, '{}')", span_text(&window.text())?);
        }
        if let Some(v) = input.fill_nulls_with {
            x = format!("coalesce({x}, {v})");
        }
        Ok(x)
    }
}
