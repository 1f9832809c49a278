//! A type created again under its name — an enum whose labels go, a
//! domain on a new base type, a composite type reordered: the old one
//! renamed out of the way, the columns of it (its schema's, and other
//! schemas' of a shared one) converted to the new one — through their
//! text, or as the type says (`convert_column_using`) — the old one
//! dropped.

use crate::definition::{comment_on_object, constraint_sql, create_index, ExprStyle};
use crate::diff::{Change, ConvertedColumn, ForeignColumns, ForeignFunction};
use crate::hazard::{Hazard, HazardKind};
use crate::ident::Ident;
use crate::model::{Attribute, Commented};
use crate::sql::Sql;

use super::ddl::{alter_table, in_schema, set_search_path};
use super::privilege::grant as grant_on;
use super::routine::{create_function, drop_function};

/// How a column's values become the new type's: each value's expression,
/// and how the hazard says it.
pub(super) struct Using<'a> {
    pub value: &'a dyn Fn(&ConvertedColumn) -> Sql,
    /// `, attribute by attribute by name`; empty for a conversion through
    /// the value's text.
    pub how: &'a str,
}

/// A column's value as the new type `to`, through its text (an enum's
/// label, a domain's base value).
pub(super) fn through_text(column: &ConvertedColumn, to: &Ident) -> Sql {
    let suffix = if column.array { "[]" } else { "" };
    Sql::new()
        .text(format!("{}::text{suffix}::", column.column.quoted()))
        .qualified(to)
        .text(suffix)
}

/// `column` converted to the new type `to` by `alter`, each value computed
/// by `using`: its default off first (it may not cast), and the files' put
/// back.
pub(super) fn convert_column_using(
    alter: Sql,
    column: &ConvertedColumn,
    to: &Ident,
    using: Sql,
) -> Vec<Sql> {
    let alter = || {
        alter
            .clone()
            .text(format!(" ALTER COLUMN {} ", column.column.quoted()))
    };
    let mut statements = Vec::new();
    if column.had_default {
        statements.push(alter().text("DROP DEFAULT"));
    }
    let suffix = if column.array { "[]" } else { "" };
    statements.push(
        alter()
            .text("TYPE ")
            .qualified(to)
            .text(format!("{suffix} USING "))
            .append(using),
    );
    if let Some(default) = &column.default {
        statements.push(alter().text(format!("SET DEFAULT {}", default.sql)));
    }
    statements
}

/// The schema's own columns of the type created again (`to`), each value
/// converted by `using`, each with its hazard; `fails_if` says what value
/// the conversion refuses.
fn convert_own_columns(
    columns: &[ConvertedColumn],
    to: &Ident,
    fails_if: &str,
    using: &Using<'_>,
) -> (Vec<Sql>, Vec<Hazard>) {
    let mut statements = Vec::new();
    let mut hazards = Vec::new();
    for column in columns {
        statements.extend(convert_column_using(
            alter_table(&column.table),
            column,
            to,
            (using.value)(column),
        ));
        hazards.push(Hazard::new(
            HazardKind::RewritesTable,
            format!(
                "rewrites {} to convert column {} to the new {to}{}; fails if a row holds {fails_if}",
                column.table, column.column, using.how
            ),
        ));
    }
    (statements, hazards)
}

/// A type created again under its name, in the order every kind shares.
pub(super) struct Recreation<'a> {
    /// Its name (the same before and after).
    pub name: &'a Ident,
    /// `TYPE` or `DOMAIN`, for its `ALTER` and `DROP`.
    pub keyword: &'a str,
    /// What goes before the rename (the indexes comparing an enum's labels,
    /// a domain's checks' names renamed away).
    pub before: Vec<Sql>,
    /// The new type's statement.
    pub create: Sql,
    pub columns: &'a [ConvertedColumn],
    pub foreign: &'a [ForeignColumns],
    pub holders: &'a [(Ident, Attribute)],
    /// What the conversions need made before them and dropped after (a
    /// composite's array holder).
    pub around: (Vec<Sql>, Vec<Sql>),
    pub using: Using<'a>,
    /// What value the conversion refuses.
    pub fails_if: &'a str,
    /// The types built on it created again (`Change::along`): their
    /// statements and hazards.
    pub along: (Vec<Sql>, Vec<Hazard>),
}

