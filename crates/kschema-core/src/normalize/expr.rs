//! Expressions (defaults, checks, index keys and predicates) in one canonical
//! text, whether they come from a SQL file or from PostgreSQL's deparser.
//!
//! PostgreSQL stores the expression it *analysed*, not the one written:
//! `status IN ('A','B')` comes back as
//! `((status)::text = ANY ((ARRAY['A'::character varying, 'B'::character varying])::text[]))`.
//! Both are parsed with sqlparser and rewritten to one form:
//!
//! - parentheses are dropped, then put back around every compound operand;
//! - identifiers and function names fold like PostgreSQL's; types are spelled
//!   the `format_type()` way;
//! - casts PostgreSQL adds on its own are dropped: a literal cast to the type
//!   it is compared with or assigned to, casts between string types, a
//!   numeric literal cast to a numeric type;
//! - `IN (…)`, `BETWEEN`, `LIKE` and negative numbers are written the way the
//!   deparser writes them.
//!
//! The result is idempotent: canonicalizing canonical text returns it
//! unchanged (a unit test holds that over a corpus).
//!
//! Longer than ~600 lines: one rewrite pass and its corpus of unit tests;
//! with the desired side normalized by PostgreSQL it only canonicalizes the
//! catalog's deparse, and it shrinks once recorded shapes can be re-read.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use sqlparser::ast::{
    visit_expressions_mut, Array, BinaryOperator, CastKind, DataType, Expr, FunctionArguments,
    Ident as SqlIdent, ObjectName, ObjectNamePart, UnaryOperator, Value,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::types::normalize_type;
use crate::ident::{needs_quotes, Ident};
use crate::model::ColumnType;

/// What an expression is evaluated against.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExprContext<'a> {
    /// The types of the columns of the table the expression belongs to.
    pub columns: Option<&'a BTreeMap<Ident, ColumnType>>,
    /// For a default: the type of the column it is assigned to.
    pub assigned_to: Option<&'a ColumnType>,
}

impl ExprContext<'_> {
    fn column_type(&self, name: &str) -> Option<&ColumnType> {
        self.columns?.get(&Ident::new(name))
    }
}

/// How deep an expression tree may get (estimated from its tokens, see
/// [`check_nesting`]). Every pass over an expression — sqlparser's own
/// printing and visiting, and the rewrites here — recurses once per level,
/// so an unbounded `0 + 1 + 1 + …` would overflow the stack.
pub const MAX_EXPRESSION_DEPTH: usize = 1000;

/// Refuses SQL whose expressions would nest deeper than
/// `limit`. The estimate is an upper bound read off the
/// tokens: each operator adds a level to the group (parenthesis) it is in,
/// groups add up along the path to the innermost one, and a comma starts a
/// new sibling expression. Returns the 1-based line and column where the
/// limit was passed.
pub fn check_nesting(text: &str, limit: usize) -> Result<(), (u64, u64)> {
    match sqlparser::tokenizer::Tokenizer::new(&PostgreSqlDialect {}, text).tokenize_with_location()
    {
        Ok(tokens) => check_nesting_in(&tokens, limit),
        // The parser reports the error itself.
        Err(_) => Ok(()),
    }
}

