//! Names a plan creates that a live object kschema does not manage already
//! holds (a foreign table, a range or base type): PostgreSQL would refuse
//! the statement in every such target, after the plan was approved. Said
//! at plan time instead, at the declaration, with what holds the name.

use std::collections::HashMap;

use super::{Plan, Target, TargetPlan};
use crate::diagnostic::Problem;
use crate::diff::Change;
use crate::ident::Ident;
use crate::load::{DesiredState, ObjectKey};
use crate::unmanaged::{UnmanagedKind, UnmanagedObject};

/// Which of PostgreSQL's name spaces in a schema a name lives in: tables,
/// views, indexes, sequences and composite types share `pg_class`; tables,
/// views and every type share `pg_type` (a relation has a row type).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Space {
    Relation,
    Type,
}

/// What a change creates: (what it is, its name, its spaces, its key).
fn created(change: &Change) -> Option<(&'static str, &Ident, &'static [Space], ObjectKey)> {
    const BOTH: &[Space] = &[Space::Relation, Space::Type];
    const RELATION: &[Space] = &[Space::Relation];
    const TYPE: &[Space] = &[Space::Type];
    Some(match change {
        Change::CreateTable { table } => (
            "table",
            &table.name,
            BOTH,
            ObjectKey::Table(table.name.clone()),
        ),
        Change::RenameTable { to, .. } => ("table", to, BOTH, ObjectKey::Table(to.clone())),
        Change::CreateView { view } => {
            let what = match view.materialized {
                true => "materialized view",
                false => "view",
            };
            (what, &view.name, BOTH, ObjectKey::View(view.name.clone()))
        }
        Change::CreateIndex { index } => (
            "index",
            &index.name,
            RELATION,
            ObjectKey::Index(index.name.clone()),
        ),
        Change::RenameIndex { to, .. } => ("index", to, RELATION, ObjectKey::Index(to.clone())),
        Change::CreateSequence { sequence } => (
            "sequence",
            &sequence.name,
            RELATION,
            ObjectKey::Sequence(sequence.name.clone()),
        ),
        Change::CreateComposite { composite } => (
            "composite type",
            &composite.name,
            BOTH,
            ObjectKey::Type(composite.name.clone()),
        ),
        Change::CreateEnum { enum_type } => (
            "enum",
            &enum_type.name,
            TYPE,
            ObjectKey::Type(enum_type.name.clone()),
        ),
        Change::CreateDomain { domain } => (
            "domain",
            &domain.name,
            TYPE,
            ObjectKey::Type(domain.name.clone()),
        ),
        _ => return None,
    })
}

/// The spaces a live object kschema does not manage holds a name in.
fn held(object: &UnmanagedObject) -> &'static [Space] {
    match object.kind {
        UnmanagedKind::ForeignTable => &[Space::Relation, Space::Type],
        UnmanagedKind::RangeType | UnmanagedKind::BaseType => &[Space::Type],
        _ => &[],
    }
}

/// Whether a listed name (as written by the catalog, quoted or not) is
/// this identifier.
fn same_name(listed: &str, name: &Ident) -> bool {
    listed == name.as_str() || listed == name.to_string()
}

/// Refuses a plan that creates a name a live object kschema does not
/// manage already holds, at the declaration of the first such object.
pub fn check_name_clashes(plan: &Plan, desired: &DesiredState) -> Result<(), Problem> {
    // Built only when some target holds such a name (rare); one lookup per
    // target after, however many tenants there are.
    let mut by_target: Option<HashMap<&Target, &TargetPlan>> = None;
    for group in &plan.unmanaged {
        let holders: Vec<&UnmanagedObject> = group
            .objects
            .iter()
            .filter(|o| !held(o).is_empty())
            .collect();
        if holders.is_empty() {
            continue;
        }
        let by_target =
            by_target.get_or_insert_with(|| plan.targets.iter().map(|t| (&t.target, t)).collect());
        for target in &group.targets {
            let Some(target_plan) = by_target.get(target) else {
                continue;
            };
            for step in target_plan.steps.iter() {
                let Some((what, name, spaces, key)) = created(&step.change) else {
                    continue;
                };
                let holder = holders.iter().find(|o| {
                    same_name(&o.name, name) && held(o).iter().any(|s| spaces.contains(s))
                });
                if let Some(holder) = holder {
                    return Err(clash(desired, target, what, name, holder, &key));
                }
            }
        }
    }
    Ok(())
}

fn clash(
    desired: &DesiredState,
    target: &Target,
    what: &str,
    name: &Ident,
    holder: &UnmanagedObject,
    key: &ObjectKey,
) -> Problem {
    let mut problem = Problem::new(
        "kschema::plan::name_taken",
        format!(
            "the plan creates {what} {name} in {}, where a {} of that name already exists that kschema does not manage: PostgreSQL would refuse it",
            target.schema,
            holder.kind.singular()
        ),
    )
    .with_help(format!(
        "give the {what} another name in the files, or rename or drop the live {} first (kschema lists it as not compared, never changes it)",
        holder.kind.singular()
    ));
    let scope = desired.scope_of(target);
    if let Some(origin) = scope.origins.get(key) {
        problem = problem.at(
            &origin.file,
            origin.span,
            format!("{what} {name} declared here"),
        );
    }
    problem
}
