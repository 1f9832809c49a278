//! The names PostgreSQL gives constraints, indexes and sequences nobody
//! named: `users_pkey`, `users_auth0_id_key`, `roles_project_id_fkey`,
//! `t_lower_idx`, `admins_id_seq` — including its 63-byte truncation
//! (`makeObjectName` in `src/backend/commands/indexcmds.c`) and the numeric
//! suffix it adds on a clash (`ChooseRelationName`).

use std::collections::BTreeSet;

use crate::ident::{clip_to_bytes, MAX_IDENT_BYTES};

/// `name1_name2_label`, shortening the longer of the two names first so the
/// whole fits in 63 bytes; the label is never cut.
pub fn make_object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let mut overhead = 0;
    let mut name1_len = name1.len();
    let mut name2_len = name2.map_or(0, |n| {
        overhead += 1; // separating underscore
        n.len()
    });
    if !label.is_empty() {
        overhead += label.len() + 1;
    }
    let available = MAX_IDENT_BYTES.saturating_sub(overhead);
    while name1_len + name2_len > available {
        if name1_len > name2_len {
            name1_len -= 1;
        } else {
            name2_len -= 1;
        }
    }
    let mut name = clip_to_bytes(name1, name1_len).to_string();
    if let Some(name2) = name2 {
        name.push('_');
        name.push_str(clip_to_bytes(name2, name2_len));
    }
    if !label.is_empty() {
        name.push('_');
        name.push_str(label);
    }
    name
}

/// Column names joined with `_`, as `ChooseIndexNameAddition` and
/// `ChooseForeignKeyConstraintNameAddition` do (stopping once the text is
/// longer than any name can be).
pub fn join_column_names<'a>(columns: impl IntoIterator<Item = &'a str>) -> String {
    let mut joined = String::new();
    for column in columns {
        if !joined.is_empty() {
            joined.push('_');
        }
        joined.push_str(column);
        if joined.len() > MAX_IDENT_BYTES {
            break;
        }
    }
    joined
}

/// Names already used in one schema, so a chosen name gets PostgreSQL's
/// numeric suffix on a clash (`t_a_key`, then `t_a_key1`).
#[derive(Debug, Default)]
pub struct NameChooser {
    taken: BTreeSet<String>,
}

impl NameChooser {
    pub fn reserve(&mut self, name: &str) {
        self.taken.insert(name.to_string());
    }

    pub fn choose(&mut self, name1: &str, name2: Option<&str>, label: &str) -> String {
        let mut candidate = make_object_name(name1, name2, label);
        let mut pass = 0;
        while self.taken.contains(&candidate) {
            pass += 1;
            candidate = make_object_name(name1, name2, &format!("{label}{pass}"));
        }
        self.taken.insert(candidate.clone());
        candidate
    }
}

/// The name PostgreSQL gives an index column that is an expression
/// (`FigureIndexColname`): a function call's name (`lower`), a column's,
/// a cast's argument's (or its type's), `case`, `array`, `row`,
/// `coalesce`, `greatest`, `least`, `nullif`; `expr` for anything else.
pub fn index_expression_name(text: &str) -> String {
    let expr = super::expr::parse_expr(text).ok();
    expr.as_ref()
        .and_then(figure_name)
        .unwrap_or_else(|| "expr".to_string())
}

fn figure_name(expr: &sqlparser::ast::Expr) -> Option<String> {
    use sqlparser::ast::{DataType, Expr, ObjectNamePart};
    let last = |name: &sqlparser::ast::ObjectName| {
        name.0
            .last()
            .and_then(ObjectNamePart::as_ident)
            .map(|i| crate::ident::Ident::from_sqlparser(i).as_str().to_string())
    };
    match expr {
        Expr::Identifier(ident) => Some(
            crate::ident::Ident::from_sqlparser(ident)
                .as_str()
                .to_string(),
        ),
        Expr::CompoundIdentifier(parts) => parts
            .last()
            .map(|i| crate::ident::Ident::from_sqlparser(i).as_str().to_string()),
        Expr::Function(function) => last(&function.name),
        Expr::Nested(inner) | Expr::Collate { expr: inner, .. } => figure_name(inner),
        Expr::Cast {
            expr: inner,
            data_type,
            ..
        } => figure_name(inner).or_else(|| match data_type {
            DataType::Custom(name, _) => last(name),
            // The catalog's name of the type, as the grammar maps it.
            other => {
                let spelled = other.to_string().to_ascii_lowercase();
                let base = spelled
                    .split('(')
                    .next()
                    .unwrap_or(&spelled)
                    .trim()
                    .to_string();
                Some(match base.as_str() {
                    "integer" | "int" => "int4".to_string(),
                    "bigint" => "int8".to_string(),
                    "smallint" => "int2".to_string(),
                    "boolean" => "bool".to_string(),
                    "real" => "float4".to_string(),
                    "double precision" => "float8".to_string(),
                    "character varying" => "varchar".to_string(),
                    "character" | "char" => "bpchar".to_string(),
                    "timestamp without time zone" | "timestamp" => "timestamp".to_string(),
                    "timestamp with time zone" => "timestamptz".to_string(),
                    _ => base,
                })
            }
        }),
        Expr::Case { .. } => Some("case".to_string()),
        Expr::Array(_) => Some("array".to_string()),
        Expr::Tuple(_) => Some("row".to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implicit_names_match_postgres() {
        assert_eq!(make_object_name("users", None, "pkey"), "users_pkey");
        assert_eq!(
            make_object_name("users", Some("auth0_id"), "key"),
            "users_auth0_id_key"
        );
        assert_eq!(
            make_object_name("roles", Some("project_id"), "fkey"),
            "roles_project_id_fkey"
        );
        assert_eq!(
            make_object_name(
                "enterprise_module_access",
                Some(&join_column_names(["enterprise_id", "module_id"])),
                "key"
            ),
            "enterprise_module_access_enterprise_id_module_id_key"
        );
    }

    #[test]
    fn long_names_are_cut_to_63_bytes_longer_part_first() {
        // Checked against PostgreSQL 15: CREATE TABLE <60 x a> (<40 x b> int UNIQUE)
        let table = "a".repeat(60);
        let column = "b".repeat(40);
        let name = make_object_name(&table, Some(&column), "key");
        assert_eq!(name.len(), 63);
        assert_eq!(name, format!("{}_{}_key", "a".repeat(29), "b".repeat(29)));
    }

    #[test]
    fn index_expressions_are_named_as_postgresql_names_them() {
        for (expr, name) in [
            ("lower(region)", "lower"),
            ("(a + 1)", "expr"),
            ("((a + 1))::text", "text"),
            ("((a + 1))::integer", "int4"),
            ("(region)::text", "region"),
            ("COALESCE(a, b)", "coalesce"),
            ("CASE WHEN a THEN 1 ELSE 2 END", "case"),
            ("public.f(a)", "f"),
        ] {
            assert_eq!(index_expression_name(expr), name, "{expr}");
        }
    }

    #[test]
    fn clashes_get_a_numeric_suffix() {
        let mut chooser = NameChooser::default();
        chooser.reserve("t_a_key");
        assert_eq!(chooser.choose("t", Some("a"), "key"), "t_a_key1");
        assert_eq!(chooser.choose("t", Some("a"), "key"), "t_a_key2");
    }
}