/// [`check_nesting`] over tokens already made.
pub fn check_nesting_in(
    tokens: &[sqlparser::tokenizer::TokenWithSpan],
    limit: usize,
) -> Result<(), (u64, u64)> {
    use sqlparser::keywords::Keyword;
    use sqlparser::tokenizer::Token;
    // Operators so far in each open group, outermost first.
    let mut groups: Vec<usize> = vec![0];
    let mut depth = 0usize;
    for token in tokens {
        match &token.token {
            Token::LParen | Token::LBracket => {
                groups.push(0);
                depth += 1;
            }
            Token::RParen | Token::RBracket => {
                if groups.len() > 1 {
                    depth -= groups.pop().unwrap_or(0) + 1;
                }
            }
            Token::Comma | Token::SemiColon => {
                if let Some(last) = groups.last_mut() {
                    depth -= *last;
                    *last = 0;
                }
            }
            Token::Word(word)
                if matches!(
                    word.keyword,
                    Keyword::AND
                        | Keyword::OR
                        | Keyword::NOT
                        | Keyword::IS
                        | Keyword::LIKE
                        | Keyword::ILIKE
                        | Keyword::SIMILAR
                        | Keyword::BETWEEN
                        | Keyword::IN
                        | Keyword::COLLATE
                ) && word.quote_style.is_none() =>
            {
                if let Some(last) = groups.last_mut() {
                    *last += 1;
                    depth += 1;
                }
            }
            Token::Whitespace(_) | Token::Word(_) | Token::Number(..) => {}
            Token::SingleQuotedString(_) | Token::DollarQuotedString(_) => {}
            _ => {
                if let Some(last) = groups.last_mut() {
                    *last += 1;
                    depth += 1;
                }
            }
        }
        if depth > limit {
            return Err((token.span.start.line, token.span.start.column));
        }
    }
    Ok(())
}

/// Parses expression text (PostgreSQL's deparse or canonical text).
pub fn parse_expr(text: &str) -> Result<Expr, String> {
    // PostgreSQL's deparse puts every operation in parentheses, which the
    // estimate counts as well: twice the files' limit is the same tree.
    let limit = 2 * MAX_EXPRESSION_DEPTH + 2;
    if check_nesting(text, limit).is_err() {
        return Err(format!(
            "the expression nests more than {MAX_EXPRESSION_DEPTH} operators deep, more than kschema handles"
        ));
    }
    Parser::new(&PostgreSqlDialect {})
        .with_recursion_limit(limit + 50)
        .try_with_sql(text)
        .and_then(|mut parser| parser.parse_expr())
        .map_err(|e| e.to_string())
}

/// The canonical text of expression text.
pub fn canonicalize_text(text: &str, ctx: ExprContext<'_>) -> Result<String, String> {
    Ok(canonicalize(parse_expr(text)?, ctx))
}

/// The canonical text of a parsed expression.
pub fn canonicalize(mut expr: Expr, ctx: ExprContext<'_>) -> String {
    let _ = visit_expressions_mut(&mut expr, |e| {
        rewrite(e, ctx);
        ControlFlow::<()>::Continue(())
    });
    if let Some(target) = ctx.assigned_to {
        strip_cast_to(&mut expr, target);
    }
    let _ = visit_expressions_mut(&mut expr, |e| {
        parenthesize_operands(e);
        ControlFlow::<()>::Continue(())
    });
    expr.to_string()
}

