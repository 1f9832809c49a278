//! What names a type created again — in a default, a check, an index, a
//! trigger's `WHEN`, a view, a policy, a function's body, a domain's
//! check, a generated column — holds the old type, as PostgreSQL records
//! it (`pg_depend`): the plan takes most of it along (`diff::type_users`,
//! and for a shared type the other schemas' part, `plan::shared_enums`
//! and `plan::shared_readers`). What it cannot — a generated column
//! naming it (PostgreSQL cannot take its expression off), a domain whose
//! check names it — would make the old type's drop fail and the target
//! roll back: said at plan time instead, naming each.

use std::collections::BTreeSet;

use super::Step;
use crate::diff::{Change, ForeignColumns};
use crate::ident::Ident;
use crate::model::{Dependent, Needed, SchemaModel, SchemaName};

/// What a plan takes along, by kind: anything else recorded as naming a
/// type it creates again still holds the old one.
#[derive(Default)]
struct Taken<'a> {
    /// (table, column): converted, or its default taken off.
    columns: BTreeSet<(&'a Ident, &'a Ident)>,
    constraints: BTreeSet<(&'a Ident, &'a Ident)>,
    indexes: BTreeSet<&'a Ident>,
    triggers: BTreeSet<(&'a Ident, &'a Ident)>,
    policies: BTreeSet<(&'a Ident, &'a Ident)>,
    functions: BTreeSet<&'a Ident>,
    /// Views dropped and created again; types created again or turned in
    /// place.
    relations: BTreeSet<&'a Ident>,
}

