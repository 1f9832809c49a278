//! Sequences as SQL: `ALTER SEQUENCE`, a sequence's options, and what a
//! serial column needs around its table's or column's creation — its
//! sequence's type and options set after, or, when PostgreSQL would name
//! it otherwise, the sequence made apart before and owned after.

use crate::ident::Ident;
use crate::model::{Column, Identity, Sequence, Table};
use crate::sql::Sql;

/// `ALTER SEQUENCE s <clauses>`.
pub fn alter_sequence(sequence: &Ident, clauses: &str) -> Sql {
    Sql::new()
        .text("ALTER SEQUENCE ")
        .qualified(sequence)
        .text(format!(" {clauses}"))
}

/// `ALTER SEQUENCE s … RESTART` giving a new serial's sequence (named
/// `sequence`) the type and options `column` declares, when they are not
/// a new serial's: restarted, as it has not counted yet and its first
/// value must be its new start.
pub fn serial_sequence_options(sequence: &Ident, column: &Column) -> Option<Sql> {
    let mut clauses = Vec::new();
    if let Some(data_type) = &column.sequence_type {
        clauses.push(format!("AS {data_type}"));
    }
    clauses.extend(column.identity_sequence().clauses_from(
        &crate::model::SequenceOptions::defaults(column.own_sequence_type(), 1),
    ));
    (!clauses.is_empty())
        .then(|| alter_sequence(sequence, &format!("{} RESTART", clauses.join(" "))))
}

/// A serial's sequence whose name is not the one PostgreSQL would give it
/// (`t_id_seq`): declared apart in the files — a dump's `CREATE SEQUENCE`
/// under another name, a renamed table's say. It is made apart, before
/// its column, so that it gets its name.
pub fn serial_named_apart<'a>(table: &Ident, column: &'a Column) -> Option<&'a Ident> {
    match &column.identity {
        Some(Identity::Serial { sequence })
            if sequence.as_str()
                != crate::normalize::names::make_object_name(
                    table.as_str(),
                    Some(column.name.as_str()),
                    "seq",
                ) =>
        {
            Some(sequence)
        }
        _ => None,
    }
}

/// `CREATE SEQUENCE s AS … ` of a serial named apart, before the column
/// that draws from it.
pub fn serial_sequence_before(table: &Ident, column: &Column) -> Option<Sql> {
    serial_named_apart(table, column).map(|name| create_serial_sequence(name, column))
}

/// `CREATE SEQUENCE name` with every option of `column`'s own sequence.
pub fn create_serial_sequence(name: &Ident, column: &Column) -> Sql {
    let sequence = Sequence {
        name: name.clone(),
        data_type: column.own_sequence_type().clone(),
        options: column.identity_sequence(),
    };
    Sql::new()
        .text("CREATE SEQUENCE ")
        .qualified(name)
        .text(sequence_options(&sequence, true))
}

/// `ALTER SEQUENCE s OWNED BY t.c`.
pub fn sequence_owned_by(sequence: &Ident, table: &Ident, column: &Ident) -> Sql {
    Sql::new()
        .text("ALTER SEQUENCE ")
        .qualified(sequence)
        .text(" OWNED BY ")
        .qualified(table)
        .text(format!(".{}", column.quoted()))
}

/// `"id" integer DEFAULT nextval('s'::regclass) NOT NULL`: a serial named
/// apart, its sequence made before.
pub fn serial_apart_definition(sql: Sql, column: &Column, sequence: &Ident) -> Sql {
    sql.text(format!(
        "{} {} DEFAULT nextval(",
        column.name.quoted(),
        column.data_type
    ))
    .qualified_literal(sequence)
    .text("::regclass) NOT NULL")
}

/// What follows a serial column's creation: its sequence owned by it
/// (named apart), or a new serial's sequence given its type and options.
pub fn serial_sequence_after(table: &Ident, column: &Column) -> Option<Sql> {
    let Some(Identity::Serial { sequence }) = &column.identity else {
        return None;
    };
    match serial_named_apart(table, column) {
        Some(_) => Some(sequence_owned_by(sequence, table, &column.name)),
        None => serial_sequence_options(sequence, column),
    }
}

/// The statements `CREATE TABLE` needs before it (serials' sequences named
/// apart) and after it (their owner; serials' types and options).
pub fn serial_sequences_around(table: &Table) -> (Vec<Sql>, Vec<Sql>) {
    let before = table
        .columns
        .iter()
        .filter_map(|column| serial_sequence_before(&table.name, column))
        .collect();
    let after = table
        .columns
        .iter()
        .filter_map(|column| serial_sequence_after(&table.name, column))
        .collect();
    (before, after)
}

/// ` AS integer INCREMENT BY 1 MINVALUE 1 MAXVALUE … CACHE 1 NO CYCLE`:
/// every option spelled out, as `CREATE SEQUENCE` takes them.
pub fn sequence_options(sequence: &Sequence, with_start: bool) -> String {
    let options = &sequence.options;
    let mut text = format!(
        " AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {}",
        sequence.data_type, options.increment, options.min_value, options.max_value
    );
    if with_start {
        text.push_str(&format!(" START WITH {}", options.start));
    }
    text.push_str(&format!(
        " CACHE {}{}",
        options.cache,
        if options.cycle { " CYCLE" } else { " NO CYCLE" }
    ));
    text
}