/// One bottom-up rewrite step: children are already canonical.
fn rewrite(e: &mut Expr, ctx: ExprContext<'_>) {
    match e {
        Expr::Nested(inner) => *e = take(inner),
        Expr::Identifier(ident) => fold_ident(ident),
        Expr::CompoundIdentifier(parts) => parts.iter_mut().for_each(fold_ident),
        // `CURRENT_USER`, `CURRENT_TIMESTAMP` and their kin are keywords
        // with no argument list: quoted, they would name a column.
        Expr::Function(function) if matches!(function.args, FunctionArguments::None) => {}
        Expr::Function(function) => {
            let unqualified = function.name.0.len() == 1;
            for part in &mut function.name.0 {
                if let ObjectNamePart::Identifier(ident) = part {
                    let bare = ident.quote_style.is_none();
                    fold_ident(ident);
                    // `COALESCE(…)`, `GREATEST(…)` and their kin are the
                    // grammar's, not functions: quoted, they would call a
                    // function of that name, which does not exist.
                    if unqualified && bare && GRAMMAR_CALLS.contains(&ident.value.as_str()) {
                        ident.quote_style = None;
                    }
                }
            }
        }
        Expr::Value(v) => {
            if let Value::EscapedStringLiteral(s)
            | Value::DollarQuotedString(sqlparser::ast::DollarQuotedString {
                value: s, ..
            }) = &v.value
            {
                v.value = Value::SingleQuotedString(s.clone());
            }
        }
        Expr::TypedString(typed) => {
            let value = Expr::Value(typed.value.clone());
            *e = Expr::Cast {
                kind: CastKind::DoubleColon,
                expr: Box::new(value),
                data_type: typed.data_type.clone(),
                format: None,
            };
            rewrite(e, ctx);
        }
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => {
            if let Expr::Value(v) = expr.as_ref() {
                if let Value::Number(n, long) = &v.value {
                    if !n.starts_with('-') {
                        *e = number(format!("-{n}"), *long);
                    }
                }
            }
        }
        Expr::Cast {
            kind,
            expr,
            data_type,
            ..
        } => {
            *kind = CastKind::DoubleColon;
            let target = canonical_type(data_type);
            *data_type = type_as_data_type(&target);
            if let Some(simpler) = implicit_cast(expr, &target, ctx) {
                *e = simpler;
            }
        }
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => {
            // The deparser writes `x BETWEEN a AND b` as `x >= a AND x <= b`.
            let (lo_op, hi_op, join) = if *negated {
                (BinaryOperator::Lt, BinaryOperator::Gt, BinaryOperator::Or)
            } else {
                (
                    BinaryOperator::GtEq,
                    BinaryOperator::LtEq,
                    BinaryOperator::And,
                )
            };
            let left = binary(expr.as_ref().clone(), lo_op, take(low));
            let right = binary(take(expr), hi_op, take(high));
            *e = binary(left, join, right);
        }
        Expr::In {
            expr,
            target: sqlparser::ast::InTarget::List(list),
            negated,
            ..
        } => *e = in_list(take(expr), std::mem::take(list), *negated),
        Expr::Like {
            negated,
            any: false,
            expr,
            pattern,
            escape_char: None,
        } => {
            let op = if *negated {
                BinaryOperator::PGNotLikeMatch
            } else {
                BinaryOperator::PGLikeMatch
            };
            *e = binary(take(expr), op, take(pattern));
        }
        Expr::ILike {
            negated,
            any: false,
            expr,
            pattern,
            escape_char: None,
        } => {
            let op = if *negated {
                BinaryOperator::PGNotILikeMatch
            } else {
                BinaryOperator::PGILikeMatch
            };
            *e = binary(take(expr), op, take(pattern));
        }
        Expr::BinaryOp { left, right, .. } => {
            // `col = '…'`: PostgreSQL resolves the literal to the column's
            // type and prints the cast; the author did not write one.
            strip_literal_cast_beside_column(left, right, ctx);
            strip_literal_cast_beside_column(right, left, ctx);
        }
        _ => {}
    }
}

/// `x IN (a, b)` → `x = ANY (ARRAY[a, b])` when the list is constant, as the
/// planner's parse analysis does; `x IN (a)` → `x = a`.
fn in_list(expr: Expr, list: Vec<Expr>, negated: bool) -> Expr {
    let op = if negated {
        BinaryOperator::NotEq
    } else {
        BinaryOperator::Eq
    };
    if list.len() == 1 {
        return binary(
            expr,
            op,
            list.into_iter().next().unwrap_or(Expr::value(Value::Null)),
        );
    }
    if list.iter().all(is_constant) {
        let right = Box::new(Expr::Array(Array {
            elem: list,
            named: true,
        }));
        return if negated {
            Expr::AllOp {
                left: Box::new(expr),
                compare_op: op,
                right,
            }
        } else {
            Expr::AnyOp {
                left: Box::new(expr),
                compare_op: op,
                right,
                is_some: false,
            }
        };
    }
    let join = if negated {
        BinaryOperator::And
    } else {
        BinaryOperator::Or
    };
    let mut items = list
        .into_iter()
        .map(|item| binary(expr.clone(), op.clone(), item));
    let first = items.next().unwrap_or(Expr::value(Value::Null));
    items.fold(first, |acc, next| binary(acc, join.clone(), next))
}

fn is_constant(e: &Expr) -> bool {
    match e {
        Expr::Value(_) => true,
        Expr::Cast { expr, .. } => is_constant(expr),
        _ => false,
    }
}