impl<'a> Taken<'a> {
    /// What `recreations` (a type's change with those inside it) convert,
    /// take off and turn in place.
    fn recreations(&mut self, recreations: &[&'a Change]) {
        for change in recreations {
            for column in change.converted_columns() {
                self.columns.insert((&column.table, &column.column));
            }
            let (indexes, defaults) = change.taken_off();
            self.indexes.extend(indexes);
            self.columns.extend(defaults.iter().map(|(t, c)| (t, c)));
            self.relations.extend(change.type_recreated());
            self.relations
                .extend(change.holders().iter().map(|(h, _)| h));
        }
    }

    /// What a change of the schema's own drops before the types change.
    fn change(&mut self, change: &'a Change) {
        match change {
            Change::DropConstraint { table, constraint } => {
                self.constraints.insert((table, &constraint.name));
            }
            Change::DropIndex { index } => {
                self.indexes.insert(&index.name);
            }
            Change::DropTrigger { table, trigger } => {
                self.triggers.insert((table, &trigger.name));
            }
            Change::DropPolicy { table, policy } => {
                self.policies.insert((table, &policy.name));
            }
            Change::DropFunction { function, .. } => {
                self.functions.insert(&function.name);
            }
            Change::DropView { view } => {
                self.relations.insert(&view.name);
            }
            _ => {}
        }
    }
}

/// A note for each type the plan creates again when the live side
/// recorded no dependencies (a snapshot an older kschema wrote): what
/// names it in an expression only is then unknown, and not taken along —
/// the reviewer is told, since an apply (which reads the database) would
/// take it.
pub(super) fn unrecorded_type_users(live: Option<&SchemaModel>, changes: &[Change]) -> Vec<String> {
    if live.is_none_or(|model| model.dependencies.is_some()) {
        return Vec::new();
    }
    changes
        .iter()
        .flat_map(Change::with_along)
        .filter_map(Change::type_recreated)
        .map(|name| {
            format!(
                "type {name} is created again, and the live state (a snapshot an older kschema wrote) records no dependencies: what names it in an expression only (a default, check, index, trigger condition, view or policy) is not in this plan; an apply reads the database and takes it along — take the snapshot again to see it here"
            )
        })
        .collect()
}

/// The objects of `model` that name a type `root` creates again (or one
/// created again inside it) and that the plan (`steps`, the schema's)
/// does not take along. Nothing when nothing was recorded (a plan from a
/// snapshot an older kschema wrote).
pub(super) fn own_still_holding(root: &Change, steps: &[Step], model: &SchemaModel) -> Vec<String> {
    let recreations = root.with_along();
    let types: BTreeSet<Needed> = recreations
        .iter()
        .filter_map(|c| c.type_recreated())
        .map(|name| Needed::Relation(name.clone()))
        .collect();
    let mut taken = Taken::default();
    taken.recreations(&recreations);
    for step in steps {
        taken.change(&step.change);
    }
    held(model, &|needed| types.contains(needed), &taken, "")
}

/// The objects of another schema (`other`, a tenant's, as `model` is
/// live) that name `schema`'s type `to` created again (or one of theirs
/// built on it) and that the shared plan (`steps`) does not take along.
pub(super) fn foreign_still_holding(
    model: &SchemaModel,
    other: &SchemaName,
    schema: &SchemaName,
    to: &Ident,
    foreign: Option<&ForeignColumns>,
    steps: &[Step],
) -> Vec<String> {
    let mut taken = Taken::default();
    let mut built: BTreeSet<&Ident> = BTreeSet::new();
    if let Some(foreign) = foreign {
        let along: Vec<&Change> = foreign.along.iter().flat_map(Change::with_along).collect();
        taken.recreations(&along);
        built.extend(along.iter().filter_map(|c| c.type_recreated()));
        for column in &foreign.columns {
            taken.columns.insert((&column.table, &column.column));
        }
        for (table, column, _) in &foreign.defaults {
            taken.columns.insert((table, column));
        }
        for (table, check) in &foreign.checks {
            taken.constraints.insert((table, &check.name));
        }
        taken
            .indexes
            .extend(foreign.indexes.iter().map(|i| &i.name));
        for (table, trigger) in &foreign.triggers {
            taken.triggers.insert((table, &trigger.name));
        }
        taken
            .functions
            .extend(foreign.functions.iter().map(|f| &f.function.name));
        taken
            .relations
            .extend(foreign.holders.iter().map(|(h, _)| h));
    }
    for step in steps {
        match &step.change {
            Change::DropForeignViews { views } => taken.relations.extend(
                views
                    .iter()
                    .filter(|v| &v.schema == other)
                    .map(|v| &v.view.name),
            ),
            Change::DropForeignCallers { callers } => {
                for found in callers.iter().filter(|c| &c.schema == other) {
                    for (table, policy) in &found.policies {
                        taken.policies.insert((table, &policy.name));
                    }
                    for around in &found.around {
                        match around {
                            crate::diff::CallerAround::Default { table, column, .. } => {
                                taken.columns.insert((table, column));
                            }
                            crate::diff::CallerAround::Constraint {
                                table, constraint, ..
                            } => {
                                taken.constraints.insert((table, &constraint.name));
                            }
                            crate::diff::CallerAround::Index { index, .. } => {
                                taken.indexes.insert(&index.name);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let names_it =
        |needed: &Needed| is_shared_type(needed, schema, &|t| t == to, &|t| built.contains(t));
    held(model, &names_it, &taken, &format!("{other}."))
}

/// Whether what another schema's object needs is one of `schema`'s types
/// that `shared` picks (created again), or one of the object's own
/// schema's types that `built` picks (built on those, created again with
/// them).
fn is_shared_type(
    needed: &Needed,
    schema: &SchemaName,
    shared: &dyn Fn(&Ident) -> bool,
    built: &dyn Fn(&Ident) -> bool,
) -> bool {
    match needed {
        Needed::OtherType(s, t) => s == schema && shared(t),
        Needed::Relation(t) => built(t),
        Needed::Function(_) => false,
    }
}

/// Whether `dependent`, an object of another schema (`model`, as it is
/// live), names one of `schema`'s types created again (or one of its own
/// built on them) as PostgreSQL recorded it: [`is_shared_type`].
pub(super) fn names_shared_type(
    model: &SchemaModel,
    dependent: &Dependent,
    schema: &SchemaName,
    shared: &dyn Fn(&Ident) -> bool,
    built: &dyn Fn(&Ident) -> bool,
) -> bool {
    model.dependencies.as_deref().is_some_and(|needs| {
        needs
            .of(dependent)
            .any(|needed| is_shared_type(needed, schema, shared, built))
    })
}

/// The objects of `model` needing what `names_it` says and not `taken`,
/// named after `prefix`.
fn held(
    model: &SchemaModel,
    names_it: &dyn Fn(&Needed) -> bool,
    taken: &Taken<'_>,
    prefix: &str,
) -> Vec<String> {
    let Some(needs) = model.dependencies.as_deref() else {
        return Vec::new();
    };
    let partition = |table: &Ident| {
        model
            .tables
            .get(table)
            .and_then(|t| t.partition_of.as_ref())
            .map(|of| &of.parent)
    };
    let mut held = Vec::new();
    for (dependent, needed) in needs.iter() {
        if !needed.iter().any(names_it) {
            continue;
        }
        let is_taken = match dependent {
            // A partition's columns convert with its parent's; its checks
            // and indexes are its parent's copies.
            Dependent::Column(table, column) => {
                taken.columns.contains(&(table, column))
                    || partition(table).is_some_and(|p| taken.columns.contains(&(p, column)))
            }
            Dependent::Constraint(table, name) => {
                partition(table).is_some() || taken.constraints.contains(&(table, name))
            }
            Dependent::Index(name) => {
                taken.indexes.contains(name)
                    || model
                        .indexes
                        .get(name)
                        .is_some_and(|i| partition(&i.table).is_some())
            }
            Dependent::Trigger(table, name) => taken.triggers.contains(&(table, name)),
            Dependent::Policy(table, name) => taken.policies.contains(&(table, name)),
            Dependent::Function(name) => taken.functions.contains(name),
            Dependent::Relation(name)
                if model.views.contains_key(name)
                    || model.domains.contains_key(name)
                    || model.composites.contains_key(name) =>
            {
                taken.relations.contains(name)
            }
            // A table or sequence: what holds the type is its column.
            Dependent::Relation(_) => true,
        };
        if !is_taken {
            let (kind, name) = noun(dependent, model);
            held.push(format!("{kind}{prefix}{name}"));
        }
    }
    held
}

/// What kind of object it is, and its name as the plan says it:
/// (`generated column `, `notes.is_done`).
fn noun(dependent: &Dependent, model: &SchemaModel) -> (&'static str, String) {
    match dependent {
        Dependent::Column(table, column) => {
            let generated = model
                .tables
                .get(table)
                .and_then(|t| t.column(column))
                .is_some_and(|c| c.generated.is_some());
            match generated {
                true => ("generated column ", format!("{table}.{column}")),
                false => ("the default of ", format!("{table}.{column}")),
            }
        }
        Dependent::Constraint(table, name) => ("constraint ", format!("{table}.{name}")),
        Dependent::Index(name) => ("index ", name.to_string()),
        Dependent::Trigger(table, name) => ("trigger ", format!("{table}.{name}")),
        Dependent::Policy(table, name) => ("policy ", format!("{table}.{name}")),
        Dependent::Function(name) => ("function ", name.to_string()),
        Dependent::Relation(name) if model.domains.contains_key(name) => {
            ("domain ", name.to_string())
        }
        Dependent::Relation(name) if model.views.contains_key(name) => ("view ", name.to_string()),
        Dependent::Relation(name) => ("type ", name.to_string()),
    }
}
