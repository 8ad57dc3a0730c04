//! Parser: tokens to an [`Expr`] tree, by precedence climbing.
//!
//! Nesting is bounded ([`MAX_DEPTH`]) so that no input, however deep, can overflow the stack
//! here or in the passes that walk the tree later.

use std::sync::Arc;

use crate::ast::{BinaryOp, Expr, ExprKind, Ident, Literal, UnaryOp};
use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::lexer::{Keyword, Token, TokenKind, tokenize};
use crate::span::{Source, Span};

/// The deepest expression tree (and parenthesis nesting) the parser accepts.
pub const MAX_DEPTH: usize = 200;

const BP_OR: u8 = 1;
const BP_AND: u8 = 3;
const BP_NOT: u8 = 5;
const BP_CMP: u8 = 7;
const BP_ADD: u8 = 9;
const BP_MUL: u8 = 11;
const BP_NEG: u8 = 13;

/// Parses a whole formula.
pub fn parse(source: &Arc<Source>) -> Result<Expr, Diagnostic> {
    let tokens = tokenize(source)?;
    let mut parser = Parser { tokens, pos: 0, source, nesting: 0 };
    let (expr, _) = parser.expr(0)?;
    let next = parser.peek();
    if next.kind != TokenKind::Eof {
        let mut d = parser.error(next.span, format!("unexpected {} after the end of the expression", next.kind.describe()));
        d = d.expected("an operator or the end of the formula").found(next.kind.describe());
        if matches!(next.kind, TokenKind::RParen) {
            d = d.help("this `)` has no matching `(`");
        }
        return Err(d);
    }
    Ok(expr)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    source: &'a Arc<Source>,
    nesting: usize,
}

