//! The desired model in PostgreSQL's own words: the desired state was
//! materialized on a real server and read back with the live side's catalog
//! code (`stored`); every comparable part of the desired model — types,
//! `NOT NULL`, defaults, constraint and index definitions, the names
//! PostgreSQL chose for unnamed ones, sequences — is taken from there, so
//! both sides of a diff are PostgreSQL's canonical form and no guess about
//! what the analyzer stores can make a false diff.
//!
//! What the catalog does not know stays the author's: the text of each
//! expression (`sql`, used in generated statements and shown in plans),
//! `implicit_name` (an unnamed constraint still matches a live one of the
//! same definition under another name) and `validated` (`NOT VALID` as
//! declared).

use std::collections::{BTreeMap, BTreeSet};

use crate::ident::Ident;
use crate::model::{
    CompositeType, ConstraintKind, Domain, EventTrigger, Function, Index, IndexExpr,
    PartitionColumn, Policy, SchemaModel, SqlExpr, Table, Trigger, View,
};

/// `desired` with everything comparable taken from `stored`, its
/// materialized and re-read form. An object the server did not store is an
/// error: the materialization and the model disagree, which is a bug.
pub fn adopt_stored(desired: &SchemaModel, stored: &SchemaModel) -> Result<SchemaModel, String> {
    let mut adopted = SchemaModel {
        rows: desired.rows.clone(),
        ..SchemaModel::default()
    };
    for (name, table) in &desired.tables {
        let stored_table = stored
            .tables
            .get(name)
            .ok_or_else(|| format!("table {name} was not stored"))?;
        adopted
            .tables
            .insert(name.clone(), adopt_table(table, stored_table)?);
    }
    let mut unclaimed: BTreeMap<&Ident, &Index> = stored.indexes.iter().collect();
    let mut pairs: Vec<(&Index, &Index)> = Vec::new();
    // By name first, then unnamed ones by definition (PostgreSQL chose
    // their names), as the diff would pair them.
    for index in desired.indexes.values() {
        if let Some(found) = unclaimed.remove(&index.name) {
            pairs.push((index, found));
        }
    }
    for index in desired.indexes.values() {
        if pairs.iter().any(|(d, _)| d.name == index.name) {
            continue;
        }
        let on_table = |s: &&&Index| s.table == index.table;
        let found = unclaimed
            .values()
            .filter(on_table)
            .find(|s| s.same_definition(index))
            .or_else(|| {
                unclaimed
                    .values()
                    .filter(on_table)
                    .find(|s| s.key_columns().eq(index.key_columns()))
            })
            .map(|s| s.name.clone())
            .and_then(|name| unclaimed.remove(&name))
            .ok_or_else(|| format!("index {} was not stored", index.name))?;
        pairs.push((index, found));
    }
    for (index, found) in pairs {
        let mut taken = found.clone();
        taken.implicit_name = index.implicit_name;
        if !index.implicit_name {
            taken.name = index.name.clone();
        }
        restore_index_texts(&mut taken, index);
        adopted.indexes.insert(taken.name.clone(), taken);
    }
    for name in desired.sequences.keys() {
        let sequence = stored
            .sequences
            .get(name)
            .ok_or_else(|| format!("sequence {name} was not stored"))?;
        adopted.sequences.insert(name.clone(), sequence.clone());
    }
    adopted.functions = adopt_functions(desired, stored)?;
    // What the files' GRANTs and REVOKEs left, for the roles they manage.
    adopted.privileges = crate::model::Privileges {
        managed_roles: desired.privileges.managed_roles.clone(),
        grants: stored.privileges.grants.clone(),
    };
    // What the files' comments left (an extension's own included).
    adopted.comments = stored.comments.clone();
    // What PostgreSQL stores, with the author's statement.
    for (name, view) in &desired.views {
        let stored_view = stored
            .views
            .get(name)
            .ok_or_else(|| format!("view {name} was not stored"))?;
        adopted.views.insert(
            name.clone(),
            View {
                sql: view.sql.clone(),
                ..stored_view.clone()
            },
        );
    }
    // As declared: a version or schema the files leave out is whatever the
    // server chose, here and on the target.
    for (name, extension) in &desired.extensions {
        if !stored.extensions.contains_key(name) {
            return Err(format!("extension {name} was not stored"));
        }
        adopted.extensions.insert(name.clone(), extension.clone());
    }
    for (name, domain) in &desired.domains {
        let stored_domain = stored
            .domains
            .get(name)
            .ok_or_else(|| format!("domain {name} was not stored"))?;
        adopted.domains.insert(
            name.clone(),
            Domain {
                sql: domain.sql.clone(),
                ..stored_domain.clone()
            },
        );
    }
    for (name, trigger) in &desired.event_triggers {
        let stored_trigger = stored
            .event_triggers
            .get(name)
            .ok_or_else(|| format!("event trigger {name} was not stored"))?;
        adopted.event_triggers.insert(
            name.clone(),
            EventTrigger {
                sql: trigger.sql.clone(),
                ..stored_trigger.clone()
            },
        );
    }
    for (name, composite) in &desired.composites {
        let stored_composite = stored
            .composites
            .get(name)
            .ok_or_else(|| format!("type {name} was not stored"))?;
        adopted.composites.insert(
            name.clone(),
            CompositeType {
                sql: composite.sql.clone(),
                ..stored_composite.clone()
            },
        );
    }
    for name in desired.enums.keys() {
        let stored_enum = stored
            .enums
            .get(name)
            .ok_or_else(|| format!("type {name} was not stored"))?;
        adopted.enums.insert(name.clone(), stored_enum.clone());
    }
    Ok(adopted)
}

