//! The syntax tree of a formula, as written (before names are resolved).

use std::fmt;

use crate::span::Span;

/// A name with its position.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name as written (quotes removed).
    pub name: String,
    /// Where it is.
    pub span: Span,
}

/// A literal value.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// Whole number.
    Integer(i64),
    /// Number with a fraction or exponent.
    Float(f64),
    /// Text in single quotes.
    String(String),
    /// `true` or `false`.
    Boolean(bool),
    /// `null`.
    Null,
}

/// Operators with two operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/` (always real division; division by zero gives null)
    Div,
    /// `%`
    Mod,
    /// `=`
    Eq,
    /// `!=`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `and`
    And,
    /// `or`
    Or,
}

impl BinaryOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
        }
    }

    /// Whether this is `+ - * / %`.
    pub fn is_arithmetic(self) -> bool {
        matches!(self, BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod)
    }

    /// Whether this is a comparison.
    pub fn is_comparison(self) -> bool {
        matches!(self, BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq)
    }
}

/// Operators with one operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `not x`
    Not,
}

/// An expression node and its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// The text it covers.
    pub span: Span,
}

/// The kinds of expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A literal.
    Literal(Literal),
    /// A dotted name: `revenue`, `orders`, `orders.value`, `order_lines.product.unit_cost`.
    Path(Vec<Ident>),
    /// A function call, with an optional `where` filter inside the parentheses.
    Call {
        /// Function name.
        name: Ident,
        /// Arguments in order.
        args: Vec<Expr>,
        /// `where` condition (aggregates only).
        filter: Option<Box<Expr>>,
    },
    /// `-x`, `not x`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        expr: Box<Expr>,
    },
    /// `a op b`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `x is [not] null`.
    IsNull {
        /// The tested value.
        expr: Box<Expr>,
        /// `is not null`.
        negated: bool,
    },
    /// `x [not] in (a, b, ...)`.
    InList {
        /// The tested value.
        expr: Box<Expr>,
        /// The candidates.
        list: Vec<Expr>,
        /// `not in`.
        negated: bool,
    },
    /// `x [not] between low and high` (inclusive).
    Between {
        /// The tested value.
        expr: Box<Expr>,
        /// Lower bound.
        low: Box<Expr>,
        /// Upper bound.
        high: Box<Expr>,
        /// `not between`.
        negated: bool,
    },
    /// `x [not] like 'pattern'`.
    Like {
        /// The tested value.
        expr: Box<Expr>,
        /// The pattern (`%` and `_` wildcards).
        pattern: Box<Expr>,
        /// `not like`.
        negated: bool,
    },
    /// `case [operand] when .. then .. [else ..] end`.
    Case {
        /// The value compared against each `when` (simple form), if any.
        operand: Option<Box<Expr>>,
        /// `(when, then)` pairs.
        branches: Vec<(Expr, Expr)>,
        /// The `else` value.
        otherwise: Option<Box<Expr>>,
    },
}

impl Expr {
    /// Depth of the tree (a leaf has depth 1).
    pub fn depth(&self) -> usize {
        1 + self.children().map(Expr::depth).max().unwrap_or(0)
    }

    /// The direct sub-expressions, in source order.
    pub fn children(&self) -> Box<dyn Iterator<Item = &Expr> + '_> {
        match &self.kind {
            ExprKind::Literal(_) | ExprKind::Path(_) => Box::new(std::iter::empty()),
            ExprKind::Call { args, filter, .. } => Box::new(args.iter().chain(filter.as_deref())),
            ExprKind::Unary { expr, .. } | ExprKind::IsNull { expr, .. } => Box::new(std::iter::once(&**expr)),
            ExprKind::Binary { left, right, .. } => Box::new([&**left, &**right].into_iter()),
            ExprKind::InList { expr, list, .. } => Box::new(std::iter::once(&**expr).chain(list.iter())),
            ExprKind::Between { expr, low, high, .. } => Box::new([&**expr, &**low, &**high].into_iter()),
            ExprKind::Like { expr, pattern, .. } => Box::new([&**expr, &**pattern].into_iter()),
            ExprKind::Case { operand, branches, otherwise } => {
                Box::new(operand.as_deref().into_iter().chain(branches.iter().flat_map(|(w, t)| [w, t])).chain(otherwise.as_deref()))
            }
        }
    }
}

impl Expr {
    /// The direct sub-expressions, mutably, in source order (for rewriting a tree).
    pub fn children_mut(&mut self) -> Vec<&mut Expr> {
        match &mut self.kind {
            ExprKind::Literal(_) | ExprKind::Path(_) => Vec::new(),
            ExprKind::Call { args, filter, .. } => args.iter_mut().chain(filter.as_deref_mut()).collect(),
            ExprKind::Unary { expr, .. } | ExprKind::IsNull { expr, .. } => vec![&mut **expr],
            ExprKind::Binary { left, right, .. } => vec![&mut **left, &mut **right],
            ExprKind::InList { expr, list, .. } => std::iter::once(&mut **expr).chain(list.iter_mut()).collect(),
            ExprKind::Between { expr, low, high, .. } => vec![&mut **expr, &mut **low, &mut **high],
            ExprKind::Like { expr, pattern, .. } => vec![&mut **expr, &mut **pattern],
            ExprKind::Case { operand, branches, otherwise } => operand
                .as_deref_mut()
                .into_iter()
                .chain(branches.iter_mut().flat_map(|(w, t)| [w, t]))
                .chain(otherwise.as_deref_mut())
                .collect(),
        }
    }
}