/// Other schemas' checks and indexes reading the columns off, the old
/// type renamed away, the new one made, the types holding it turned to it,
/// every column converted, the old type dropped.
pub(super) fn recreate_under_name(recreation: Recreation<'_>) -> (Vec<Sql>, Vec<Hazard>) {
    let Recreation {
        name,
        keyword,
        before,
        create,
        columns,
        foreign,
        holders,
        around: (setup, teardown),
        using,
        fails_if,
        along: (along, along_hazards),
    } = recreation;
    let old = Ident::new(old_name(name));
    let mut statements = drop_foreign_readers(foreign);
    statements.extend(before);
    statements.push(
        Sql::new()
            .text(format!("ALTER {keyword} "))
            .qualified(name)
            .text(format!(" RENAME TO {}", old.quoted())),
    );
    statements.push(create);
    statements.extend(turn_holders(holders));
    // Other schemas' functions on it before the conversions (a converted
    // column's default may call one), but a `BEGIN ATOMIC` body, checked
    // when created, after them.
    // (Those on other schemas' types built on it once those are made
    // again: `recreate_along`.)
    statements.extend(create_foreign_functions(foreign, |f| {
        !f.on_builder && !f.function.atomic_body
    }));
    statements.extend(setup);
    let (converted, mut hazards) = convert_all(columns, foreign, name, fails_if, &using);
    statements.extend(converted);
    statements.extend(teardown);
    statements.extend(create_foreign_functions(foreign, |f| {
        !f.on_builder && f.function.atomic_body
    }));
    hazards.extend(foreign_functions_hazard(foreign, name));
    // Built on the new type, and off the old one before it goes.
    statements.extend(along);
    hazards.extend(along_hazards);
    // Other schemas' checks and indexes reading those columns, once every
    // column they read is converted.
    let (put_back, put_back_hazards) = put_back_foreign_readers(foreign);
    statements.extend(put_back);
    hazards.extend(put_back_hazards);
    statements.push(Sql::new().text(format!("DROP {keyword} ")).qualified(&old));
    (statements, hazards)
}

/// A type created again (`Change::RecreateEnum`, `RecreateDomain`,
/// `RecreateComposite`) with the types built on it: its statements and
/// hazards.
pub(super) fn recreate_type(change: &Change) -> Option<(Vec<Sql>, Vec<Hazard>)> {
    recreate_within(change, None)
}

/// The type created again that a type built on it is created again
/// inside, and whether it is a composite type (its values then convert
/// attribute by attribute by name, a domain's over it too).
#[derive(Clone, Copy)]
pub(super) struct Host<'a> {
    pub name: &'a Ident,
    pub composite: bool,
}

/// [`recreate_type`], inside the recreation of the type `within` it is
/// built on, if any.
fn recreate_within(change: &Change, within: Option<Host>) -> Option<(Vec<Sql>, Vec<Hazard>)> {
    Some(match change {
        Change::RecreateEnum {
            from,
            to,
            columns,
            indexes,
            foreign,
            holders,
            along,
        } => super::enum_type::recreate_enum(
            from,
            to,
            columns,
            indexes,
            foreign,
            holders,
            recreate_along(
                Host {
                    name: &to.name,
                    composite: false,
                },
                along,
                foreign,
            ),
        ),
        Change::RecreateDomain {
            from,
            to,
            columns,
            foreign,
            holders,
            along,
        } => super::domain::recreate_domain(
            from,
            to,
            columns,
            foreign,
            holders,
            recreate_along(
                Host {
                    name: &to.name,
                    composite: false,
                },
                along,
                foreign,
            ),
            within,
        ),
        Change::RecreateComposite {
            from,
            to,
            columns,
            foreign,
            holders,
            along,
        } => super::composite::recreate_composite(
            from,
            to,
            columns,
            foreign,
            holders,
            recreate_along(
                Host {
                    name: &to.name,
                    composite: true,
                },
                along,
                foreign,
            ),
            within,
        ),
        _ => return None,
    })
}

/// The recreations inside `within`'s, in order: its schema's, then other
/// schemas' (of a shared type), on their search path, as they are live,
/// with their composite types holding it turned and their functions on
/// those types created again.
fn recreate_along(
    within: Host,
    along: &[Change],
    foreign: &[ForeignColumns],
) -> (Vec<Sql>, Vec<Hazard>) {
    let mut statements = Vec::new();
    let mut hazards = Vec::new();
    for (more, more_hazards) in along
        .iter()
        .filter_map(|inner| recreate_within(inner, Some(within)))
    {
        statements.extend(more);
        hazards.extend(more_hazards);
    }
    // A fleet's thousands of tables: one hazard for them all.
    let (mut types, mut tables, mut schemas) = (0, 0, 0);
    for other in foreign {
        if other.along.is_empty() && other.holders.is_empty() {
            continue;
        }
        let schema = &other.schema;
        schemas += 1;
        statements.push(in_schema(schema, set_search_path()));
        statements.extend(
            turn_holders(&other.holders)
                .into_iter()
                .map(|sql| in_schema(schema, sql)),
        );
        let mut converted: Vec<&Ident> = Vec::new();
        for inner in &other.along {
            let Some((more, _)) = recreate_within(inner, Some(within)) else {
                continue;
            };
            statements.extend(more.into_iter().map(|sql| in_schema(schema, sql)));
            for built in inner.with_along() {
                types += 1;
                converted.extend(built.converted_columns().iter().map(|c| &c.table));
            }
        }
        converted.sort();
        converted.dedup();
        tables += converted.len();
        statements.push(set_search_path());
    }
    if types > 0 {
        hazards.push(Hazard::new(
            HazardKind::RecreatesObject,
            format!(
                "drops {types} domain(s) or composite type(s) of {schemas} other schema(s) built on {} and creates them again on the new one, as they are live, in this transaction",
                within.name
            ),
        ));
    }
    if tables > 0 {
        hazards.push(Hazard::new(
            HazardKind::RewritesTable,
            format!(
                "rewrites {tables} table(s) of other schemas to convert their columns of those types, in this transaction; fails if a row holds a value the new type refuses"
            ),
        ));
    }
    statements.extend(create_foreign_functions(foreign, |f| f.on_builder));
    (statements, hazards)
}