/// A partition's own defaults as a column's are: compared in the server's
/// form, run as the files write them (the server's names the scratch
/// schema its type was built in).
fn adopt_partition_columns(desired: &Table, stored: &Table) -> Vec<PartitionColumn> {
    stored
        .partition_columns
        .iter()
        .map(|found| {
            let authored = desired
                .partition_columns
                .iter()
                .find(|c| c.name == found.name)
                .and_then(|c| c.default.as_ref());
            let mut taken = found.clone();
            if let (Some(stored), Some(authored)) = (&mut taken.default, authored) {
                stored.sql = authored.sql.clone();
            }
            taken
        })
        .collect()
}

fn adopt_table(desired: &Table, stored: &Table) -> Result<Table, String> {
    let mut columns = Vec::with_capacity(desired.columns.len());
    for column in &desired.columns {
        let found = stored
            .column(&column.name)
            .ok_or_else(|| format!("column {}.{} was not stored", desired.name, column.name))?;
        let mut taken = found.clone();
        taken.default = match (&found.default, &column.default) {
            (Some(stored), Some(authored)) => Some(SqlExpr {
                canonical: stored.canonical.clone(),
                sql: authored.sql.clone(),
            }),
            // `DEFAULT NULL` is no default at all.
            (stored, _) => stored.clone(),
        };
        if let (Some(stored), Some(authored)) = (&mut taken.generated, &column.generated) {
            stored.sql = authored.sql.clone();
        }
        columns.push(taken);
    }

    // Constraints: named ones by name; unnamed ones take the name the
    // server gave them — by the guessed name when the guess was right, else
    // by definition, else the next one of their kind left.
    let mut unclaimed: BTreeSet<&Ident> = stored.constraints.iter().map(|c| &c.name).collect();
    let by_name = |name: &Ident| stored.constraints.iter().find(|c| &c.name == name);
    let mut constraints = Vec::with_capacity(desired.constraints.len());
    let mut pending = Vec::new();
    for constraint in &desired.constraints {
        match by_name(&constraint.name) {
            Some(found) if unclaimed.remove(&found.name) => constraints.push((constraint, found)),
            _ if constraint.implicit_name => pending.push(constraint),
            _ => {
                return Err(format!(
                    "constraint {} on {} was not stored",
                    constraint.name, desired.name
                ))
            }
        }
    }
    for constraint in pending {
        let same_kind: Vec<&Ident> = unclaimed
            .iter()
            .copied()
            .filter(|name| {
                by_name(name).is_some_and(|s| {
                    std::mem::discriminant(&s.kind) == std::mem::discriminant(&constraint.kind)
                })
            })
            .collect();
        // Several unnamed ones of a kind whose guessed definitions all
        // missed pair in name order: each then carries the server's form of
        // one of them, and the set compares the same.
        let found = same_kind
            .iter()
            .copied()
            .find(|name| by_name(name).is_some_and(|s| s.kind == constraint.kind))
            .or(same_kind.first().copied())
            .and_then(by_name)
            .ok_or_else(|| {
                format!(
                    "constraint {} on {} was not stored",
                    constraint.name, desired.name
                )
            })?;
        unclaimed.remove(&found.name);
        constraints.push((constraint, found));
    }
    let mut constraints: Vec<_> = constraints
        .into_iter()
        .map(|(constraint, found)| {
            let mut taken = found.clone();
            taken.implicit_name = constraint.implicit_name;
            taken.validated = constraint.validated;
            match (&mut taken.kind, &constraint.kind) {
                (
                    ConstraintKind::Check { expr, .. },
                    ConstraintKind::Check { expr: authored, .. },
                )
                | (
                    ConstraintKind::Exclusion { definition: expr },
                    ConstraintKind::Exclusion {
                        definition: authored,
                    },
                ) => expr.sql = authored.sql.clone(),
                _ => {}
            }
            taken
        })
        .collect();
    constraints.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Table {
        name: desired.name.clone(),
        columns,
        constraints,
        comment: stored.comment.clone(),
        unlogged: stored.unlogged,
        replica_identity: stored.replica_identity.clone(),
        options: stored.options.clone(),
        triggers: adopt_triggers(desired, stored)?,
        row_security: stored.row_security,
        // The server's own forms: a bound's literals and a key's columns
        // hold nothing a schema's name could leak into.
        partition_key: stored.partition_key.clone(),
        partition_of: stored.partition_of.clone(),
        partition_columns: adopt_partition_columns(desired, stored),
        tablespace: stored.tablespace.clone(),
        // Read for the live side, where they are taken off and put back.
        function_callers: Vec::new(),
        policies: desired
            .policies
            .iter()
            .map(|policy| {
                let found = stored
                    .policies
                    .iter()
                    .find(|p| p.name == policy.name)
                    .ok_or_else(|| {
                        format!("policy {} on {} was not stored", policy.name, desired.name)
                    })?;
                Ok(Policy {
                    sql: policy.sql.clone(),
                    ..found.clone()
                })
            })
            .collect::<Result<_, String>>()?,
    })
}

