//! Tables from their catalog documents: one parse per distinct document,
//! shared by every schema that holds the table.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{LiveStateBuilder, ParsedTable, RawConstraint, RawTable};
use crate::ident::Ident;
use crate::model::{
    CallerKind, Column, ColumnType, Constraint, ConstraintKind, Deferrable, ForeignKey,
    FunctionCaller, Grant, GrantObject, Identity, Index, IndexExpr, IndexKey, PartitionColumn,
    PartitionOf, Policy, ReferentialAction, ReplicaIdentity, RowSecurity, SchemaName, SchemaRef,
    SqlExpr, Table, TableRef, Trigger, TriggerFiring,
};
use crate::normalize::expr::{canonicalize_text, ExprContext};
use crate::unmanaged::{UnmanagedKind, UnmanagedObject};

/// `reloptions` (`fillfactor=70`) as (name, value), in their order.
pub fn storage_options(options: &[String]) -> Vec<(String, String)> {
    options
        .iter()
        .map(|option| match option.split_once('=') {
            Some((name, value)) => (name.to_string(), value.to_string()),
            None => (option.clone(), String::new()),
        })
        .collect()
}

impl LiveStateBuilder {
    /// One table row: its schema, its name and its JSON document, read
    /// from the table of that name in `read_from` (the one table that
    /// represents all of its shape): definitions that PostgreSQL qualified
    /// with that schema's name are taken without it.
    pub fn add_table(&mut self, schema: &str, table: &str, document: &str, read_from: &str) {
        let known = self.tables_by_document.get(table).and_then(|seen| {
            seen.iter()
                .find(|(text, _)| &**text == document)
                .map(|(_, shared)| shared.clone())
        });
        let shared = match known {
            Some(shared) => shared,
            None => {
                let mut raw = match serde_json::from_str::<RawTable>(document) {
                    Ok(raw) => raw,
                    Err(e) => {
                        self.errors
                            .push(format!("catalog row for {schema}.{table}: {e}"));
                        return;
                    }
                };
                let not_compared = std::mem::take(&mut raw.sequence_notes)
                    .into_iter()
                    .map(|name| UnmanagedObject {
                        kind: UnmanagedKind::SequenceOptions,
                        name,
                    })
                    .collect();
                let (model, indexes, grants) = self.table_from_raw(table, raw, read_from);
                let shared = Arc::new(ParsedTable {
                    table: model,
                    indexes,
                    grants,
                    not_compared,
                });
                self.tables_by_document
                    .entry(table.to_string())
                    .or_default()
                    .push((Arc::from(document), shared.clone()));
                shared
            }
        };
        if !shared.not_compared.is_empty() {
            self.unmanaged
                .entry(SchemaName::new(schema))
                .or_default()
                .extend(shared.not_compared.iter().cloned());
        }
        self.schemas
            .entry(SchemaName::new(schema))
            .or_default()
            .tables
            .push((Ident::new(table), shared));
    }

