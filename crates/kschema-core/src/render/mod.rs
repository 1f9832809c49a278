//! Plans as text people read and SQL psql runs.
//!
//! Just over ~600 lines: `describe` is one line of text per change kind, one
//! `match` over `Change` that grows with each kind; it moves into the kinds'
//! rooms when a kind's description needs more than a line.

pub mod ddl;
pub mod json;
pub mod markdown;
pub mod not_compared;
pub mod sql;
pub mod text;

use crate::diagnostic::first_few;
use crate::diff::{Change, ColumnChange};
use crate::escape::printable;
use crate::model::{Column, ConstraintKind, Identity, SchemaRef};
use crate::plan::ddl::key_text;
use crate::plan::TxMode;

/// `org_a.amounts, org_b.amounts, … and 3 more`.
fn foreign_view_names(views: &[crate::diff::ForeignView]) -> String {
    let names: Vec<String> = views
        .iter()
        .map(|v| format!("{}.{}", v.schema.ident().quoted(), v.view.name.quoted()))
        .collect();
    first_few(&names)
}

/// How many objects `callers` hold, and the first few named.
fn foreign_caller_names(callers: &[crate::diff::ForeignCallers]) -> (usize, String) {
    let all: Vec<String> = callers.iter().flat_map(|c| c.names()).collect();
    (all.len(), first_few(&all))
}

/// "default, constraint, index or policy", in the plural past one.
fn caller_words(count: usize) -> &'static str {
    match count {
        1 => "default, constraint, index or policy",
        _ => "defaults, constraints, indexes or policies",
    }
}

/// A one-line description of a change, with its sign: `+` adds, `-` drops,
/// `~` changes in place. Names and expressions in it are already made
/// printable (no newline or escape sequence from a catalog reaches a reader).
pub fn describe(change: &Change) -> (char, String) {
    let (sign, text) = describe_with_along(change, false);
    (sign, printable(&text).into_owned())
}

/// A change's words and those of the recreations inside it; `nested`
/// inside another's list, its own in brackets, so a reader can tell which
/// list each belongs to.
fn describe_with_along(change: &Change, nested: bool) -> (char, String) {
    let (sign, mut text) = describe_change(change);
    // An enum inside another type's recreation is not built on it: it
    // shares what is built on both (`diff::built_on`).
    let (with, built_on): (Vec<&Change>, Vec<&Change>) = change
        .along()
        .iter()
        .partition(|inner| matches!(inner, Change::RecreateEnum { .. }));
    let mut lists = Vec::new();
    for (words, inner) in [("and with it", with), ("and built on it", built_on)] {
        if !inner.is_empty() {
            let described: Vec<String> = inner
                .iter()
                .map(|c| describe_with_along(c, true).1)
                .collect();
            lists.push(format!("{words}: {}", described.join("; ")));
        }
    }
    if !lists.is_empty() {
        match nested {
            true => text.push_str(&format!(" [{}]", lists.join(", "))),
            false => text.push_str(&format!(", {}", lists.join(", "))),
        }
    }
    (sign, text)
}