/// Each declared trigger as stored, with the author's statement.
fn adopt_triggers(desired: &Table, stored: &Table) -> Result<Vec<Trigger>, String> {
    desired
        .triggers
        .iter()
        .map(|trigger| {
            let found = stored
                .triggers
                .iter()
                .find(|t| t.name == trigger.name)
                .ok_or_else(|| {
                    format!(
                        "trigger {} on {} was not stored",
                        trigger.name, desired.name
                    )
                })?;
            Ok(Trigger {
                sql: trigger.sql.clone(),
                ..found.clone()
            })
        })
        .collect()
}

/// Each declared function as stored (which says its argument types), with
/// the author's statement: found by name and number of arguments (the
/// loader refuses overloads it could not tell apart that way).
fn adopt_functions(desired: &SchemaModel, stored: &SchemaModel) -> Result<Vec<Function>, String> {
    let mut adopted: Vec<Function> = desired
        .functions
        .iter()
        .map(|function| {
            // Overloads of the same count carry the argument types the
            // build read for them; any other is alone with its count.
            let named = !function.arguments.is_empty() && !function.arguments.starts_with('#');
            let found = stored
                .functions
                .iter()
                .find(|f| {
                    f.name == function.name
                        && match named {
                            true => f.arguments == function.arguments,
                            false => f.inputs == function.inputs,
                        }
                })
                .ok_or_else(|| format!("{} {} was not stored", function.kind(), function.name))?;
            Ok(Function {
                sql: function.sql.clone(),
                ..found.clone()
            })
        })
        .collect::<Result<_, String>>()?;
    adopted.sort_by(|a, b| (&a.name, &a.arguments).cmp(&(&b.name, &b.arguments)));
    Ok(adopted)
}