    pub(super) fn table_from_raw(
        &mut self,
        name: &str,
        mut raw: RawTable,
        read_from: &str,
    ) -> (Table, Vec<Index>, Vec<Grant>) {
        raw.leave_out_schema(read_from);
        let grants: Vec<Grant> = raw
            .grants
            .iter()
            .map(|(column, role, privilege, grantable)| Grant {
                object: match column {
                    Some(column) => GrantObject::Column {
                        table: Ident::new(name),
                        column: Ident::new(column),
                    },
                    None => GrantObject::Table {
                        name: Ident::new(name),
                    },
                },
                role: Ident::new(role),
                privilege: privilege.clone(),
                grantable: *grantable,
            })
            .collect();
        let unlogged = raw.unlogged;
        let tablespace = raw.tablespace.clone().map(Ident::new);
        let mut triggers = Vec::with_capacity(raw.triggers.len());
        for t in &raw.triggers {
            let Some(firing) = TriggerFiring::from_catalog(&t.enabled) else {
                self.errors.push(format!(
                    "trigger {} on {name}: unknown tgenabled {:?}",
                    t.name, t.enabled
                ));
                continue;
            };
            let definition = t.definition.clone();
            triggers.push(Trigger {
                name: Ident::new(&t.name),
                sql: definition.clone(),
                definition,
                constraint: t.constraint,
                own_function: t.own_function.as_ref().map(Ident::new),
                firing,
            });
        }
        let comment = raw.comment.clone();
        let replica_identity = match (raw.replica_identity.as_str(), &raw.replica_index) {
            ("d" | "", _) => None,
            ("f", _) => Some(ReplicaIdentity::Full),
            ("n", _) => Some(ReplicaIdentity::Nothing),
            ("i", Some(index)) => Some(ReplicaIdentity::UsingIndex(Ident::new(index))),
            // Its index was dropped: listed as not compared (unmanaged.sql).
            ("i", None) => None,
            (code, _) => {
                self.errors
                    .push(format!("table {name}: unknown relreplident {code:?}"));
                None
            }
        };
        let options = storage_options(raw.options.as_deref().unwrap_or_default());
        let column_types: BTreeMap<Ident, ColumnType> = raw
            .columns
            .iter()
            .map(|c| (Ident::new(&c.name), ColumnType::parse(&c.data_type)))
            .collect();
        let table_key = serde_json::to_string(&column_types).unwrap_or_default();
        let partition_of = match (raw.partition_of.take(), raw.partition_bound.take()) {
            (Some(parent), Some(bound)) => Some(PartitionOf {
                parent: Ident::new(parent),
                bound: SqlExpr::stored(bound),
            }),
            _ => None,
        };
        let partition_key = raw.partition_key.take().map(SqlExpr::stored);
        // Read as a column's default is (the cast to the column's type, and
        // with it the schema's name, left out), so a partition's reads
        // the same in every tenant and in the desired state.
        let partition_columns = raw
            .partition_columns
            .iter()
            .map(|c| {
                let name = Ident::new(&c.name);
                let default = c
                    .default
                    .clone()
                    .map(|text| self.sql_expr(text, "", column_types.get(&name), None));
                PartitionColumn {
                    name,
                    default,
                    not_null: c.not_null,
                }
            })
            .collect();
        let mut function_callers = Vec::new();
        for user in std::mem::take(&mut raw.function_users) {
            let kind = match user.kind.as_str() {
                "default" => CallerKind::Default,
                "generated" => CallerKind::Generated,
                "constraint" => CallerKind::Constraint,
                "index" => CallerKind::Index,
                other => {
                    self.errors.push(format!(
                        "function caller {}: unknown kind {other:?}",
                        user.name
                    ));
                    continue;
                }
            };
            function_callers.push(FunctionCaller {
                function: Ident::new(user.function),
                schema: user.schema.map(SchemaName::new),
                kind,
                name: Ident::new(user.name),
            });
        }
        // A partition's columns are its parent's.
        let own_columns = if partition_of.is_some() {
            Vec::new()
        } else {
            std::mem::take(&mut raw.columns)
        };
        let columns = own_columns
            .into_iter()
            .map(|c| {
                let data_type = ColumnType::parse(&c.data_type);
                let identity = match (c.identity.as_str(), &c.serial_sequence) {
                    ("a", _) => Some(Identity::Always),
                    ("d", _) => Some(Identity::ByDefault),
                    ("", Some(sequence)) => Some(Identity::Serial {
                        sequence: Ident::new(sequence),
                    }),
                    ("", None) => None,
                    (code, _) => {
                        self.errors.push(format!(
                            "column {name}.{}: unknown attidentity {code:?}",
                            c.name
                        ));
                        None
                    }
                };
                let default = match identity {
                    Some(Identity::Serial { .. }) => None,
                    _ => c
                        .default
                        .map(|text| self.sql_expr(text, "", Some(&data_type), None)),
                };
                let generated = c
                    .generated
                    .map(|text| self.sql_expr(text, &table_key, Some(&data_type), None));
                let mut column = Column {
                    name: Ident::new(c.name),
                    data_type,
                    not_null: c.not_null,
                    default,
                    identity,
                    identity_options: None,
                    sequence_type: c
                        .serial_type
                        .filter(|_| c.serial_sequence.is_some())
                        .map(|text| ColumnType::parse(&text)),
                    collation: c.collation.map(Ident::new),
                    generated,
                    comment: c.comment,
                };
                let own_sequence = if column.is_identity() {
                    c.identity_sequence
                } else {
                    c.serial_options
                };
                column.identity_options = own_sequence
                    .and_then(|options| options.unless_default(column.own_sequence_type()));
                column
            })
            .collect();
        let mut constraints: Vec<Constraint> = raw
            .constraints
            .into_iter()
            .filter_map(|c| self.constraint_from_raw(c, &column_types, &table_key))
            .collect();
        constraints.sort_by(|a, b| a.name.cmp(&b.name));
        let table_name = Ident::new(name);
        let policies = raw
            .policies
            .iter()
            .map(|p| {
                let policy = Ident::new(&p.name);
                Policy {
                    sql: format!(
                        "CREATE POLICY {} ON {} {}",
                        policy.quoted(),
                        table_name.quoted(),
                        p.definition
                    ),
                    name: policy,
                    definition: p.definition.clone(),
                    calls: p.calls.iter().map(Ident::new).collect(),
                    calls_outside: p
                        .calls_outside
                        .iter()
                        .map(|(schema, function)| (SchemaName::new(schema), Ident::new(function)))
                        .collect(),
                    reads_outside: p
                        .reads_outside
                        .iter()
                        .map(|(schema, table, column)| {
                            (
                                SchemaName::new(schema),
                                Ident::new(table),
                                column.as_ref().map(Ident::new),
                            )
                        })
                        .collect(),
                }
            })
            .collect();
        let mut indexes = Vec::with_capacity(raw.indexes.len());
        for i in raw.indexes {
            // A key is a column or an expression; a row with neither fails
            // the read rather than standing for a made-up column.
            let mut keys = Vec::with_capacity(i.keys.len());
            for k in i.keys {
                let expr = match (k.column, k.expr) {
                    (Some(column), _) => IndexExpr::Column(Ident::new(column)),
                    (None, Some(expr)) => IndexExpr::Expression(self.sql_expr(
                        expr,
                        &table_key,
                        None,
                        Some(&column_types),
                    )),
                    (None, None) => {
                        self.errors.push(format!(
                            "index {} on {name}: a key with neither a column nor an expression",
                            i.name
                        ));
                        continue;
                    }
                };
                keys.push(IndexKey {
                    expr,
                    opclass: k.opclass.map(Ident::new),
                    collation: k.collation.map(Ident::new),
                    descending: k.desc,
                    nulls_first: k.nulls_first,
                });
            }
            indexes.push(Index {
                name: Ident::new(i.name),
                table: table_name.clone(),
                unique: i.unique,
                method: Ident::new(i.method),
                keys,
                include: i.include.into_iter().map(Ident::new).collect(),
                predicate: i
                    .predicate
                    .map(|p| self.sql_expr(p, &table_key, None, Some(&column_types))),
                nulls_not_distinct: i.nulls_not_distinct,
                valid: i.valid,
                implicit_name: false,
                partitioned: i.partitioned,
                options: storage_options(i.options.as_deref().unwrap_or_default()),
                tablespace: i.tablespace.map(Ident::new),
            });
        }
        (
            Table {
                name: table_name,
                columns,
                constraints,
                comment,
                unlogged,
                replica_identity,
                options,
                triggers,
                row_security: RowSecurity {
                    enabled: raw.row_security,
                    forced: raw.force_row_security,
                },
                policies,
                partition_key,
                partition_of,
                partition_columns,
                tablespace,
                function_callers,
            },
            indexes,
            grants,
        )
    }

