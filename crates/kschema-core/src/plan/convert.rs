//! A type created again under its name — an enum whose labels go, a
//! domain on a new base type, a composite type reordered: the old one
//! renamed out of the way, the columns of it (its schema's, and other
//! schemas' of a shared one) converted to the new one — through their
//! text, or as the type says (`convert_column_using`) — the old one
//! dropped. Other schemas' part of a shared one is `foreign_types`'.

use crate::diff::{Change, ConvertedColumn, ForeignColumns};
use crate::hazard::{Hazard, HazardKind};
use crate::ident::Ident;
use crate::model::Attribute;
use crate::sql::Sql;

use super::ddl::alter_table;
use super::foreign_types::{
    convert_foreign, create_foreign_functions, drop_foreign_readers, foreign_functions_hazard,
    put_back_foreign_readers, recreate_foreign_along,
};

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

/// Other schemas' functions on it and checks and indexes reading their
/// columns of it off, the old type renamed away, the new one made, the
/// types holding it turned to it, every column converted, the functions
/// back, the types built on it made again on it, those checks and indexes
/// back, the old type dropped.
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
    // when created, after them; those on their types built on it once
    // those are made again (`recreate_foreign_along`).
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
pub(super) fn recreate_within(
    change: &Change,
    within: Option<Host>,
) -> Option<(Vec<Sql>, Vec<Hazard>)> {
    let name = change.type_recreated()?;
    // What goes inside it: built on it, so converted as its values are.
    let inside = recreate_along(
        Host {
            name,
            composite: matches!(change, Change::RecreateComposite { .. }),
        },
        change.along(),
        change.foreign(),
    );
    let (mut statements, hazards) = match change {
        Change::RecreateEnum {
            from,
            to,
            columns,
            foreign,
            holders,
            ..
        } => super::enum_type::recreate_enum(from, to, columns, foreign, holders, inside),
        Change::RecreateDomain {
            from,
            to,
            columns,
            foreign,
            holders,
            ..
        } => super::domain::recreate_domain(from, to, columns, foreign, holders, inside, within),
        Change::RecreateComposite {
            from,
            to,
            columns,
            foreign,
            holders,
            ..
        } => super::composite::recreate_composite(
            from, to, columns, foreign, holders, inside, within,
        ),
        _ => return None,
    };
    // What names the old type — an index comparing an enum's labels, a
    // default or index naming it in an expression — off before anything
    // else (the files' come back in their own steps, after).
    let (indexes, defaults) = change.taken_off();
    let taken_off = indexes
        .iter()
        .map(|index| Sql::new().text("DROP INDEX IF EXISTS ").qualified(index))
        .chain(defaults.iter().map(|(table, column)| {
            alter_table(table).text(format!(" ALTER COLUMN {} DROP DEFAULT", column.quoted()))
        }));
    statements.splice(0..0, taken_off);
    Some((statements, hazards))
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
    let (more, more_hazards) = recreate_foreign_along(within, foreign);
    statements.extend(more);
    hazards.extend(more_hazards);
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

/// The composite types holding a type created again (`holders`, their
/// attributes of it): after the rename their attributes are of the old
/// type; turned to the new one, in place (no column uses those types).
pub(super) fn turn_holders(holders: &[(Ident, Attribute)]) -> Vec<Sql> {
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