/// The author's text for each expression the index shares with its
/// desired form, position by position.
fn restore_index_texts(taken: &mut Index, authored: &Index) {
    for (key, authored_key) in taken.keys.iter_mut().zip(&authored.keys) {
        if let (IndexExpr::Expression(expr), IndexExpr::Expression(authored_expr)) =
            (&mut key.expr, &authored_key.expr)
        {
            expr.sql = authored_expr.sql.clone();
        }
    }
    if let (Some(predicate), Some(authored)) = (&mut taken.predicate, &authored.predicate) {
        predicate.sql = authored.sql.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Column, ColumnType, Constraint};

    fn expr(canonical: &str, sql: &str) -> SqlExpr {
        SqlExpr {
            canonical: canonical.into(),
            sql: sql.into(),
        }
    }

    fn table(columns: Vec<Column>, constraints: Vec<Constraint>) -> SchemaModel {
        let mut model = SchemaModel::default();
        model.tables.insert(
            Ident::new("t"),
            Table {
                name: Ident::new("t"),
                columns,
                constraints,
                comment: None,
                unlogged: false,
                replica_identity: None,
                options: Vec::new(),
                triggers: Vec::new(),
                row_security: Default::default(),
                policies: Vec::new(),
                partition_key: None,
                partition_of: None,
                partition_columns: Vec::new(),
                tablespace: None,
                function_callers: Vec::new(),
            },
        );
        model
    }

    fn column(name: &str, data_type: &str, default: Option<SqlExpr>) -> Column {
        Column {
            name: Ident::new(name),
            data_type: ColumnType::parse(data_type),
            not_null: false,
            default,
            identity: None,
            identity_options: None,
            sequence_type: None,
            collation: None,
            generated: None,
            comment: None,
        }
    }

    fn check(name: &str, expr: SqlExpr, implicit: bool) -> Constraint {
        Constraint {
            name: Ident::new(name),
            kind: ConstraintKind::Check {
                expr,
                no_inherit: false,
            },
            validated: true,
            implicit_name: implicit,
            options: Vec::new(),
        }
    }

    #[test]
    fn stored_forms_win_and_the_authors_text_stays() {
        let desired = table(
            vec![
                column("a", "int", Some(expr("'2 days'", "INTERVAL '2 days'"))),
                column("b", "integer", Some(expr("NULL", "NULL"))),
            ],
            vec![check("t_a_b_check", expr("a > b", "a > b"), true)],
        );
        let stored = table(
            vec![
                column(
                    "a",
                    "interval",
                    Some(expr("'2 days'::interval", "'2 days'::interval")),
                ),
                column("b", "integer", None),
            ],
            vec![check("t_check", expr("(a > b)", "(a > b)"), false)],
        );
        let adopted = adopt_stored(&desired, &stored).unwrap();
        let t = &adopted.tables[&Ident::new("t")];
        assert_eq!(t.columns[0].data_type.to_string(), "interval");
        let default = t.columns[0].default.as_ref().unwrap();
        assert_eq!(default.canonical, "'2 days'::interval");
        assert_eq!(default.sql, "INTERVAL '2 days'");
        // DEFAULT NULL is no default.
        assert_eq!(t.columns[1].default, None);
        // PostgreSQL's name for the unnamed check, the author's text.
        assert_eq!(t.constraints[0].name.as_str(), "t_check");
        assert!(t.constraints[0].implicit_name);
        match &t.constraints[0].kind {
            ConstraintKind::Check { expr, .. } => {
                assert_eq!(expr.canonical, "(a > b)");
                assert_eq!(expr.sql, "a > b");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_named_constraint_the_server_lacks_is_an_error() {
        let desired = table(vec![], vec![check("c", expr("x", "x"), false)]);
        let stored = table(vec![], vec![]);
        assert!(adopt_stored(&desired, &stored)
            .unwrap_err()
            .contains("constraint c on t"));
    }
}