/// A cast the author did not need to write, if `expr::target` is one.
fn implicit_cast(expr: &Expr, target: &ColumnType, ctx: ExprContext<'_>) -> Option<Expr> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) if target.is_string() => Some(string(s.clone())),
            Value::SingleQuotedString(s) if is_numeric_type(target) && is_number(s) => {
                Some(number(s.clone(), false))
            }
            Value::Number(..) if is_numeric_type(target) => Some(expr.clone()),
            _ => None,
        },
        // `(status)::text` on a varchar column: a relabeling, not a
        // conversion. On a `citext` or `character` column it converts
        // (comparison turns case-sensitive, trailing blanks go): kept.
        Expr::Identifier(ident) if target.is_string() => {
            let column = ctx.column_type(&ident.value)?;
            matches!(column.name(), "character varying" | "text")
                .then(|| expr.clone())
        }
        Expr::Array(array) if target.is_array() && is_string_array(target) => array
            .elem
            .iter()
            .all(|item| matches!(item, Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_))))
            .then(|| expr.clone()),
        _ => None,
    }
}

fn strip_literal_cast_beside_column(column: &Expr, other: &mut Expr, ctx: ExprContext<'_>) {
    let Expr::Identifier(ident) = column else {
        return;
    };
    let Some(column_type) = ctx.column_type(&ident.value) else {
        return;
    };
    strip_cast_to(other, column_type);
}

/// Drops a cast of a string literal to `target` (modifiers aside).
fn strip_cast_to(e: &mut Expr, target: &ColumnType) {
    if let Expr::Cast {
        expr, data_type, ..
    } = e
    {
        let is_literal = matches!(expr.as_ref(), Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_)));
        if is_literal && canonical_type(data_type).base() == target.base() {
            *e = take(expr);
        }
    }
}

fn is_numeric_type(t: &ColumnType) -> bool {
    matches!(
        t.base().as_str(),
        "smallint" | "integer" | "bigint" | "numeric" | "real" | "double precision"
    )
}

fn is_string_array(t: &ColumnType) -> bool {
    t.is_array() && t.element().is_string()
}

fn is_number(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|&c| c == '.').count() <= 1
}

/// A cast target in canonical spelling; unknown types keep their text.
fn canonical_type(data_type: &DataType) -> ColumnType {
    if let DataType::Custom(name, modifiers) = data_type {
        // Our own output (see `type_as_data_type`), or a lower-case custom
        // type name: already canonical.
        if let ([ObjectNamePart::Identifier(ident)], true) =
            (name.0.as_slice(), modifiers.is_empty())
        {
            if ident.quote_style.is_none() && ident.value == ident.value.to_ascii_lowercase() {
                return ColumnType::parse(&ident.value);
            }
        }
    }
    normalize_type(data_type)
        .map(|t| t.data_type)
        .unwrap_or_else(|_| ColumnType::parse(&data_type.to_string().to_ascii_lowercase()))
}

/// A canonical type as an AST node that displays as its text.
fn type_as_data_type(t: &ColumnType) -> DataType {
    DataType::Custom(
        ObjectName(vec![ObjectNamePart::Identifier(SqlIdent::new(
            t.to_string(),
        ))]),
        vec![],
    )
}

/// Every operand that is itself an operation gets parentheses, so the text
/// says the tree's shape whatever the author's or the deparser's parentheses.
fn parenthesize_operands(e: &mut Expr) {
    match e {
        Expr::BinaryOp { left, right, .. } => {
            wrap_if_compound(left);
            wrap_if_compound(right);
        }
        Expr::AnyOp { left, right, .. } | Expr::AllOp { left, right, .. } => {
            wrap_if_compound(left);
            wrap_if_compound(right);
        }
        Expr::UnaryOp { expr, .. }
        | Expr::IsNull(expr)
        | Expr::IsNotNull(expr)
        | Expr::IsTrue(expr)
        | Expr::IsNotTrue(expr)
        | Expr::IsFalse(expr)
        | Expr::IsNotFalse(expr)
        | Expr::IsUnknown(expr)
        | Expr::IsNotUnknown(expr)
        | Expr::Cast { expr, .. } => wrap_if_compound(expr),
        Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) => {
            wrap_if_compound(a);
            wrap_if_compound(b);
        }
        _ => {}
    }
}