fn describe_change(change: &Change) -> (char, String) {
    match change {
        Change::CreateSchema => ('+', "create schema".into()),
        Change::DropForeignViews { views } => (
            '-',
            format!(
                "drop {} view{} of other schemas that read what changes here, created again after it: {}",
                views.len(),
                plural(views.len()),
                foreign_view_names(views)
            ),
        ),
        Change::CreateForeignViews { views } => (
            '+',
            format!(
                "create again {} view{} of other schemas: {}",
                views.len(),
                plural(views.len()),
                foreign_view_names(views)
            ),
        ),
        Change::DropForeignCallers { callers } => {
            let (count, names) = foreign_caller_names(callers);
            (
                '-',
                format!(
                    "take off {count} {} of other schemas that call or read what changes here, put back after it: {names}",
                    caller_words(count)
                ),
            )
        }
        Change::CreateForeignCallers { callers } => {
            let (count, names) = foreign_caller_names(callers);
            (
                '+',
                format!(
                    "put back {count} {} of other schemas: {names}",
                    caller_words(count)
                ),
            )
        }
        Change::SetPersistence { table, unlogged } => (
            '~',
            format!(
                "set table {table} {}",
                if *unlogged { "unlogged" } else { "logged" }
            ),
        ),
        Change::SetComment {
            table,
            column,
            comment,
        } => (
            '~',
            format!(
                "{} comment on {}",
                if comment.is_some() { "set" } else { "remove" },
                match column {
                    None => format!("table {table}"),
                    Some(column) => format!("column {table}.{column}"),
                }
            ),
        ),
        Change::SetReplicaIdentity { table, identity } => (
            '~',
            format!(
                "set replica identity of {table} to {}",
                match identity {
                    None => "default".to_string(),
                    Some(crate::model::ReplicaIdentity::Full) => "full".into(),
                    Some(crate::model::ReplicaIdentity::Nothing) => "nothing".into(),
                    Some(crate::model::ReplicaIdentity::UsingIndex(index)) =>
                        format!("index {index}"),
                }
            ),
        ),
        Change::SetTablespace {
            table,
            index,
            tablespace,
            partitioned,
        } => {
            let to = match tablespace {
                Some(name) => format!("tablespace {name}"),
                None => "the database's default tablespace".into(),
            };
            let text = match (index, partitioned) {
                (Some(index), _) => format!("move index {index} on {table} to {to}"),
                (None, true) => format!("set the tablespace of partitioned table {table} (for its new partitions) to {to}"),
                (None, false) => format!("move table {table} to {to}"),
            };
            ('~', text)
        }
        Change::SetStorageParameters {
            table,
            index,
            set,
            reset,
        } => {
            let mut parts: Vec<String> = set.iter().map(|(k, v)| format!("{k}={v}")).collect();
            parts.extend(reset.iter().map(|k| format!("reset {k}")));
            let of = match index {
                Some(index) => format!("index {index} on {table}"),
                None => table.to_string(),
            };
            (
                '~',
                format!("set storage parameters of {of}: {}", parts.join(", ")),
            )
        }
        Change::CreateTable { table } => (
            '+',
            match &table.partition_of {
                Some(of) => format!(
                    "create partition {} of {} {}{}",
                    table.name,
                    of.parent,
                    of.bound.sql,
                    partitioned_by(table)
                ),
                None => format!(
                    "create table {} ({} column{}){}",
                    table.name,
                    table.columns.len(),
                    plural(table.columns.len()),
                    partitioned_by(table)
                ),
            },
        ),
        Change::DropTable { table } => ('-', format!("drop table {}", table.name)),
        Change::DropTableToRepartition { table } => (
            '-',
            format!(
                "drop table {}{} to create it again with its new partitioning",
                table.name,
                partitioned_by(table)
            ),
        ),
        Change::SetPartitionColumns { table, to, .. } => (
            '~',
            match to.is_empty() {
                true => {
                    format!("columns of partition {table}: their parent's defaults and NOT NULLs")
                }
                false => format!(
                    "columns of partition {table}: {}",
                    to.iter()
                        .map(|c| {
                            let mut text = c.name.to_string();
                            if let Some(default) = &c.default {
                                text.push_str(&format!(" default {}", default.sql));
                            }
                            if c.not_null {
                                text.push_str(" not null");
                            }
                            text
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
        ),
        Change::SetPartitionOf { table, from, to } => (
            '~',
            match (from, to) {
                (None, Some(to)) => format!("attach {table} to {} {}", to.parent, to.bound.sql),
                (Some(from), None) => format!("detach {table} from {}", from.parent),
                (Some(from), Some(to)) => format!(
                    "move partition {table}: {} {} → {} {}",
                    from.parent, from.bound.sql, to.parent, to.bound.sql
                ),
                (None, None) => format!("leave {table} as it is"),
            },
        ),
        Change::RenameTable { from, to } => ('~', format!("rename table {from} to {to}")),
        Change::RenameColumn { table, from, to } => {
            ('~', format!("rename column {table}.{from} to {to}"))
        }
        Change::AddColumn { table, column } => (
            '+',
            format!(
                "add column {table}.{} {}",
                column.name,
                column_summary(column)
            ),
        ),
        Change::DropColumn { table, column } => (
            '-',
            format!("drop column {table}.{} {}", column.name, column.data_type),
        ),
        Change::AlterColumn {
            table,
            from,
            to,
            kind,
            using,
        } => {
            let what = match kind {
                ColumnChange::Type => format!(
                    "type {} → {}{}",
                    with_collation(&from.data_type.to_string(), from),
                    with_collation(&to.data_type.to_string(), to),
                    using
                        .as_ref()
                        .map(|u| format!(" using {u}"))
                        .unwrap_or_default()
                ),
                ColumnChange::Default => format!(
                    "default {} → {}",
                    from.default
                        .as_ref()
                        .map_or("none".to_string(), |d| d.sql.clone()),
                    to.default
                        .as_ref()
                        .map_or("none".to_string(), |d| d.sql.clone())
                ),
                ColumnChange::Nullability if to.not_null => "set not null".to_string(),
                ColumnChange::Nullability => "drop not null".to_string(),
                ColumnChange::Identity => format!(
                    "generated {} → {}{}",
                    identity_name(&from.identity),
                    identity_name(&to.identity),
                    if to.is_identity() && !from.is_identity() {
                        to.identity_options_sql()
                    } else {
                        String::new()
                    }
                ),
                ColumnChange::IdentityOptions => {
                    let mut said = to.own_sequence_clauses_from(from);
                    if let (Some(old), Some(new)) = (from.serial_sequence(), to.serial_sequence()) {
                        if old != new {
                            said.insert(0, format!("renamed {old} → {new}"));
                        }
                    }
                    format!(
                        "{} {}",
                        if to.is_identity() {
                            "identity"
                        } else {
                            "serial's sequence"
                        },
                        said.join(", ")
                    )
                }
                ColumnChange::Generated => format!(
                    "generated as {} → {}",
                    from.generated
                        .as_ref()
                        .map_or("nothing".to_string(), |g| format!("({})", g.sql)),
                    to.generated
                        .as_ref()
                        .map_or("nothing".to_string(), |g| format!("({})", g.sql))
                ),
            };
            ('~', format!("alter column {table}.{} {what}", to.name))
        }
        Change::AddConstraint { table, constraint } => (
            '+',
            format!(
                "add {} {} on {table}{}",
                constraint.kind.label(),
                constraint.name,
                constraint_summary(&constraint.kind)
            ),
        ),
        Change::DropConstraint { table, constraint } => (
            '-',
            format!(
                "drop {} {} on {table}",
                constraint.kind.label(),
                constraint.name
            ),
        ),
        Change::ValidateConstraint { table, constraint } => (
            '~',
            format!(
                "validate {} {} on {table}",
                constraint.kind.label(),
                constraint.name
            ),
        ),
        Change::RenameConstraint { table, from, to } => {
            ('~', format!("rename constraint {from} on {table} to {to}"))
        }
        Change::CreateIndex { index } => {
            let keys: Vec<String> = index
                .keys
                .iter()
                .map(|k| {
                    let key = match &k.expr {
                        crate::model::IndexExpr::Column(c) => c.to_string(),
                        crate::model::IndexExpr::Expression(e) => e.sql.clone(),
                    };
                    let mut key = key;
                    if let Some(collation) = &k.collation {
                        key.push_str(&format!(" collate {collation}"));
                    }
                    if let Some(opclass) = &k.opclass {
                        key.push_str(&format!(" {opclass}"));
                    }
                    if k.descending {
                        key.push_str(" desc");
                    }
                    // Only when it is not the direction's default.
                    match (k.descending, k.nulls_first) {
                        (true, false) => key.push_str(" nulls last"),
                        (false, true) => key.push_str(" nulls first"),
                        _ => {}
                    }
                    key
                })
                .collect();
            // What tells it from another index on the same keys.
            let mut tail = String::new();
            if index.method.as_str() != "btree" {
                tail.push_str(&format!(" using {}", index.method));
            }
            if !index.include.is_empty() {
                let include: Vec<String> = index.include.iter().map(|c| c.to_string()).collect();
                tail.push_str(&format!(" include ({})", include.join(", ")));
            }
            if let Some(predicate) = &index.predicate {
                tail.push_str(&format!(" where {}", predicate.sql));
            }
            (
                '+',
                format!(
                    "create {}index {} on {} ({}){tail}",
                    if index.unique { "unique " } else { "" },
                    index.name,
                    index.table,
                    keys.join(", ")
                ),
            )
        }
        Change::DropIndex { index } => (
            '-',
            format!(
                "drop {}index {} on {}",
                if index.valid { "" } else { "invalid " },
                index.name,
                index.table
            ),
        ),
        Change::RenameIndex { from, to } => ('~', format!("rename index {from} to {to}")),
        Change::CreateSequence { sequence } => ('+', format!("create sequence {}", sequence.name)),
        Change::AlterSequence { to, .. } => ('~', format!("alter sequence {}", to.name)),
        Change::DropSequence { sequence } => ('-', format!("drop sequence {}", sequence.name)),
        Change::InsertRow { table, key, values } => {
            // Two of its other values say which row it is better than an id.
            let others: Vec<String> = values
                .iter()
                .filter(|(c, _)| !key.iter().any(|(k, _)| k == c))
                .take(2)
                .map(|(c, v)| format!("{c} = {}", v.display()))
                .collect();
            let tail = if others.is_empty() {
                String::new()
            } else {
                format!(": {}", others.join(", "))
            };
            (
                '+',
                format!("insert row into {table} ({}){tail}", key_text(key)),
            )
        }
        Change::UpdateRow { table, key, set } => {
            let changes: Vec<String> = set
                .iter()
                .map(|u| {
                    format!(
                        "{} {} → {}",
                        u.column,
                        crate::seed_value::display_json(&u.from),
                        u.to.display()
                    )
                })
                .collect();
            (
                '~',
                format!(
                    "update row of {table} ({}): {}",
                    key_text(key),
                    changes.join(", ")
                ),
            )
        }
        Change::DeleteRow { table, key } => {
            ('-', format!("delete row from {table} ({})", key_text(key)))
        }
        Change::CreateFunction { function } => (
            '+',
            format!("create {} {}", function.kind(), function.signature()),
        ),
        Change::ReplaceFunction { to, .. } => {
            ('~', format!("replace {} {}", to.kind(), to.signature()))
        }
        Change::RecreateFunction { to, callers, .. } => {
            let mut text = format!("drop and create {} {}", to.kind(), to.signature());
            if !callers.is_empty() {
                let named: Vec<String> = callers
                    .iter()
                    .map(|caller| match caller {
                        crate::diff::CallerAround::Default { table, column, .. } => {
                            format!("default of {table}.{column}")
                        }
                        crate::diff::CallerAround::Constraint {
                            table, constraint, ..
                        } => format!("constraint {} on {table}", constraint.name),
                        crate::diff::CallerAround::Index { index, .. } => {
                            format!("index {}", index.name)
                        }
                    })
                    .collect();
                text.push_str(&format!(
                    ", taking off and putting back what calls it: {}",
                    named.join(", ")
                ));
            }
            ('~', text)
        }
        Change::DropFunction {
            function,
            before_types,
            dropped,
        } => (
            '-',
            match before_types.is_empty() {
                true => format!("drop {} {}", function.kind(), function.signature()),
                false => format!(
                    "drop {} {} before its {} {} created again{}",
                    function.kind(),
                    function.signature(),
                    if before_types.len() == 1 {
                        "type"
                    } else {
                        "types"
                    },
                    before_types
                        .iter()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                        + if before_types.len() == 1 {
                            " is"
                        } else {
                            " are"
                        },
                    match dropped {
                        true => "",
                        false => " (created again after)",
                    }
                ),
            },
        ),
        Change::CreateTrigger { table, trigger } => {
            ('+', format!("create trigger {} on {table}", trigger.name))
        }
        Change::ReplaceTrigger { table, to, .. } => {
            ('~', format!("replace trigger {} on {table}", to.name))
        }
        Change::DropTrigger { table, trigger } => {
            ('-', format!("drop trigger {} on {table}", trigger.name))
        }
        Change::SetTriggerFiring {
            table,
            trigger,
            firing,
        } => (
            '~',
            format!("{} {trigger} on {table}", firing.clause().to_lowercase()),
        ),
        Change::CreateEnum { enum_type } => (
            '+',
            format!(
                "create enum {} ({})",
                enum_type.name,
                labels(&enum_type.labels)
            ),
        ),
        Change::AddEnumValues { name, additions } => {
            let added: Vec<String> = additions.iter().map(|a| a.label.clone()).collect();
            ('~', format!("add to enum {name}: {}", labels(&added)))
        }
        Change::RecreateEnum {
            to,
            columns,
            foreign,
            ..
        } => {
            let with_columns = foreign.iter().filter(|f| !f.columns.is_empty());
            let elsewhere = match foreign.iter().map(|f| f.columns.len()).sum::<usize>() {
                0 => String::new(),
                n => format!(" here and {n} in {} other schema(s)", with_columns.count()),
            };
            (
                '~',
                format!(
                    "create enum {} again ({}), converting {} column(s){elsewhere}{}{}",
                    to.name,
                    labels(&to.labels),
                    columns.len(),
                    taken_off_first(change),
                    taken_from_other_schemas(foreign)
                ),
            )
        }
        Change::DropEnum { enum_type } => ('-', format!("drop enum {}", enum_type.name)),
        Change::CreateDomain { domain } => ('+', format!("create domain {}", domain.name)),
        Change::AlterDomain {
            name,
            default,
            not_null,
            drop_checks,
            add_checks,
            validate_checks,
        } => {
            use crate::diff::DomainStep;
            let steps = crate::diff::domain_steps(
                default,
                *not_null,
                drop_checks,
                add_checks,
                validate_checks,
            );
            let what: Vec<String> = steps
                .iter()
                .map(|step| match step {
                    DomainStep::DropCheck(c) => format!("drop check {}", c.name),
                    DomainStep::SetDefault(_) => "set default".into(),
                    DomainStep::DropDefault => "drop default".into(),
                    DomainStep::SetNotNull => "set not null".into(),
                    DomainStep::DropNotNull => "drop not null".into(),
                    DomainStep::AddCheck(c) => format!("add check {}", c.name),
                    DomainStep::ValidateCheck(c) => format!("validate check {}", c.name),
                })
                .collect();
            ('~', format!("alter domain {name}: {}", what.join(", ")))
        }
        Change::RecreateDomain { to, foreign, .. } => (
            '~',
            format!(
                "recreate domain {}{}{}",
                to.name,
                taken_off_first(change),
                taken_from_other_schemas(foreign)
            ),
        ),
        Change::DropDomain { domain } => ('-', format!("drop domain {}", domain.name)),
        Change::CreateComposite { composite } => (
            '+',
            format!(
                "create type {} ({})",
                composite.name,
                attribute_list(composite)
            ),
        ),
        Change::AlterComposite { name, steps, .. } => {
            let parts: Vec<String> = steps
                .iter()
                .map(|step| match step {
                    crate::diff::AttributeStep::Drop { name } => format!("drop attribute {name}"),
                    crate::diff::AttributeStep::Alter { to } => {
                        format!("attribute {} to {}", to.name, to.data_type)
                    }
                    crate::diff::AttributeStep::Add { attribute } => {
                        format!("add attribute {} {}", attribute.name, attribute.data_type)
                    }
                })
                .collect();
            ('~', format!("alter type {name}: {}", parts.join(", ")))
        }
        Change::RecreateComposite { to, foreign, .. } => (
            '~',
            format!(
                "create type {} again ({}){}{}",
                to.name,
                attribute_list(to),
                taken_off_first(change),
                taken_from_other_schemas(foreign)
            ),
        ),
        Change::DropComposite { composite } => ('-', format!("drop type {}", composite.name)),
        Change::CreateEventTrigger { trigger } => (
            '+',
            format!("create event trigger {} on {}", trigger.name, trigger.event),
        ),
        Change::SetEventTriggerFiring { name, firing } => (
            '~',
            format!("event trigger {name}: {}", firing.keyword().to_lowercase()),
        ),
        Change::DropEventTrigger { trigger } => {
            ('-', format!("drop event trigger {}", trigger.name))
        }
        Change::CreateExtension { extension } => (
            '+',
            format!(
                "create extension {}{}",
                extension.name,
                extension
                    .version
                    .as_ref()
                    .map(|v| format!(" {v}"))
                    .unwrap_or_default()
            ),
        ),
        Change::AlterExtension {
            name,
            version,
            schema,
        } => {
            let mut what = Vec::new();
            if let Some(version) = version {
                what.push(format!("update to {version}"));
            }
            if let Some(schema) = schema {
                what.push(format!("move to schema {schema}"));
            }
            ('~', format!("extension {name}: {}", what.join(", ")))
        }
        Change::DropExtension { extension } => ('-', format!("drop extension {}", extension.name)),
        Change::CreateView { view } => ('+', format!("create {} {}", view.noun(), view.name)),
        Change::ReplaceView { to, .. } => ('~', format!("replace view {}", to.name)),
        Change::DropView { view } => ('-', format!("drop {} {}", view.noun(), view.name)),
        Change::Grant {
            object,
            role,
            privileges,
            grantable,
        } => (
            '+',
            format!(
                "grant {} on {} to {role}{}",
                privileges.join(", "),
                object,
                if *grantable { " with grant option" } else { "" }
            ),
        ),
        Change::Revoke {
            object,
            role,
            privileges,
        } => (
            '-',
            format!("revoke {} on {} from {role}", privileges.join(", "), object),
        ),
        Change::CommentOn { object, comment } => (
            '~',
            format!(
                "{} comment on {object}",
                if comment.is_some() { "set" } else { "remove" }
            ),
        ),
        Change::CreatePolicy { table, policy } => {
            ('+', format!("create policy {} on {table}", policy.name))
        }
        Change::DropPolicy { table, policy } => {
            ('-', format!("drop policy {} on {table}", policy.name))
        }
        Change::SetRowSecurity { table, to, .. } => (
            '~',
            format!(
                "row-level security on {table}: {}",
                match (to.enabled, to.forced) {
                    (true, true) => "enabled, forced",
                    (true, false) => "enabled",
                    (false, true) => "disabled (forced once enabled)",
                    (false, false) => "disabled",
                }
            ),
        ),
    }
}

fn attribute_list(composite: &crate::model::CompositeType) -> String {
    composite
        .attributes
        .iter()
        .map(|a| format!("{} {}", a.name, a.data_type))
        .collect::<Vec<_>>()
        .join(", ")
}

fn labels(labels: &[String]) -> String {
    labels
        .iter()
        .map(|l| crate::ident::quote_literal(l))
        .collect::<Vec<_>>()
        .join(", ")
}

fn with_collation(text: &str, column: &Column) -> String {
    match &column.collation {
        Some(c) => format!("{text} collate {c}"),
        None => text.to_string(),
    }
}

fn column_summary(column: &Column) -> String {
    let mut text = column.data_type.to_string();
    if let Some(identity) = &column.identity {
        text.push_str(&format!(" ({})", identity_name(&Some(identity.clone()))));
    }
    if column.not_null {
        text.push_str(" not null");
    }
    if let Some(default) = &column.default {
        text.push_str(&format!(" default {}", default.sql));
    }
    text
}

fn constraint_summary(kind: &ConstraintKind) -> String {
    match kind {
        ConstraintKind::ForeignKey(fk) => {
            let target = match &fk.references.schema {
                SchemaRef::Own => fk.references.table.to_string(),
                SchemaRef::Named(schema) => format!("{schema}.{}", fk.references.table),
            };
            format!(" → {target}")
        }
        _ => String::new(),
    }
}

/// ` partitioned by RANGE (at)`, or nothing.
fn partitioned_by(table: &crate::model::Table) -> String {
    table
        .partition_key
        .as_ref()
        .map(|key| format!(" partitioned by {}", key.sql))
        .unwrap_or_default()
}

fn identity_name(identity: &Option<Identity>) -> &'static str {
    match identity {
        None => "none",
        Some(Identity::Serial { .. }) => "serial",
        Some(Identity::Always) => "always as identity",
        Some(Identity::ByDefault) => "by default as identity",
    }
}

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The line that opens a run of steps of one transaction mode in a listed
/// plan, given the mode listed before it (none for the first step). The
/// transaction needs no heading unless labels were committed before it.
pub(crate) fn transaction_heading(mode: TxMode, previous: Option<TxMode>) -> Option<&'static str> {
    match mode {
        TxMode::BeforeTransaction => {
            Some("committed first, in a transaction of its own (the next uses its labels)")
        }
        TxMode::Transactional => previous.map(|_| "then in one transaction"),
        TxMode::NonTransactional => Some("after commit, outside the transaction"),
    }
}

/// `, with 2 types of other schemas built on it created again: org_a.d,
/// … and 2 functions of other schemas on it dropped and created again:
/// org_a.f, …` for a shared type created again; empty when none.
/// `, taking off 2 default(s) and 1 index(es) naming it first`: what of
/// its own schema names a type created again in an expression, off before
/// it (the files' made again in their own steps after).
fn taken_off_first(change: &Change) -> String {
    let (indexes, defaults) = change.taken_off();
    match (defaults.len(), indexes.len()) {
        (0, 0) => String::new(),
        (d, 0) => format!(", taking off {d} default(s) naming it first"),
        (0, i) => format!(", taking off {i} index(es) naming it first"),
        (d, i) => format!(", taking off {d} default(s) and {i} index(es) naming it first"),
    }
}

fn taken_from_other_schemas(foreign: &[crate::diff::ForeignColumns]) -> String {
    let named = |names: Vec<String>, noun: &str, what: &str| match names.len() {
        0 => None,
        n => Some(format!(
            "{n} {noun}{} of other schemas {what}: {}",
            if n == 1 { "" } else { "s" },
            crate::diagnostic::first_few(&names)
        )),
    };
    let types = foreign.iter().flat_map(|other| {
        other
            .along
            .iter()
            .flat_map(Change::with_along)
            .filter_map(|built| built.type_recreated())
            .map(|name| format!("{}.{name}", other.schema))
    });
    let functions = foreign.iter().flat_map(|other| {
        other
            .functions
            .iter()
            .map(|taken| format!("{}.{}", other.schema, taken.function.name))
    });
    let defaults = foreign.iter().flat_map(|other| {
        other
            .defaults
            .iter()
            .map(|(table, column, _)| format!("{}.{table}.{column}", other.schema))
    });
    let triggers = foreign.iter().flat_map(|other| {
        other
            .triggers
            .iter()
            .map(|(table, trigger)| format!("{}.{table}.{}", other.schema, trigger.name))
    });
    let parts: Vec<String> = [
        named(types.collect(), "type", "built on it created again"),
        named(
            functions.collect(),
            "function",
            "on it dropped and created again",
        ),
        named(
            defaults.collect(),
            "default",
            "naming it taken off and set again",
        ),
        named(
            triggers.collect(),
            "trigger",
            "naming it dropped and created again",
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    match parts.is_empty() {
        true => String::new(),
        false => format!(", with {}", parts.join(" and ")),
    }
}
