//! `CREATE INDEX`: keys, methods, operator classes, predicates.

use super::*;

impl Loader {
    pub(super) fn index(
        &mut self,
        declared: &Declared<CreateIndex>,
        model: &SchemaModel,
        names: &mut NameChooser,
    ) -> Option<Index> {
        let ast = &declared.ast;
        let file = &declared.file;
        let (table_name, table_span) = self.object_name(file, &ast.table_name, "index table")?;
        let table = match (
            model.tables.get(&table_name),
            self.declared_view(&table_name),
        ) {
            (Some(table), _) => Some(table),
            // A materialized view's columns are PostgreSQL's to read: its
            // index's keys are checked when the desired state is built.
            (None, Some(true)) => None,
            (None, Some(false)) => {
                self.problems.push(
                    Problem::new(
                        "kschema::sql::index_on_view",
                        format!("index on view {table_name}, which holds no rows"),
                    )
                    .at(file, table_span, "a plain view")
                    .with_help("only tables and materialized views take indexes: index the tables the view reads, or make it CREATE MATERIALIZED VIEW"),
                );
                return None;
            }
            (None, None) if self.missing_table_explained(&table_name) => return None,
            (None, None) => {
                self.problems.push(
                    Problem::new("kschema::sql::unknown_table", format!("index on table {table_name}, which is not defined in {}", self.folder()))
                        .at(file, table_span, "no such table here")
                        .with_help("indexes live beside their table: declare the index in the same folder as the table"),
                );
                return None;
            }
        };
        if table.is_none() && self.tablespace_of(declared).is_some() {
            self.unsupported(
                file,
                table_span,
                format!("the tablespace of an index on materialized view {table_name} is not managed yet"),
                "leave TABLESPACE (and SET default_tablespace) out for this index; tables' and their indexes' tablespaces are managed",
            );
            return None;
        }
        let Some(options) = index_storage_parameters(&ast.with) else {
            self.unsupported(
                file,
                table_span,
                "index options other than storage parameters (WITH (name = value, …)) are not supported".into(),
                "write WITH (fillfactor = 70) and the like",
            );
            return None;
        };
        // A partition's columns are its parent's.
        let columns = table.and(model.columns_of(&table_name));
        let column_types: Option<BTreeMap<Ident, ColumnType>> = columns.map(|columns| {
            columns
                .iter()
                .map(|c| (c.name.clone(), c.data_type.clone()))
                .collect()
        });
        let ctx = ExprContext {
            columns: column_types.as_ref(),
            assigned_to: None,
        };
        let mut keys = Vec::new();
        let mut name_parts = Vec::new();
        for column in &ast.columns {
            let expr = &column.column.expr;
            let key_expr = match expr {
                Expr::Identifier(ident) => {
                    let col = Ident::from_sqlparser(ident);
                    if columns.is_some_and(|columns| columns.iter().all(|c| c.name != col)) {
                        self.problems.push(unknown_column(
                            file,
                            ident_span(file, Some(ident)),
                            &table_name,
                            &col,
                        ));
                        return None;
                    }
                    name_parts.push(col.to_string());
                    IndexExpr::Column(col)
                }
                other => {
                    name_parts.push(expression_column_name(other));
                    IndexExpr::Expression(sql_expr(other, ctx))
                }
            };
            let descending = matches!(column.column.options.sort, Some(OrderBySort::Desc));
            keys.push(IndexKey {
                expr: key_expr,
                opclass: column
                    .operator_class
                    .as_ref()
                    .and_then(|o| o.0.last())
                    .and_then(|p| p.as_ident())
                    .map(Ident::from_sqlparser),
                collation: None,
                descending,
                // PostgreSQL's default: NULLS LAST ascending, NULLS FIRST descending.
                nulls_first: column.column.options.nulls_first.unwrap_or(descending),
            });
        }
        let explicit = ast
            .name
            .as_ref()
            .and_then(|n| n.0.last())
            .and_then(|p| p.as_ident())
            .map(Ident::from_sqlparser);
        let implicit_name = explicit.is_none();
        let name = explicit.unwrap_or_else(|| {
            Ident::new(names.choose(
                table_name.as_str(),
                Some(&join_column_names(name_parts.iter().map(|s| s.as_str()))),
                "idx",
            ))
        });
        Some(Index {
            name,
            table: table_name,
            unique: ast.unique,
            method: Ident::new(
                ast.using
                    .as_ref()
                    .map(|u| u.to_string().to_ascii_lowercase())
                    .unwrap_or_else(|| "btree".into()),
            ),
            keys,
            include: ast.include.iter().map(Ident::from_sqlparser).collect(),
            predicate: ast.predicate.as_ref().map(|p| sql_expr(p, ctx)),
            nulls_not_distinct: ast.nulls_distinct == Some(false),
            valid: true,
            // Known once every table is (`build`).
            partitioned: false,
            implicit_name,
            options,
            tablespace: self.tablespace_of(declared),
        })
    }
}

/// `WITH (fillfactor = 70, deduplicate_items = off)` as name → value,
/// spelled as PostgreSQL keeps them; `None` when one is not `name = value`.
fn index_storage_parameters(with: &[Expr]) -> Option<Vec<(String, String)>> {
    with.iter()
        .map(|option| match option {
            Expr::BinaryOp {
                left,
                op: sqlparser::ast::BinaryOperator::Eq,
                right,
            } => {
                // A parameter's name is written into statements as it is:
                // only PostgreSQL's own spelling of one.
                let Expr::Identifier(name) = left.as_ref() else {
                    return None;
                };
                let plain = name
                    .value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && name
                        .value
                        .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
                if !plain {
                    return None;
                }
                let value = super::table::storage_parameter_value(right)?;
                Some((name.value.to_lowercase(), value))
            }
            _ => None,
        })
        .collect()
}
