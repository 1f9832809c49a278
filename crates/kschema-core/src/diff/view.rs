//! Views: matched by name, compared by what PostgreSQL stores. A view
//! whose columns change other than at the end, that reads a table column
//! being converted or dropped, that names a type created again, or that
//! calls a function being dropped and created again, is dropped and
//! created again, and so is every view that
//! reads it. A materialized view's indexes go and come
//! back with it.

use std::collections::BTreeSet;

use super::type_users::TypeUsers;
use super::{diff_index_sets, disturbed_columns, recreated_functions, Change};
use crate::ident::Ident;
use crate::model::{Dependent, Index, SchemaModel};

pub(super) fn diff_views(live: &SchemaModel, desired: &SchemaModel, changes: &mut Vec<Change>) {
    // Tables whose changes a view reading them blocks.
    let mut disturbed: BTreeSet<Ident> = disturbed_columns(changes)
        .into_iter()
        .map(|(table, _)| table)
        .collect();
    for change in changes.iter() {
        match change {
            Change::DropTable { table } => {
                disturbed.insert(table.name.clone());
            }
            Change::RecreateEnum { .. }
            | Change::RecreateDomain { .. }
            | Change::RecreateComposite { .. } => {
                for recreation in change.with_along() {
                    let columns = recreation.converted_columns();
                    disturbed.extend(columns.iter().map(|c| c.table.clone()));
                }
            }
            // The live state the diff sees no longer holds the table, nor
            // the partitions that go with it.
            Change::DropTableToRepartition { table } => {
                disturbed.insert(table.name.clone());
                disturbed.extend(
                    live.views
                        .values()
                        .flat_map(|v| &v.reads)
                        .filter(|read| {
                            !live.tables.contains_key(*read) && !live.views.contains_key(*read)
                        })
                        .cloned(),
                );
            }
            _ => {}
        }
    }
    let recreated_functions = recreated_functions(changes);
    // What names a type created again (`'pro'::plan_tier`) holds it.
    let type_users = TypeUsers::of(live, changes);
    // Live views that cannot stay: what reads a disturbed table or calls a
    // recreated function, what the files change incompatibly or leave out
    // — and, transitively, what reads those.
    let mut recreated: BTreeSet<Ident> = BTreeSet::new();
    for (name, view) in &live.views {
        let incompatible = match desired.views.get(name) {
            Some(wanted) => !view.same_definition(wanted) && !view.replaceable_by(wanted),
            None => true,
        };
        if incompatible
            || view.reads.iter().any(|t| disturbed.contains(t))
            || view.calls.iter().any(|f| recreated_functions.contains(f))
            || type_users.needs(&Dependent::Relation(name.clone()))
        {
            recreated.insert(name.clone());
        }
    }
    loop {
        let more: Vec<Ident> = live
            .views
            .values()
            .filter(|v| !recreated.contains(&v.name))
            .filter(|v| v.reads.iter().any(|r| recreated.contains(r)))
            .map(|v| v.name.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        recreated.extend(more);
    }

    for (name, view) in &live.views {
        if recreated.contains(name) {
            changes.push(Change::DropView { view: view.clone() });
        }
    }
    for (name, wanted) in &desired.views {
        match live.views.get(name) {
            Some(_) if recreated.contains(name) => changes.push(Change::CreateView {
                view: wanted.clone(),
            }),
            None => changes.push(Change::CreateView {
                view: wanted.clone(),
            }),
            Some(current) if !current.same_definition(wanted) => {
                changes.push(Change::ReplaceView {
                    from: current.clone(),
                    to: wanted.clone(),
                })
            }
            Some(_) => {}
        }
    }
    diff_view_indexes(live, desired, &recreated, changes);
}

/// Each materialized view's indexes: all of the files' built after a view
/// created (again); a kept view's compared like a table's.
fn diff_view_indexes(
    live: &SchemaModel,
    desired: &SchemaModel,
    recreated: &BTreeSet<Ident>,
    changes: &mut Vec<Change>,
) {
    let on = |model: &SchemaModel, view: &Ident| -> Vec<Index> {
        model
            .indexes
            .values()
            .filter(|i| &i.table == view)
            .cloned()
            .collect()
    };
    for (name, wanted) in desired.views.iter().filter(|(_, v)| v.materialized) {
        let kept = live
            .views
            .get(name)
            .is_some_and(|current| current.materialized && !recreated.contains(name));
        let live_indexes = if kept { on(live, name) } else { Vec::new() };
        diff_index_sets(&live_indexes, &on(desired, &wanted.name), changes);
    }
}
