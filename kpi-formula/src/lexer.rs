//! Lexer: formula text to tokens with spans.

use std::sync::Arc;

use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::span::{Source, Span};

/// Reserved words of the language (matched case-insensitively).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyword {
    /// The keyword `and`.
    And,
    /// The keyword `or`.
    Or,
    /// The keyword `not`.
    Not,
    /// The keyword `in`.
    In,
    /// The keyword `between`.
    Between,
    /// The keyword `is`.
    Is,
    /// The keyword `null`.
    Null,
    /// The keyword `true`.
    True,
    /// The keyword `false`.
    False,
    /// The keyword `case`.
    Case,
    /// The keyword `when`.
    When,
    /// The keyword `then`.
    Then,
    /// The keyword `else`.
    Else,
    /// The keyword `end`.
    End,
    /// The keyword `where`.
    Where,
    /// The keyword `like`.
    Like,
}

impl Keyword {
    fn from_word(word: &str) -> Option<Keyword> {
        Some(match word.to_ascii_lowercase().as_str() {
            "and" => Keyword::And,
            "or" => Keyword::Or,
            "not" => Keyword::Not,
            "in" => Keyword::In,
            "between" => Keyword::Between,
            "is" => Keyword::Is,
            "null" => Keyword::Null,
            "true" => Keyword::True,
            "false" => Keyword::False,
            "case" => Keyword::Case,
            "when" => Keyword::When,
            "then" => Keyword::Then,
            "else" => Keyword::Else,
            "end" => Keyword::End,
            "where" => Keyword::Where,
            "like" => Keyword::Like,
            _ => return None,
        })
    }

    /// The keyword as written in the language.
    pub fn as_str(self) -> &'static str {
        match self {
            Keyword::And => "and",
            Keyword::Or => "or",
            Keyword::Not => "not",
            Keyword::In => "in",
            Keyword::Between => "between",
            Keyword::Is => "is",
            Keyword::Null => "null",
            Keyword::True => "true",
            Keyword::False => "false",
            Keyword::Case => "case",
            Keyword::When => "when",
            Keyword::Then => "then",
            Keyword::Else => "else",
            Keyword::End => "end",
            Keyword::Where => "where",
            Keyword::Like => "like",
        }
    }
}

/// The kind of a token, with its value where it has one.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenKind {
    /// A plain or `"quoted"` identifier.
    Ident(String),
    /// An integer literal that fits in `i64`.
    Integer(i64),
    /// A decimal or exponent literal, or an integer too large for `i64`.
    Float(f64),
    /// A `'single-quoted'` string literal, with `''` unescaped.
    String(String),
    /// A reserved word.
    Keyword(Keyword),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `,`
    Comma,
    /// `.`
    Dot,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `%`
    Percent,
    /// `=` or `==`
    Eq,
    /// `!=` or `<>`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// End of input.
    Eof,
}

impl TokenKind {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            TokenKind::Ident(name) => format!("name `{name}`"),
            TokenKind::Integer(v) => format!("number `{v}`"),
            TokenKind::Float(v) => format!("number `{v}`"),
            TokenKind::String(s) => format!("string '{s}'"),
            TokenKind::Keyword(k) => format!("keyword `{}`", k.as_str()),
            TokenKind::Eof => "end of formula".to_string(),
            other => format!("`{}`", other.symbol()),
        }
    }

    fn symbol(&self) -> &'static str {
        match self {
            TokenKind::LParen => "(",
            TokenKind::RParen => ")",
            TokenKind::Comma => ",",
            TokenKind::Dot => ".",
            TokenKind::Plus => "+",
            TokenKind::Minus => "-",
            TokenKind::Star => "*",
            TokenKind::Slash => "/",
            TokenKind::Percent => "%",
            TokenKind::Eq => "=",
            TokenKind::NotEq => "!=",
            TokenKind::Lt => "<",
            TokenKind::LtEq => "<=",
            TokenKind::Gt => ">",
            TokenKind::GtEq => ">=",
            _ => "",
        }
    }
}

/// A token and where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Where it is in the source.
    pub span: Span,
}