fn wrap_if_compound(e: &mut Box<Expr>) {
    let compound = matches!(
        e.as_ref(),
        Expr::BinaryOp { .. }
            | Expr::UnaryOp { .. }
            | Expr::AnyOp { .. }
            | Expr::AllOp { .. }
            | Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::IsTrue(_)
            | Expr::IsNotTrue(_)
            | Expr::IsFalse(_)
            | Expr::IsNotFalse(_)
            | Expr::IsUnknown(_)
            | Expr::IsNotUnknown(_)
            | Expr::IsDistinctFrom(..)
            | Expr::IsNotDistinctFrom(..)
            | Expr::In { .. }
            | Expr::Between { .. }
            | Expr::Like { .. }
            | Expr::ILike { .. }
            | Expr::SimilarTo { .. }
            | Expr::AtTimeZone { .. }
            | Expr::Collate { .. }
    );
    if compound {
        let inner = std::mem::replace(e.as_mut(), Expr::value(Value::Null));
        **e = Expr::Nested(Box::new(inner));
    }
}

/// Keywords PostgreSQL's grammar reads as calls of its own
/// (`func_expr_common_subexpr`) and that have no function of their name.
const GRAMMAR_CALLS: &[&str] = &[
    "coalesce",
    "greatest",
    "least",
    "nullif",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
];

/// Folds an identifier as PostgreSQL does and quotes it only if needed.
fn fold_ident(ident: &mut SqlIdent) {
    let folded = Ident::from_sql(&ident.value, ident.quote_style.is_some());
    ident.quote_style = needs_quotes(folded.as_str()).then_some('"');
    ident.value = folded.as_str().to_string();
}

fn take(e: &mut Box<Expr>) -> Expr {
    std::mem::replace(e.as_mut(), Expr::value(Value::Null))
}

fn binary(left: Expr, op: BinaryOperator, right: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(left),
        op,
        right: Box::new(right),
    }
}

fn number(text: String, long: bool) -> Expr {
    Expr::value(Value::Number(text, long))
}