/// The columns of a type created again (`to`) converted by `using`: its
/// schema's own, then other schemas' of a shared type, with their hazards.
fn convert_all(
    columns: &[ConvertedColumn],
    foreign: &[ForeignColumns],
    to: &Ident,
    fails_if: &str,
    using: &Using<'_>,
) -> (Vec<Sql>, Vec<Hazard>) {
    let (mut statements, mut hazards) = convert_own_columns(columns, to, fails_if, using);
    let (converted, foreign_hazards) = convert_foreign(to, foreign, fails_if, using);
    statements.extend(converted);
    hazards.extend(foreign_hazards);
    (statements, hazards)
}

/// The checks and indexes of other schemas reading their columns of a
/// shared type created again: off before its rename (put back, as they
/// are live, once the columns are converted); and their functions on it,
/// dropped on their schema's search path (their argument types are
/// written for it).
fn drop_foreign_readers(foreign: &[ForeignColumns]) -> Vec<Sql> {
    let mut statements = Vec::new();
    for other in foreign.iter().filter(|other| !other.functions.is_empty()) {
        statements.push(in_schema(&other.schema, set_search_path()));
        for taken in &other.functions {
            statements.push(in_schema(&other.schema, drop_function(&taken.function)));
        }
        statements.push(set_search_path());
    }
    for other in foreign {
        for index in &other.indexes {
            statements.push(in_schema(
                &other.schema,
                Sql::new().text("DROP INDEX ").qualified(&index.name),
            ));
        }
        for (table, check) in &other.checks {
            statements.push(in_schema(
                &other.schema,
                alter_table(table).text(format!(" DROP CONSTRAINT {}", check.name.quoted())),
            ));
        }
    }
    statements
}

/// Other schemas' functions on a shared type created again (`which` of
/// them), as they are live, created again on their schema's search path,
/// with their grants and comment.
fn create_foreign_functions(
    foreign: &[ForeignColumns],
    which: impl Fn(&ForeignFunction) -> bool,
) -> Vec<Sql> {
    let mut statements = Vec::new();
    for other in foreign {
        let schema = &other.schema;
        let mut taken = other.functions.iter().filter(|f| which(f)).peekable();
        if taken.peek().is_none() {
            continue;
        }
        statements.push(in_schema(schema, set_search_path()));
        for taken in taken {
            let function = &taken.function;
            statements.extend(
                create_function(function)
                    .into_iter()
                    .map(|sql| in_schema(schema, sql)),
            );
            for grant in &taken.grants {
                statements.push(in_schema(
                    schema,
                    grant_on(
                        &grant.object,
                        &grant.role,
                        std::slice::from_ref(&grant.privilege),
                        grant.grantable,
                    ),
                ));
            }
            if let Some(comment) = &taken.comment {
                let object = Commented::Function {
                    name: function.name.clone(),
                    arguments: function.arguments.clone(),
                    procedure: function.procedure,
                };
                statements.push(in_schema(schema, comment_on_object(&object, Some(comment))));
            }
        }
        statements.push(set_search_path());
    }
    statements
}

/// What dropping and creating again other schemas' functions on a shared
/// type created again (`to`) costs: privileges given again, calls waiting.
fn foreign_functions_hazard(foreign: &[ForeignColumns], to: &Ident) -> Option<Hazard> {
    let functions: usize = foreign.iter().map(|other| other.functions.len()).sum();
    (functions > 0).then(|| {
        Hazard::new(
            HazardKind::RecreatesObject,
            format!(
                "drops {functions} function(s) of {} other schema(s) taking or returning {to} and creates them again on the new {to}, in this transaction, as they are live (their grants and comments given again); calls to them wait meanwhile",
                foreign.iter().filter(|other| !other.functions.is_empty()).count()
            ),
        )
    })
}