    pub(super) fn constraint_from_raw(
        &mut self,
        raw: RawConstraint,
        column_types: &BTreeMap<Ident, ColumnType>,
        table_key: &str,
    ) -> Option<Constraint> {
        let columns: Vec<Ident> = raw.columns.iter().map(Ident::new).collect();
        let kind = match raw.kind.as_str() {
            "p" => ConstraintKind::PrimaryKey {
                columns,
                include: raw.include.iter().map(Ident::new).collect(),
                deferrable: Deferrable::from_catalog(raw.deferrable, raw.deferred),
            },
            "u" => ConstraintKind::Unique {
                columns,
                include: raw.include.iter().map(Ident::new).collect(),
                nulls_not_distinct: raw.nulls_not_distinct,
                deferrable: Deferrable::from_catalog(raw.deferrable, raw.deferred),
            },
            "c" => ConstraintKind::Check {
                expr: self.sql_expr(
                    raw.check.unwrap_or_default(),
                    table_key,
                    None,
                    Some(column_types),
                ),
                no_inherit: raw.no_inherit,
            },
            "f" => ConstraintKind::ForeignKey(ForeignKey {
                columns,
                references: TableRef {
                    schema: match raw.ref_schema {
                        None => SchemaRef::Own,
                        Some(schema) => SchemaRef::Named(SchemaName::new(schema)),
                    },
                    table: Ident::new(raw.ref_table.unwrap_or_default()),
                },
                referenced_columns: raw.ref_columns.iter().map(Ident::new).collect(),
                on_delete: self.catalog_action(&raw.name, &raw.on_delete)?,
                on_update: self.catalog_action(&raw.name, &raw.on_update)?,
                match_full: self.catalog_match(&raw.name, &raw.match_type)?,
                deferrable: Deferrable::from_catalog(raw.deferrable, raw.deferred),
            }),
            "x" => {
                let definition = raw.definition.unwrap_or_default();
                ConstraintKind::Exclusion {
                    definition: SqlExpr {
                        canonical: definition.clone(),
                        sql: definition,
                    },
                }
            }
            // Trigger constraints are not constraints of a table's model
            // (unmanaged.sql lists their triggers).
            "t" => return None,
            code => {
                self.errors.push(format!(
                    "constraint {:?}: unknown contype {code:?}",
                    raw.name
                ));
                return None;
            }
        };
        Some(Constraint {
            name: Ident::new(raw.name),
            kind,
            validated: raw.validated,
            implicit_name: false,
            options: storage_options(raw.options.as_deref().unwrap_or_default()),
        })
    }

