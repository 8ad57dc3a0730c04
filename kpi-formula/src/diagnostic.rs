//! Diagnostics: errors with a source span, what was expected, what was found, and a hint.

use std::fmt;
use std::sync::Arc;

use crate::span::{LineCol, Source, Span};

/// What kind of problem a [`Diagnostic`] reports.
///
/// [`ErrorKind::code`] gives a stable, machine-readable name for bindings and tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not a well-formed formula (bad token, missing parenthesis, ...).
    Syntax,
    /// The formula nests deeper than the language allows.
    TooDeep,
    /// A table (object model) name is not in the semantic model.
    UnknownTable,
    /// A column is not in its table.
    UnknownColumn,
    /// A relationship name is not declared on its table.
    UnknownRelationship,
    /// A bare name is neither a KPI nor anything else known.
    UnknownKpi,
    /// A function name is not part of the language.
    UnknownFunction,
    /// A function got the wrong number or kind of arguments.
    Arguments,
    /// An operand has the wrong type (e.g. `sum` of a string).
    Type,
    /// Aggregates are misplaced: nested, missing, or used where rows are expected.
    Aggregate,
    /// Navigation would multiply rows (a one-to-many step) or joins on a non-key.
    FanOut,
    /// KPIs reference each other in a cycle.
    Cycle,
    /// A path can be reached in more than one way and the choice would be a guess.
    Ambiguous,
    /// A time-intelligence function is used where it cannot be evaluated.
    TimeIntelligence,
    /// The query around the formula is invalid (grain, time range, dimensions).
    Query,
}

impl ErrorKind {
    /// A stable kebab-case code, e.g. `unknown-column`.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "syntax",
            ErrorKind::TooDeep => "too-deep",
            ErrorKind::UnknownTable => "unknown-table",
            ErrorKind::UnknownColumn => "unknown-column",
            ErrorKind::UnknownRelationship => "unknown-relationship",
            ErrorKind::UnknownKpi => "unknown-kpi",
            ErrorKind::UnknownFunction => "unknown-function",
            ErrorKind::Arguments => "arguments",
            ErrorKind::Type => "type",
            ErrorKind::Aggregate => "aggregate",
            ErrorKind::FanOut => "fan-out",
            ErrorKind::Cycle => "cycle",
            ErrorKind::Ambiguous => "ambiguous",
            ErrorKind::TimeIntelligence => "time-intelligence",
            ErrorKind::Query => "query",
        }
    }
}

/// One problem in a piece of source text, located by a span.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// What kind of problem this is.
    pub kind: ErrorKind,
    /// One-line summary, e.g. ``unknown column `ordr_value` in table `orders` ``.
    pub message: String,
    /// What the language expected at this place.
    pub expected: Option<String>,
    /// What it found instead.
    pub found: Option<String>,
    /// A suggestion, e.g. ``did you mean `order_value`?``.
    pub help: Option<String>,
    /// Where in the source the problem is.
    pub span: Span,
    /// The source text the span points into.
    pub source: Arc<Source>,
}

impl Diagnostic {
    /// A diagnostic of `kind` at `span` in `source`.
    pub fn new(kind: ErrorKind, message: impl Into<String>, source: &Arc<Source>, span: Span) -> Self {
        Diagnostic { kind, message: message.into(), expected: None, found: None, help: None, span, source: Arc::clone(source) }
    }

    /// Sets what was expected.
    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    /// Sets what was found.
    pub fn found(mut self, found: impl Into<String>) -> Self {
        self.found = Some(found.into());
        self
    }