/// Other schemas' columns of a shared type created again (`to`), converted
/// by `using` on their own schema's search path (their defaults, checks
/// and index expressions name their objects bare), then that path left
/// again; `fails_if` says what value the conversion refuses.
fn convert_foreign(
    to: &Ident,
    foreign: &[ForeignColumns],
    fails_if: &str,
    using: &Using<'_>,
) -> (Vec<Sql>, Vec<Hazard>) {
    let mut statements = Vec::new();
    let mut tables = 0;
    // A schema may have only functions on the type (created again apart).
    let foreign: Vec<&ForeignColumns> = foreign.iter().filter(|o| !o.columns.is_empty()).collect();
    for other in &foreign {
        let schema = &other.schema;
        statements.push(in_schema(schema, set_search_path()));
        let mut converted: Vec<&Ident> = Vec::new();
        for column in &other.columns {
            // The table is the other schema's, the type this one's.
            let table = in_schema(schema, alter_table(&column.table));
            statements.extend(convert_column_using(
                table,
                column,
                to,
                (using.value)(column),
            ));
            if !converted.contains(&&column.table) {
                converted.push(&column.table);
            }
        }
        tables += converted.len();
    }
    if foreign.is_empty() {
        return (statements, Vec::new());
    }
    statements.push(set_search_path());
    let hazards = vec![Hazard::new(
        HazardKind::RewritesTable,
        format!(
            "rewrites {tables} table(s) of {} other schema(s) to convert their columns to the new {to}{}, in this transaction; fails if a row holds {fails_if}",
            foreign.len(),
            using.how,
        ),
    )];
    (statements, hazards)
}

/// Other schemas' partitions' own defaults on their columns of a shared
/// type created again (or of their types built on it), which their
/// tables' `DROP DEFAULT` took off, and the checks and indexes reading
/// those columns, put back once every one is converted.
fn put_back_foreign_readers(foreign: &[ForeignColumns]) -> (Vec<Sql>, Vec<Hazard>) {
    let mut statements = Vec::new();
    let (mut checks, mut indexes) = (0, 0);
    // On their schema's search path: their expressions name its objects
    // bare.
    for other in foreign.iter().filter(|o| {
        !o.checks.is_empty() || !o.indexes.is_empty() || !o.partition_defaults.is_empty()
    }) {
        let schema = &other.schema;
        statements.push(in_schema(schema, set_search_path()));
        for (partition, column, default) in &other.partition_defaults {
            statements.push(in_schema(
                schema,
                alter_table(partition).text(format!(
                    " ALTER COLUMN {} SET DEFAULT {}",
                    column.quoted(),
                    default.sql
                )),
            ));
        }
        for (table, check) in &other.checks {
            let add = constraint_sql(
                alter_table(table).text(" ADD "),
                check,
                true,
                ExprStyle::Authored,
            );
            statements.push(in_schema(
                schema,
                match check.validated {
                    true => add,
                    false => add.text(" NOT VALID"),
                },
            ));
            checks += usize::from(check.validated);
        }
        for index in &other.indexes {
            statements.push(in_schema(
                schema,
                create_index(index, false, ExprStyle::Authored),
            ));
            indexes += 1;
        }
    }
    if !statements.is_empty() {
        statements.push(set_search_path());
    }
    let mut hazards = Vec::new();
    if checks > 0 {
        hazards.push(Hazard::new(
            HazardKind::ValidatesConstraint,
            format!("checks the rows of other schemas against {checks} check(s) reading those columns again, in this transaction"),
        ));
    }
    if indexes > 0 {
        hazards.push(Hazard::new(
            HazardKind::BuildsIndex,
            format!("builds {indexes} index(es) of other schemas reading those columns again, in this transaction, writes to their tables waiting"),
        ));
    }
    (statements, hazards)
}

/// The composite types holding a type created again (`holders`, their
/// attributes of it): after the rename their attributes are of the old
/// type; turned to the new one, in place (no column uses those types).
fn turn_holders(holders: &[(Ident, Attribute)]) -> Vec<Sql> {
    holders
        .iter()
        .map(|(holder, attribute)| {
            let collate = attribute
                .collation
                .as_ref()
                .map(|c| format!(" COLLATE {c}"))
                .unwrap_or_default();
            Sql::new()
                .text("ALTER TYPE ")
                .qualified(holder)
                .text(format!(
                    " ALTER ATTRIBUTE {} TYPE {}{collate}",
                    attribute.name.quoted(),
                    attribute.data_type
                ))
        })
        .collect()
}

/// The old type's name while the new one is built (at most 63 bytes).
pub(super) fn old_name(name: &Ident) -> String {
    crate::ident::with_suffix(name.as_str(), "_kschema_old")
}
