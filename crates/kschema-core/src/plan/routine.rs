//! Statements for functions, procedures and triggers. The author's text
//! runs as written, on the search path the files are written for (the
//! target schema, then public: `plan::search_path`), so its unqualified
//! names resolve in each tenant as they did in the template.

use crate::hazard::{Hazard, HazardKind};
use crate::ident::Ident;
use crate::model::{Function, Policy, RowSecurity, Trigger, TriggerFiring};
use crate::sql::Sql;

/// `DROP` and `CREATE` in one transaction.
pub(super) fn recreate_function(from: &Function, to: &Function) -> (Vec<Sql>, Vec<Hazard>) {
    let mut statements = vec![drop_function(from)];
    statements.extend(create_function(to));
    let why = if from.same_kind(to) {
        format!(
            "its result type or argument names change ({} → {})",
            from.interface, to.interface
        )
    } else {
        format!(
            "it was a {}, which CREATE OR REPLACE cannot change",
            from.kind_described()
        )
    };
    let hazard = Hazard::new(
        HazardKind::RecreatesObject,
        format!(
            "{} {} is dropped and created again: {why}; privileges on it go with it",
            to.kind_described(),
            to.name,
        ),
    );
    (statements, vec![hazard])
}

pub(super) fn replace_trigger(table: &Ident, to: &Trigger) -> Vec<Sql> {
    if !to.constraint {
        return vec![create_trigger(to)];
    }
    // A constraint trigger cannot be replaced.
    vec![drop_trigger(table, &to.name), create_trigger(to)]
}

pub(super) fn set_trigger_firing(table: &Ident, trigger: &Ident, firing: TriggerFiring) -> Sql {
    Sql::new()
        .text("ALTER TABLE ")
        .qualified(table)
        .text(format!(" {} {}", firing.clause(), trigger.quoted()))
}

pub(super) fn create_event_trigger(trigger: &crate::model::EventTrigger) -> Sql {
    Sql::new().text(trigger.sql.trim_end().trim_end_matches(';'))
}

pub(super) fn set_event_trigger_firing(name: &Ident, firing: TriggerFiring) -> Sql {
    Sql::new().text(format!(
        "ALTER EVENT TRIGGER {} {}",
        name.quoted(),
        firing.keyword()
    ))
}

/// Functions are created before the tables whose defaults and checks may
/// call them, as pg_dump restores them: with body checks off, since a body
/// may read tables not created yet (the materialized desired state checks
/// every body once all of it exists).
pub(super) fn create_function(function: &Function) -> Vec<Sql> {
    vec![
        Sql::new().text("SET LOCAL check_function_bodies = off"),
        Sql::new().text(&function.sql),
        Sql::new().text("RESET check_function_bodies"),
    ]
}

/// The function created again with body checks on (see
/// `plan::materialize`).
pub(crate) fn checked_function(function: &Function) -> Sql {
    Sql::new().text(&function.sql)
}

/// `DROP FUNCTION org_x.f(integer)`: qualified, so that no other schema's
/// function of that name can be the one dropped.
pub(super) fn drop_function(function: &Function) -> Sql {
    Sql::new()
        .text(format!("DROP {} ", function.kind().to_uppercase()))
        .qualified(&function.name)
        .text(format!("({})", function.argument_list()))
}

pub(super) fn create_trigger(trigger: &Trigger) -> Sql {
    Sql::new().text(&trigger.sql)
}

pub(super) fn drop_trigger(table: &Ident, trigger: &Ident) -> Sql {
    Sql::new()
        .text(format!("DROP TRIGGER {} ON ", trigger.quoted()))
        .qualified(table)
}

pub(super) fn create_policy(policy: &Policy) -> Sql {
    Sql::new().text(&policy.sql)
}

pub(super) fn drop_policy(table: &Ident, policy: &Ident) -> Sql {
    Sql::new()
        .text(format!("DROP POLICY {} ON ", policy.quoted()))
        .qualified(table)
}

pub(super) fn set_row_security(table: &Ident, to: RowSecurity) -> Sql {
    Sql::new()
        .text("ALTER TABLE ")
        .qualified(table)
        .text(format!(" {}", to.clauses()))
}