/// Splits `source` into tokens, ending with [`TokenKind::Eof`].
///
/// Whitespace and `--` line comments are skipped.
pub fn tokenize(source: &Arc<Source>) -> Result<Vec<Token>, Diagnostic> {
    let text = source.text.as_str();
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let single = |kind| Token { kind, span: Span::new(start, start + 1) };
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' | b')' | b',' | b'+' | b'-' | b'*' | b'/' | b'%' => {
                tokens.push(single(match c {
                    b'(' => TokenKind::LParen,
                    b')' => TokenKind::RParen,
                    b',' => TokenKind::Comma,
                    b'+' => TokenKind::Plus,
                    b'-' => TokenKind::Minus,
                    b'*' => TokenKind::Star,
                    b'/' => TokenKind::Slash,
                    _ => TokenKind::Percent,
                }));
                i += 1;
            }
            b'.' if !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                tokens.push(single(TokenKind::Dot));
                i += 1;
            }
            b'=' | b'<' | b'>' | b'!' => {
                let next = bytes.get(i + 1).copied();
                let (kind, len) = match (c, next) {
                    (b'=', Some(b'=')) => (TokenKind::Eq, 2),
                    (b'=', _) => (TokenKind::Eq, 1),
                    (b'<', Some(b'=')) => (TokenKind::LtEq, 2),
                    (b'<', Some(b'>')) => (TokenKind::NotEq, 2),
                    (b'<', _) => (TokenKind::Lt, 1),
                    (b'>', Some(b'=')) => (TokenKind::GtEq, 2),
                    (b'>', _) => (TokenKind::Gt, 1),
                    (b'!', Some(b'=')) => (TokenKind::NotEq, 2),
                    _ => {
                        return Err(Diagnostic::new(ErrorKind::Syntax, "unexpected character `!`", source, Span::new(i, i + 1))
                            .expected("an operator")
                            .found("`!`")
                            .help("write `not x` for negation, or `!=` for inequality"));
                    }
                };
                tokens.push(Token { kind, span: Span::new(i, i + len) });
                i += len;
            }
            b'\'' => {
                let (value, end) = lex_quoted(source, i, b'\'', "string")?;
                tokens.push(Token { kind: TokenKind::String(value), span: Span::new(start, end) });
                i = end;
            }
            b'"' | b'`' => {
                let (value, end) = lex_quoted(source, i, c, "quoted name")?;
                if value.is_empty() {
                    return Err(Diagnostic::new(ErrorKind::Syntax, "empty quoted name", source, Span::new(start, end))
                        .expected("a name between the quotes"));
                }
                tokens.push(Token { kind: TokenKind::Ident(value), span: Span::new(start, end) });
                i = end;
            }
            b'0'..=b'9' | b'.' => {
                let (kind, end) = lex_number(source, i)?;
                tokens.push(Token { kind, span: Span::new(start, end) });
                i = end;
            }
            c if c == b'_' || c.is_ascii_alphabetic() => {
                while i < bytes.len() && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                let word = &text[start..i];
                let kind = match Keyword::from_word(word) {
                    Some(k) => TokenKind::Keyword(k),
                    None => TokenKind::Ident(word.to_string()),
                };
                tokens.push(Token { kind, span: Span::new(start, i) });
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                let end = i + ch.len_utf8();
                let mut d = Diagnostic::new(ErrorKind::Syntax, format!("unexpected character `{ch}`"), source, Span::new(i, end))
                    .expected("a name, number, string, operator or parenthesis")
                    .found(format!("`{ch}`"));
                if ch == ';' {
                    d = d.help("a formula is a single expression; remove the `;`");
                } else if !ch.is_ascii() {
                    d = d.help("names with non-ASCII characters must be quoted, e.g. \"umsätze\"");
                }
                return Err(d);
            }
        }
    }
    tokens.push(Token { kind: TokenKind::Eof, span: Span::new(bytes.len(), bytes.len()) });
    Ok(tokens)
}

/// Reads a literal quoted by `quote`, where a doubled quote stands for one.
fn lex_quoted(source: &Arc<Source>, start: usize, quote: u8, what: &str) -> Result<(String, usize), Diagnostic> {
    let text = source.text.as_str();
    let bytes = text.as_bytes();
    let mut value = String::new();
    let mut i = start + 1;
    let mut chunk_start = i;
    loop {
        match bytes.get(i) {
            None => {
                let q = quote as char;
                return Err(Diagnostic::new(ErrorKind::Syntax, format!("unterminated {what}"), source, Span::new(start, text.len()))
                    .expected(format!("a closing {q}"))
                    .found("end of formula")
                    .help(format!("to put a {q} inside, double it: {q}{q}")));
            }
            Some(&b) if b == quote => {
                value.push_str(&text[chunk_start..i]);
                if bytes.get(i + 1) == Some(&quote) {
                    value.push(quote as char);
                    i += 2;
                    chunk_start = i;
                } else {
                    return Ok((value, i + 1));
                }
            }
            Some(_) => i += 1,
        }
    }
}