fn string(text: String) -> Expr {
    Expr::value(Value::SingleQuotedString(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> BTreeMap<Ident, ColumnType> {
        [
            ("status", "character varying(20)"),
            ("e", "text"),
            ("d", "numeric(10,2)"),
            ("j", "integer"),
            ("k", "character varying(10)"),
            ("data", "jsonb"),
            ("created_at", "timestamp without time zone"),
            ("ci", "citext"),
        ]
        .into_iter()
        .map(|(n, t)| (Ident::new(n), ColumnType::parse(t)))
        .collect()
    }

    fn canon(text: &str) -> String {
        let cols = columns();
        canonicalize_text(
            text,
            ExprContext {
                columns: Some(&cols),
                assigned_to: None,
            },
        )
        .unwrap()
    }

    fn canon_default(text: &str, ty: &str) -> String {
        let t = ColumnType::parse(ty);
        canonicalize_text(
            text,
            ExprContext {
                columns: None,
                assigned_to: Some(&t),
            },
        )
        .unwrap()
    }

    /// Each pair: what an author writes, what PostgreSQL 15 deparses.
    #[test]
    fn authored_and_deparsed_forms_agree() {
        let checks = [
            ("d > 0", "(d > (0)::numeric)"),
            ("e IN ('x','y')", "(e = ANY (ARRAY['x'::text, 'y'::text]))"),
            (
                "status IN ('A', 'B')",
                "((status)::text = ANY ((ARRAY['A'::character varying, 'B'::character varying])::text[]))",
            ),
            ("j BETWEEN 1 AND 10", "((j >= 1) AND (j <= 10))"),
            (
                "length(k) > 2 AND k LIKE 'a%'",
                "((length((k)::text) > 2) AND ((k)::text ~~ 'a%'::text))",
            ),
            ("j IS NOT NULL", "(j IS NOT NULL)"),
            ("\"j\" <> 5", "(j <> 5)"),
            ("data <> '{}'", "(data <> '{}'::jsonb)"),
            ("status = 'A'", "((status)::text = 'A'::text)"),
        ];
        for (authored, deparsed) in checks {
            assert_eq!(
                canon(authored),
                canon(deparsed),
                "{authored}  vs  {deparsed}"
            );
        }
        let defaults = [
            (
                "'ACTIVE'",
                "'ACTIVE'::character varying",
                "character varying(20)",
            ),
            ("NOW()", "now()", "timestamp without time zone"),
            ("FALSE", "false", "boolean"),
            ("-1", "'-1'::integer", "integer"),
            ("'{}'", "'{}'::jsonb", "jsonb"),
            ("'2020-01-01'", "'2020-01-01'::date", "date"),
            ("DATE '2020-01-01'", "'2020-01-01'::date", "date"),
            (
                "CURRENT_TIMESTAMP",
                "CURRENT_TIMESTAMP",
                "timestamp with time zone",
            ),
            ("'it''s'", "'it''s'::text", "text"),
            ("'{}'", "'{}'::text[]", "text[]"),
            ("0", "0", "numeric(10,2)"),
            ("1.5", "1.5", "double precision"),
            ("gen_random_uuid()", "gen_random_uuid()", "uuid"),
        ];
        for (authored, deparsed, ty) in defaults {
            assert_eq!(
                canon_default(authored, ty),
                canon_default(deparsed, ty),
                "{authored}  vs  {deparsed}"
            );
        }
    }

    /// `COALESCE` and its kin are grammar, not functions: their canonical
    /// text calls them bare, as PostgreSQL can run it (a quoted
    /// `"coalesce"(…)` names a function that does not exist); a function
    /// quoted by its author stays quoted.
    #[test]
    fn grammar_calls_stay_unquoted() {
        assert_eq!(canon("COALESCE(j, 0)"), "coalesce(j, 0)");
        assert_eq!(
            canon("GREATEST(LEAST(j, 2), NULLIF(j, 1))"),
            "greatest(least(j, 2), nullif(j, 1))"
        );
        assert_eq!(canon("\"coalesce\"(j, 0)"), "\"coalesce\"(j, 0)");
        assert_eq!(canon("\"Left\"(k, 2)"), "\"Left\"(k, 2)");
    }

    /// A cast of a `citext` column to `text` changes what it compares
    /// (case matters again): an index on it is not one on the column.
    #[test]
    fn a_cast_that_converts_a_column_stays() {
        assert_eq!(canon("(ci)::text"), "ci::text");
        assert_eq!(canon("(status)::text"), "status");
    }

    #[test]
    fn different_expressions_stay_different() {
        assert_ne!(canon("j > 1"), canon("j >= 1"));
        assert_ne!(canon("(j + 1) * 2 > 0"), canon("j + 1 * 2 > 0"));
        assert_ne!(canon("e IN ('x','y')"), canon("e IN ('x','z')"));
        assert_ne!(
            canon_default("now()", "timestamp without time zone"),
            canon_default("CURRENT_TIMESTAMP", "timestamp without time zone")
        );
        assert_ne!(canon_default("'A'", "text"), canon_default("'a'", "text"));
    }

    #[test]
    fn canonical_text_is_a_fixed_point() {
        let corpus = [
            "(d > (0)::numeric)",
            "((status)::text = ANY ((ARRAY['A'::character varying, 'B'::character varying])::text[]))",
            "j BETWEEN 1 AND 10",
            "NOT (j > 1 OR j < -5)",
            "lower((k)::text)",
            "(created_at > '2020-01-01 00:00:00'::timestamp without time zone)",
            "coalesce(j, 0) + 1 > 2",
            "e NOT IN ('a', 'b')",
            "k ILIKE '%x%'",
            "nextval('t_id_seq'::regclass)",
            "CASE WHEN j > 1 THEN 'a' ELSE 'b' END = 'a'",
        ];
        for text in corpus {
            let once = canon(text);
            assert_eq!(canon(&once), once, "not idempotent for {text}");
        }
    }
}