fn write_ident(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    let plain = name.chars().next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
        && crate::lexer::tokenize(&crate::span::Source::new("", name))
            .is_ok_and(|t| matches!(t[0].kind, crate::lexer::TokenKind::Ident(_)));
    if plain { f.write_str(name) } else { write!(f, "\"{}\"", name.replace('"', "\"\"")) }
}

/// Prints the expression back as formula text, fully parenthesised so that it re-parses to the same tree.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Literal(Literal::Integer(v)) => write!(f, "{v}"),
            ExprKind::Literal(Literal::Float(v)) => {
                // Shortest text that reads back as the same float, and still lexes as a float.
                let text = if v.is_finite() { v.to_string() } else { "1e999".to_string() };
                if text.contains(['.', 'e']) { f.write_str(&text) } else { write!(f, "{text}.0") }
            }
            ExprKind::Literal(Literal::String(s)) => write!(f, "'{}'", s.replace('\'', "''")),
            ExprKind::Literal(Literal::Boolean(b)) => write!(f, "{b}"),
            ExprKind::Literal(Literal::Null) => f.write_str("null"),
            ExprKind::Path(parts) => {
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    write_ident(f, &p.name)?;
                }
                Ok(())
            }
            ExprKind::Call { name, args, filter } => {
                write_ident(f, &name.name)?;
                f.write_str("(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                if let Some(filter) = filter {
                    write!(f, " where {filter}")?;
                }
                f.write_str(")")
            }
            ExprKind::Unary { op: UnaryOp::Neg, expr } => write!(f, "(-{expr})"),
            ExprKind::Unary { op: UnaryOp::Not, expr } => write!(f, "(not {expr})"),
            ExprKind::Binary { op, left, right } => write!(f, "({left} {} {right})", op.as_str()),
            ExprKind::IsNull { expr, negated } => write!(f, "({expr} is {}null)", if *negated { "not " } else { "" }),
            ExprKind::InList { expr, list, negated } => {
                write!(f, "({expr} {}in (", if *negated { "not " } else { "" })?;
                for (i, a) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str("))")
            }
            ExprKind::Between { expr, low, high, negated } => {
                write!(f, "({expr} {}between {low} and {high})", if *negated { "not " } else { "" })
            }
            ExprKind::Like { expr, pattern, negated } => {
                write!(f, "({expr} {}like {pattern})", if *negated { "not " } else { "" })
            }
            ExprKind::Case { operand, branches, otherwise } => {
                f.write_str("case")?;
                if let Some(op) = operand {
                    write!(f, " {op}")?;
                }
                for (w, t) in branches {
                    write!(f, " when {w} then {t}")?;
                }
                if let Some(e) = otherwise {
                    write!(f, " else {e}")?;
                }
                f.write_str(" end")
            }
        }
    }
}

/// Compares two trees ignoring spans (useful after printing and re-parsing).
pub fn same_shape(a: &Expr, b: &Expr) -> bool {
    let head = match (&a.kind, &b.kind) {
        (ExprKind::Literal(x), ExprKind::Literal(y)) => match (x, y) {
            (Literal::Float(p), Literal::Float(q)) => p == q || (p.is_nan() && q.is_nan()),
            _ => x == y,
        },
        (ExprKind::Path(x), ExprKind::Path(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.name == q.name),
        (ExprKind::Call { name: n1, args: a1, filter: f1 }, ExprKind::Call { name: n2, args: a2, filter: f2 }) => {
            n1.name == n2.name && a1.len() == a2.len() && f1.is_some() == f2.is_some()
        }
        (ExprKind::Unary { op: o1, .. }, ExprKind::Unary { op: o2, .. }) => o1 == o2,
        (ExprKind::Binary { op: o1, .. }, ExprKind::Binary { op: o2, .. }) => o1 == o2,
        (ExprKind::IsNull { negated: n1, .. }, ExprKind::IsNull { negated: n2, .. })
        | (ExprKind::Between { negated: n1, .. }, ExprKind::Between { negated: n2, .. })
        | (ExprKind::Like { negated: n1, .. }, ExprKind::Like { negated: n2, .. }) => n1 == n2,
        (ExprKind::InList { negated: n1, list: l1, .. }, ExprKind::InList { negated: n2, list: l2, .. }) => {
            n1 == n2 && l1.len() == l2.len()
        }
        (ExprKind::Case { operand: o1, branches: b1, otherwise: e1 }, ExprKind::Case { operand: o2, branches: b2, otherwise: e2 }) => {
            o1.is_some() == o2.is_some() && b1.len() == b2.len() && e1.is_some() == e2.is_some()
        }
        _ => false,
    };
    head && a.children().count() == b.children().count() && a.children().zip(b.children()).all(|(x, y)| same_shape(x, y))
}