fn lex_number(source: &Arc<Source>, start: usize) -> Result<(TokenKind, usize), Diagnostic> {
    let bytes = source.text.as_bytes();
    let mut i = start;
    let digits = |i: &mut usize| {
        while *i < bytes.len() && bytes[*i].is_ascii_digit() {
            *i += 1;
        }
    };
    digits(&mut i);
    let mut is_float = false;
    if i < bytes.len() && bytes[i] == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
        is_float = true;
        i += 1;
        digits(&mut i);
    } else if i < bytes.len() && bytes[i] == b'.' && !bytes.get(i + 1).is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_') {
        // `1.` is a float; `orders.1` never gets here because names cannot start with digits
        is_float = true;
        i += 1;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        let mut j = i + 1;
        if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
            j += 1;
        }
        if j < bytes.len() && bytes[j].is_ascii_digit() {
            is_float = true;
            i = j;
            digits(&mut i);
        } else {
            return Err(Diagnostic::new(ErrorKind::Syntax, "malformed number", source, Span::new(start, j.min(bytes.len())))
                .expected("digits after the exponent `e`"));
        }
    }
    if i < bytes.len() && (bytes[i] == b'_' || bytes[i].is_ascii_alphabetic()) {
        let mut j = i;
        while j < bytes.len() && (bytes[j] == b'_' || bytes[j].is_ascii_alphanumeric()) {
            j += 1;
        }
        return Err(Diagnostic::new(ErrorKind::Syntax, "malformed number", source, Span::new(start, j))
            .expected("a number or a name")
            .found(format!("`{}`", &source.text[start..j]))
            .help("names cannot start with a digit; quote them: \"2nd_line\""));
    }
    let text = &source.text[start..i];
    let kind =
        if is_float {
            TokenKind::Float(text.parse::<f64>().map_err(|_| {
                Diagnostic::new(ErrorKind::Syntax, "malformed number", source, Span::new(start, i)).found(format!("`{text}`"))
            })?)
        } else {
            match text.parse::<i64>() {
                Ok(v) => TokenKind::Integer(v),
                // Out of i64 range: keep the magnitude as a float rather than failing.
                Err(_) => TokenKind::Float(text.parse::<f64>().unwrap_or(f64::INFINITY)),
            }
        };
    Ok((kind, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(&Source::new("t", text)).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn tokens_of_a_formula() {
        use TokenKind::*;
        assert_eq!(
            kinds("sum(orders.value WHERE x <> 'it''s') / 2.5e1 -- comment\n>= 1"),
            vec![
                Ident("sum".into()),
                LParen,
                Ident("orders".into()),
                Dot,
                Ident("value".into()),
                Keyword(super::Keyword::Where),
                Ident("x".into()),
                NotEq,
                String("it's".into()),
                RParen,
                Slash,
                Float(25.0),
                GtEq,
                Integer(1),
                Eof
            ]
        );
    }

    #[test]
    fn quoted_names_and_leading_dot_numbers() {
        assert_eq!(kinds("\"end\" .5")[..2], [TokenKind::Ident("end".into()), TokenKind::Float(0.5)]);
        assert_eq!(kinds("99999999999999999999")[0], TokenKind::Float(1e20));
    }

    #[test]
    fn errors_have_spans() {
        let src = Source::new("t", "sum(x) ; 1");
        let e = tokenize(&src).unwrap_err();
        assert_eq!(e.span, Span::new(7, 8));
        assert!(tokenize(&Source::new("t", "'abc")).unwrap_err().message.contains("unterminated string"));
        assert!(tokenize(&Source::new("t", "1e+")).is_err());
        assert!(tokenize(&Source::new("t", "12abc")).is_err());
        assert!(tokenize(&Source::new("t", "ü")).is_err());
    }
}