    /// A foreign key's `confdeltype` / `confupdtype`. A code kschema does
    /// not know (a newer PostgreSQL's) is an error, not NO ACTION: the key
    /// would be compared as something it is not.
    fn catalog_action(&mut self, constraint: &str, code: &str) -> Option<ReferentialAction> {
        let action = match code {
            "a" => ReferentialAction::NoAction,
            "r" => ReferentialAction::Restrict,
            "c" => ReferentialAction::Cascade,
            "n" => ReferentialAction::SetNull,
            "d" => ReferentialAction::SetDefault,
            _ => {
                self.errors.push(format!(
                    "foreign key {constraint:?}: unknown referential action {code:?}"
                ));
                return None;
            }
        };
        Some(action)
    }

    /// `confmatchtype`: whether the key is `MATCH FULL` (`s` is SIMPLE, the
    /// default; PostgreSQL does not implement PARTIAL).
    fn catalog_match(&mut self, constraint: &str, code: &str) -> Option<bool> {
        match code {
            "s" | "" => Some(false),
            "f" => Some(true),
            _ => {
                self.errors.push(format!(
                    "foreign key {constraint:?}: unknown match type {code:?}"
                ));
                None
            }
        }
    }

    /// Canonicalizes a deparsed expression, once per distinct (text, context).
    pub(super) fn sql_expr(
        &mut self,
        text: String,
        table_key: &str,
        assigned_to: Option<&ColumnType>,
        columns: Option<&BTreeMap<Ident, ColumnType>>,
    ) -> SqlExpr {
        let assigned = assigned_to.map(ColumnType::to_string).unwrap_or_default();
        let key = (text, format!("{table_key}\u{0}{assigned}"));
        if let Some(canonical) = self.canonical_cache.get(&key) {
            return SqlExpr {
                canonical: canonical.clone(),
                sql: key.0,
            };
        }
        let ctx = ExprContext {
            columns,
            assigned_to,
        };
        // A deparse sqlparser cannot read is kept verbatim: it still compares
        // equal to itself, so it never causes a false difference on re-plan.
        let canonical = canonicalize_text(&key.0, ctx).unwrap_or_else(|_| key.0.clone());
        self.canonical_cache.insert(key.clone(), canonical.clone());
        SqlExpr {
            canonical,
            sql: key.0,
        }
    }
}
