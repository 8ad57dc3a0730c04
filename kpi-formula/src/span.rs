//! Source positions: byte spans and their line/column form.

use std::fmt;
use std::sync::Arc;

/// A half-open byte range `start..end` into a formula's source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset one past the last character.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (byte offsets).
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// Number of bytes covered.
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Whether the span covers no byte (e.g. end of input).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A 1-based line and column; the column counts characters, not bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol {
    /// Line number, starting at 1.
    pub line: usize,
    /// Column number in characters, starting at 1.
    pub column: usize,
}

impl fmt::Display for LineCol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A named piece of source text: a formula, a KPI's formula, a query filter or a dimension.
///
/// Diagnostics keep a shared handle to it so they can render the offending line.
#[derive(Debug, PartialEq, Eq)]
pub struct Source {
    /// What the text is, e.g. `formula`, `kpi revenue`, `filter`, `dimension 1`.
    pub name: String,
    /// The text itself.
    pub text: String,
}

impl Source {
    /// A shared source with a name and text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<Source> {
        Arc::new(Source { name: name.into(), text: text.into() })
    }

    /// The line and column of a byte offset (clamped to the text, snapped to a char boundary).
    pub fn line_col(&self, offset: usize) -> LineCol {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        LineCol { line, column }
    }

    /// The full text of the 1-based line `line`, without its newline.
    pub fn line_text(&self, line: usize) -> &str {
        self.text.split('\n').nth(line - 1).unwrap_or("").trim_end_matches('\r')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let s = Source::new("f", "sum(x)\n  é + y");
        assert_eq!(s.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(s.line_col(7), LineCol { line: 2, column: 1 });
        // 'y' is after a two-byte 'é'
        let y = s.text.find('y').unwrap();
        assert_eq!(s.line_col(y), LineCol { line: 2, column: 7 });
        assert_eq!(s.line_text(2), "  é + y");
        // offsets inside a multi-byte char and past the end do not panic
        assert_eq!(s.line_col(10).line, 2);
        assert_eq!(s.line_col(1000).line, 2);
    }
}