    /// Sets a help line.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds ``did you mean `x`?`` when one of `candidates` is close to `name`.
    pub fn suggest<'a>(mut self, name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Self {
        if let Some(best) = did_you_mean(name, candidates) {
            self.help = Some(format!("did you mean `{best}`?"));
        }
        self
    }

    /// Line and column where the problem starts.
    pub fn line_col(&self) -> LineCol {
        self.source.line_col(self.span.start)
    }

    /// The multi-line rendering with the source line and a caret under the span.
    pub fn render(&self) -> String {
        let lc = self.line_col();
        let line_text = self.source.line_text(lc.line);
        let gutter = lc.line.to_string().len();
        let pad = " ".repeat(gutter);
        let line_chars = line_text.chars().count();
        let span_chars = self
            .source
            .text
            .get(self.span.start.min(self.source.text.len())..self.span.end.min(self.source.text.len()))
            .map_or(0, |s| s.split('\n').next().unwrap_or("").chars().count());
        let width = span_chars.clamp(1, (line_chars + 1).saturating_sub(lc.column - 1).max(1));
        let mut label = String::new();
        match (&self.expected, &self.found) {
            (Some(e), Some(f)) => label.push_str(&format!("expected {e}, found {f}")),
            (Some(e), None) => label.push_str(&format!("expected {e}")),
            (None, Some(f)) => label.push_str(&format!("found {f}")),
            (None, None) => {}
        }
        let mut out = format!(
            "error[{}]: {}\n{pad}--> {}:{}\n{pad} |\n{} | {}\n{pad} | {}{} {}",
            self.kind.code(),
            self.message,
            self.source.name,
            lc,
            lc.line,
            line_text,
            " ".repeat(lc.column - 1),
            "^".repeat(width),
            label
        );
        out = out.trim_end().to_string();
        if let Some(help) = &self.help {
            out.push_str(&format!("\n{pad} |\n{pad} = help: {help}"));
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// One or more diagnostics found together; never empty.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// The first diagnostic (there is always one).
    pub fn first(&self) -> &Diagnostic {
        &self.0[0]
    }

    /// Iterates over all diagnostics.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n\n")?;
            }
            f.write_str(&d.render())?;
        }
        Ok(())
    }
}

/// Names longer than this (bytes) get no suggestion.
const MAX_SUGGESTED_NAME: usize = 256;

/// The candidate closest to `name`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    // Edit distance is quadratic in the lengths: a name this long is no typo of a known one.
    if name.len() > MAX_SUGGESTED_NAME {
        return None;
    }
    let lower = name.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        let cand_lower = candidate.to_lowercase();
        if cand_lower == lower {
            return Some(candidate);
        }
        let distance = strsim::levenshtein(&lower, &cand_lower);
        let longest = lower.chars().count().max(cand_lower.chars().count()).max(1);
        let close_edit = distance <= (longest / 3).max(1);
        let similarity = strsim::jaro_winkler(&lower, &cand_lower);
        let prefix = cand_lower.starts_with(&lower) && lower.len() >= 3;
        if close_edit || similarity >= 0.88 || prefix {
            let score = similarity - distance as f64 * 0.01;
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, candidate));
            }
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_line_and_caret() {
        let src = Source::new("formula", "sum(orders.ordr_value) / count(orders)");
        let d = Diagnostic::new(ErrorKind::UnknownColumn, "unknown column `ordr_value` in table `orders`", &src, Span::new(11, 21))
            .expected("a column of `orders`")
            .found("`ordr_value`")
            .suggest("ordr_value", ["order_id", "order_value", "status"]);
        let text = d.render();
        assert!(text.contains("--> formula:1:12"), "{text}");
        assert!(text.contains("1 | sum(orders.ordr_value) / count(orders)"), "{text}");
        assert!(text.contains("           ^^^^^^^^^^ expected a column of `orders`, found `ordr_value`"), "{text}");
        assert!(text.contains("help: did you mean `order_value`?"), "{text}");
    }

    #[test]
    fn suggestions_only_for_close_names() {
        assert_eq!(did_you_mean("cout", ["count", "sum"]), Some("count"));
        assert_eq!(did_you_mean("Revenue", ["revenue"]), Some("revenue"));
        assert_eq!(did_you_mean("zzz", ["count", "sum"]), None);
    }

    #[test]
    fn empty_span_at_end_renders_one_caret() {
        let src = Source::new("formula", "sum(");
        let d = Diagnostic::new(ErrorKind::Syntax, "unexpected end", &src, Span::new(4, 4));
        assert!(d.render().contains("    ^"));
    }
}