/// A parsed node with its tree depth, tracked as we go so depth checks stay O(1).
type Parsed = (Expr, usize);

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos]
    }

    fn peek_at(&self, ahead: usize) -> &TokenKind {
        &self.tokens[(self.pos + ahead).min(self.tokens.len() - 1)].kind
    }

    fn bump(&mut self) -> Token {
        let t = self.tokens[self.pos].clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn error(&self, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(ErrorKind::Syntax, message, self.source, span)
    }

    fn expect(&mut self, kind: TokenKind, what: &str) -> Result<Token, Diagnostic> {
        if self.peek().kind == kind {
            return Ok(self.bump());
        }
        let t = self.peek();
        Err(self.error(t.span, format!("expected {what}, found {}", t.kind.describe())).expected(what).found(t.kind.describe()))
    }

    fn node(&self, kind: ExprKind, span: Span, depth: usize) -> Result<Parsed, Diagnostic> {
        if depth > MAX_DEPTH {
            return Err(self.too_deep(span));
        }
        Ok((Expr { kind, span }, depth))
    }

    fn too_deep(&self, span: Span) -> Diagnostic {
        Diagnostic::new(ErrorKind::TooDeep, format!("formula is nested more than {MAX_DEPTH} levels deep"), self.source, span)
            .expected(format!("at most {MAX_DEPTH} levels of nesting"))
            .help("split the formula into smaller KPIs that reference each other")
    }

    fn expr(&mut self, min_bp: u8) -> Result<Parsed, Diagnostic> {
        self.nesting += 1;
        if self.nesting > MAX_DEPTH {
            let span = self.peek().span;
            return Err(self.too_deep(span));
        }
        let result = self.expr_inner(min_bp);
        self.nesting -= 1;
        result
    }

    fn expr_inner(&mut self, min_bp: u8) -> Result<Parsed, Diagnostic> {
        let mut left = self.prefix()?;
        loop {
            let (op, bp) = match &self.peek().kind {
                TokenKind::Keyword(Keyword::Or) => (Infix::Binary(BinaryOp::Or), BP_OR),
                TokenKind::Keyword(Keyword::And) => (Infix::Binary(BinaryOp::And), BP_AND),
                TokenKind::Eq => (Infix::Binary(BinaryOp::Eq), BP_CMP),
                TokenKind::NotEq => (Infix::Binary(BinaryOp::NotEq), BP_CMP),
                TokenKind::Lt => (Infix::Binary(BinaryOp::Lt), BP_CMP),
                TokenKind::LtEq => (Infix::Binary(BinaryOp::LtEq), BP_CMP),
                TokenKind::Gt => (Infix::Binary(BinaryOp::Gt), BP_CMP),
                TokenKind::GtEq => (Infix::Binary(BinaryOp::GtEq), BP_CMP),
                TokenKind::Keyword(Keyword::Is) => (Infix::Is, BP_CMP),
                TokenKind::Keyword(Keyword::In) => (Infix::In(false), BP_CMP),
                TokenKind::Keyword(Keyword::Between) => (Infix::Between(false), BP_CMP),
                TokenKind::Keyword(Keyword::Like) => (Infix::Like(false), BP_CMP),
                TokenKind::Keyword(Keyword::Not) => match self.peek_at(1) {
                    TokenKind::Keyword(Keyword::In) => (Infix::In(true), BP_CMP),
                    TokenKind::Keyword(Keyword::Between) => (Infix::Between(true), BP_CMP),
                    TokenKind::Keyword(Keyword::Like) => (Infix::Like(true), BP_CMP),
                    _ => break,
                },
                TokenKind::Plus => (Infix::Binary(BinaryOp::Add), BP_ADD),
                TokenKind::Minus => (Infix::Binary(BinaryOp::Sub), BP_ADD),
                TokenKind::Star => (Infix::Binary(BinaryOp::Mul), BP_MUL),
                TokenKind::Slash => (Infix::Binary(BinaryOp::Div), BP_MUL),
                TokenKind::Percent => (Infix::Binary(BinaryOp::Mod), BP_MUL),
                _ => break,
            };
            if bp < min_bp {
                break;
            }
            let op_token = self.bump();
            left = self.infix(left, op, bp, op_token)?;
            if bp == BP_CMP && is_comparison_start(self.peek_at(0), self.peek_at(1)) {
                let t = self.peek();
                return Err(self
                    .error(t.span, "comparisons cannot be chained")
                    .expected("`and`, `or` or the end of the condition")
                    .found(t.kind.describe())
                    .help("write `a < b and b < c` instead of `a < b < c`"));
            }
        }
        Ok(left)
    }

    fn infix(&mut self, left: Parsed, op: Infix, bp: u8, op_token: Token) -> Result<Parsed, Diagnostic> {
        let (left, ld) = left;
        if let Infix::In(true) | Infix::Between(true) | Infix::Like(true) = op {
            self.bump(); // the keyword after `not`
        }
        match op {
            Infix::Binary(op) => {
                let (right, rd) = self.expr(bp + 1)?;
                let span = left.span.to(right.span);
                self.node(ExprKind::Binary { op, left: Box::new(left), right: Box::new(right) }, span, ld.max(rd) + 1)
            }
            Infix::Is => {
                let negated = self.eat_keyword(Keyword::Not);
                let null = self.peek().clone();
                if null.kind != TokenKind::Keyword(Keyword::Null) {
                    return Err(self
                        .error(null.span, format!("expected `null` after `is`, found {}", null.kind.describe()))
                        .expected("`null` or `not null`")
                        .found(null.kind.describe())
                        .help("use `=` to compare values; `is` only tests for null"));
                }
                self.bump();
                let span = left.span.to(null.span);
                self.node(ExprKind::IsNull { expr: Box::new(left), negated }, span, ld + 1)
            }
            Infix::In(negated) => {
                self.expect(TokenKind::LParen, "`(` to start the list after `in`")?;
                let mut list = Vec::new();
                let mut depth = ld;
                loop {
                    let (item, d) = self.expr(0)?;
                    depth = depth.max(d);
                    list.push(item);
                    if self.peek().kind == TokenKind::Comma {
                        self.bump();
                        continue;
                    }
                    break;
                }
                let close = self.expect(TokenKind::RParen, "`,` or `)` in the `in` list")?;
                let span = left.span.to(close.span);
                self.node(ExprKind::InList { expr: Box::new(left), list, negated }, span, depth + 1)
            }
            Infix::Between(negated) => {
                let (low, d1) = self.expr(BP_ADD)?;
                if !self.eat_keyword(Keyword::And) {
                    let t = self.peek();
                    return Err(self
                        .error(t.span, format!("expected `and` in `between`, found {}", t.kind.describe()))
                        .expected("`and` between the two bounds")
                        .found(t.kind.describe()));
                }
                let (high, d2) = self.expr(BP_ADD)?;
                let span = left.span.to(high.span);
                let depth = ld.max(d1).max(d2) + 1;
                self.node(ExprKind::Between { expr: Box::new(left), low: Box::new(low), high: Box::new(high), negated }, span, depth)
            }
            Infix::Like(negated) => {
                let (pattern, d) = self.expr(BP_ADD)?;
                let span = left.span.to(pattern.span);
                let _ = op_token;
                self.node(ExprKind::Like { expr: Box::new(left), pattern: Box::new(pattern), negated }, span, ld.max(d) + 1)
            }
        }
    }

    fn eat_keyword(&mut self, k: Keyword) -> bool {
        if self.peek().kind == TokenKind::Keyword(k) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn prefix(&mut self) -> Result<Parsed, Diagnostic> {
        let token = self.bump();
        let span = token.span;
        let literal = |l| Ok((Expr { kind: ExprKind::Literal(l), span }, 1));
        match token.kind {
            TokenKind::Integer(v) => literal(Literal::Integer(v)),
            TokenKind::Float(v) => literal(Literal::Float(v)),
            TokenKind::String(s) => literal(Literal::String(s)),
            TokenKind::Keyword(Keyword::True) => literal(Literal::Boolean(true)),
            TokenKind::Keyword(Keyword::False) => literal(Literal::Boolean(false)),
            TokenKind::Keyword(Keyword::Null) => literal(Literal::Null),
            TokenKind::Minus => {
                let (e, d) = self.expr(BP_NEG)?;
                let span = span.to(e.span);
                self.node(ExprKind::Unary { op: UnaryOp::Neg, expr: Box::new(e) }, span, d + 1)
            }
            TokenKind::Plus => self.expr(BP_NEG),
            TokenKind::Keyword(Keyword::Not) => {
                let (e, d) = self.expr(BP_NOT)?;
                let span = span.to(e.span);
                self.node(ExprKind::Unary { op: UnaryOp::Not, expr: Box::new(e) }, span, d + 1)
            }
            TokenKind::LParen => {
                let (mut e, d) = self.expr(0)?;
                let close = self.expect(TokenKind::RParen, "`)`")?;
                // The span of a parenthesised expression includes its parentheses.
                e.span = span.to(close.span);
                Ok((e, d))
            }
            TokenKind::Keyword(Keyword::Case) => self.case(span),
            TokenKind::Ident(name) => self.path_or_call(Ident { name, span }),
            other => {
                let mut d = self
                    .error(span, format!("expected an expression, found {}", other.describe()))
                    .expected("a value, name, function call or `(`")
                    .found(other.describe());
                d = match other {
                    TokenKind::Keyword(Keyword::Where) => {
                        d.help("`where` filters an aggregate and goes inside it: sum(orders.value where orders.paid)")
                    }
                    TokenKind::Eof => d.help("the formula ends too early"),
                    TokenKind::Star => d.help("to count rows, name the table: count(orders)"),
                    _ => d,
                };
                Err(d)
            }
        }
    }

    fn path_or_call(&mut self, first: Ident) -> Result<Parsed, Diagnostic> {
        if self.peek().kind == TokenKind::LParen {
            return self.call(first);
        }
        let mut parts = vec![first];
        while self.peek().kind == TokenKind::Dot {
            self.bump();
            let t = self.bump();
            match t.kind {
                TokenKind::Ident(name) => parts.push(Ident { name, span: t.span }),
                TokenKind::Keyword(k) => {
                    return Err(self
                        .error(t.span, format!("expected a name after `.`, found keyword `{}`", k.as_str()))
                        .expected("a column or relationship name")
                        .found(format!("keyword `{}`", k.as_str()))
                        .help(format!("a name that is also a keyword must be quoted: \"{}\"", k.as_str())));
                }
                other => {
                    return Err(self
                        .error(t.span, format!("expected a name after `.`, found {}", other.describe()))
                        .expected("a column or relationship name")
                        .found(other.describe()));
                }
            }
        }
        if self.peek().kind == TokenKind::LParen && parts.len() > 1 {
            let t = self.peek();
            return Err(self.error(t.span, "only plain names can be called").expected("an operator").found("`(`").help(format!(
                "write the function first: {}({})",
                parts.last().map_or("", |p| p.name.as_str()),
                parts[0].name
            )));
        }
        let span = parts[0].span.to(parts[parts.len() - 1].span);
        Ok((Expr { kind: ExprKind::Path(parts), span }, 1))
    }

    fn call(&mut self, name: Ident) -> Result<Parsed, Diagnostic> {
        self.bump(); // (
        let mut args = Vec::new();
        let mut filter = None;
        let mut depth = 0;
        if self.peek().kind == TokenKind::Star {
            let t = self.peek();
            return Err(self
                .error(t.span, "`*` is not an argument")
                .expected("an expression or a table name")
                .found("`*`")
                .help(format!("to count rows, name the table: {}(orders)", name.name)));
        }
        if self.peek().kind != TokenKind::RParen {
            loop {
                let (arg, d) = self.expr(0)?;
                depth = depth.max(d);
                args.push(arg);
                if self.peek().kind == TokenKind::Keyword(Keyword::Where) {
                    let w = self.bump();
                    if filter.is_some() {
                        return Err(self
                            .error(w.span, "a call takes one `where` filter")
                            .expected("`,` or `)`")
                            .found("a second `where`")
                            .help("combine the conditions with `and`"));
                    }
                    let (f, d) = self.expr(0)?;
                    depth = depth.max(d);
                    filter = Some(Box::new(f));
                }
                if self.peek().kind == TokenKind::Comma {
                    self.bump();
                    continue;
                }
                break;
            }
        }
        let close = self.expect(TokenKind::RParen, &format!("`,` or `)` to close the call to `{}`", name.name))?;
        let span = name.span.to(close.span);
        self.node(ExprKind::Call { name, args, filter }, span, depth + 1)
    }

    fn case(&mut self, start: Span) -> Result<Parsed, Diagnostic> {
        let mut depth = 0;
        let operand = if self.peek().kind != TokenKind::Keyword(Keyword::When) {
            let (e, d) = self.expr(0)?;
            depth = d;
            Some(Box::new(e))
        } else {
            None
        };
        let mut branches = Vec::new();
        while self.eat_keyword(Keyword::When) {
            let (w, d1) = self.expr(0)?;
            self.expect(TokenKind::Keyword(Keyword::Then), "`then`")?;
            let (t, d2) = self.expr(0)?;
            depth = depth.max(d1).max(d2);
            branches.push((w, t));
        }
        if branches.is_empty() {
            let t = self.peek();
            return Err(self
                .error(t.span, format!("expected `when` in `case`, found {}", t.kind.describe()))
                .expected("at least one `when ... then ...`")
                .found(t.kind.describe()));
        }
        let otherwise = if self.eat_keyword(Keyword::Else) {
            let (e, d) = self.expr(0)?;
            depth = depth.max(d);
            Some(Box::new(e))
        } else {
            None
        };
        let end = self.expect(TokenKind::Keyword(Keyword::End), "`when`, `else` or `end` to close the `case`")?;
        self.node(ExprKind::Case { operand, branches, otherwise }, start.to(end.span), depth + 1)
    }
}

#[derive(Clone, Copy)]
enum Infix {
    Binary(BinaryOp),
    Is,
    In(bool),
    Between(bool),
    Like(bool),
}

fn is_comparison_start(kind: &TokenKind, next: &TokenKind) -> bool {
    match kind {
        TokenKind::Eq | TokenKind::NotEq | TokenKind::Lt | TokenKind::LtEq | TokenKind::Gt | TokenKind::GtEq => true,
        TokenKind::Keyword(Keyword::Is | Keyword::In | Keyword::Between | Keyword::Like) => true,
        TokenKind::Keyword(Keyword::Not) => {
            matches!(next, TokenKind::Keyword(Keyword::In | Keyword::Between | Keyword::Like))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::same_shape;

    fn p(text: &str) -> Result<Expr, Diagnostic> {
        parse(&Source::new("formula", text))
    }

    fn printed(text: &str) -> String {
        p(text).unwrap().to_string()
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(printed("1 + 2 * 3 - 4"), "((1 + (2 * 3)) - 4)");
        assert_eq!(printed("a or b and not c = 1"), "(a or (b and (not (c = 1))))");
        assert_eq!(printed("-x.y * 2"), "((-x.y) * 2)");
        assert_eq!(printed("a / b / c"), "((a / b) / c)");
    }

    #[test]
    fn predicates() {
        assert_eq!(
            printed("x is not null and y in (1, 2) and z not between 1 and 2"),
            "(((x is not null) and (y in (1, 2))) and (z not between 1 and 2))"
        );
        assert_eq!(printed("s not like 'a%'"), "(s not like 'a%')");
    }

    #[test]
    fn calls_with_where_and_case() {
        assert_eq!(printed("SUM(o.v WHERE o.s = 'x')"), "SUM(o.v where (o.s = 'x'))");
        assert_eq!(printed("percentile(o.v, 0.9)"), "percentile(o.v, 0.9)");
        assert_eq!(printed("case when a then 1 else 2 end"), "case when a then 1 else 2 end");
        assert_eq!(printed("case o.s when 'a' then 1 end"), "case o.s when 'a' then 1 end");
        assert_eq!(printed("f()"), "f()");
    }

    #[test]
    fn spans_cover_the_source() {
        let e = p("sum(orders.value) / count(orders)").unwrap();
        assert_eq!(e.span, Span::new(0, 33));
        if let ExprKind::Binary { left, .. } = &e.kind {
            assert_eq!(left.span, Span::new(0, 17));
        }
    }

    #[test]
    fn syntax_errors_say_what_was_expected() {
        let e = p("sum(orders.value").unwrap_err();
        assert_eq!(e.expected.as_deref(), Some("`,` or `)` to close the call to `sum`"));
        assert_eq!(e.span, Span::new(16, 16));
        let e = p("1 +").unwrap_err();
        assert!(e.message.contains("expected an expression"), "{e}");
        let e = p("a < b < c").unwrap_err();
        assert!(e.message.contains("chained"));
        assert!(p("count(*)").unwrap_err().help.unwrap().contains("count(orders)"));
        assert!(p("x is 5").is_err());
        assert!(p("case end").is_err());
        assert!(p("a b").unwrap_err().message.contains("after the end"));
        assert!(p("orders.end").unwrap_err().help.unwrap().contains("quoted"));
        assert!(p("sum(x where a where b)").is_err());
        assert!(p("").is_err());
        assert!(p("1)").unwrap_err().help.unwrap().contains("no matching"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(p(&deep).unwrap_err().kind, ErrorKind::TooDeep);
        let long_chain = vec!["1"; 50_000].join(" + ");
        assert_eq!(p(&long_chain).unwrap_err().kind, ErrorKind::TooDeep);
        let negs = format!("{}1", "- ".repeat(10_000));
        assert_eq!(p(&negs).unwrap_err().kind, ErrorKind::TooDeep);
        let nots = "not ".repeat(10_000) + "x";
        assert_eq!(p(&nots).unwrap_err().kind, ErrorKind::TooDeep);
        let ok = format!("{}1{}", "(".repeat(50), ")".repeat(50));
        assert!(p(&ok).is_ok());
    }

    #[test]
    fn printing_round_trips() {
        for text in [
            "sum(orders.order_value where orders.status in ('a', 'b')) / nullif(count(orders), 0)",
            "case when x between 1 and 2 then 'it''s' when y is null then null else -z end",
            "growth(revenue, 12) * 100 % 7",
            "\"odd name\".\"end\" like '%x'",
        ] {
            let a = p(text).unwrap();
            let b = p(&a.to_string()).unwrap();
            assert!(same_shape(&a, &b), "{text} -> {a}");
        }
    }
}
