//! Types built on a type created again — a domain over it, a composite
//! type with an attribute of it that a column uses or that changes too —
//! are created again inside its change (`along`): after the new type is
//! made, so they are built on it, and before the old one goes, which
//! their old forms hold. Their columns convert as theirs would on their
//! own — a domain over a composite type attribute by attribute by name,
//! as the composite's columns. One the files drop goes as it is, and its
//! own drop, later, drops the new form.

use std::collections::BTreeSet;

use super::composite::holders_of;
use super::enum_type::{columns_of, dependents_of};
use super::{Change, ConvertedColumn, ForeignColumns};
use crate::ident::Ident;
use crate::model::{Attribute, SchemaModel};

/// A live type of the schema built on another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Builder {
    pub name: Ident,
    pub domain: bool,
    /// Why a composite type is not turned in place (`ALTER ATTRIBUTE`).
    pub why: &'static str,
}

/// A type recreation's indexes and defaults (table, column) taken off,
/// to fill.
pub(super) type TakenOffMut<'a> = (&'a mut Vec<Ident>, &'a mut Vec<(Ident, Ident)>);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Enum,
    Domain,
    Composite,
}

fn recreated(change: &Change) -> Option<(&Ident, Kind)> {
    match change {
        Change::RecreateEnum { to, .. } => Some((&to.name, Kind::Enum)),
        Change::RecreateDomain { to, .. } => Some((&to.name, Kind::Domain)),
        Change::RecreateComposite { to, .. } => Some((&to.name, Kind::Composite)),
        _ => None,
    }
}

/// The type a change alters or creates again.
fn changed_type(change: &Change) -> Option<&Ident> {
    match change {
        Change::AlterDomain { name, .. } | Change::AlterComposite { name, .. } => Some(name),
        other => other.type_recreated(),
    }
}

/// The types built on `name` that its recreation takes along — as the
/// files have them, or as they are when the files drop them (their own
/// drop, later in the plan, drops the new form).
fn builders_along(name: &Ident, live: &SchemaModel, desired: &SchemaModel) -> Vec<(Ident, Kind)> {
    holders_of(name, live, desired)
        .1
        .into_iter()
        .map(|builder| match builder.domain {
            true => (builder.name, Kind::Domain),
            false => (builder.name, Kind::Composite),
        })
        .collect()
}

/// Every type some recreation takes along, however deep.
fn reach(name: &Ident, live: &SchemaModel, desired: &SchemaModel, seen: &mut BTreeSet<Ident>) {
    for (builder, _) in builders_along(name, live, desired) {
        if seen.insert(builder.clone()) {
            reach(&builder, live, desired, seen);
        }
    }
}

/// The recreations `name`'s takes along, each with its own; a type built
/// on two types created again goes with the one processed first
/// (`taken`: the inner one, see `take_builders_along`).
fn recreations_along(
    name: &Ident,
    live: &SchemaModel,
    desired: &SchemaModel,
    taken: &mut BTreeSet<Ident>,
) -> Vec<Change> {
    let mut along = Vec::new();
    for (builder, builder_kind) in builders_along(name, live, desired) {
        if !taken.insert(builder.clone()) {
            continue;
        }
        let inner = recreations_along(&builder, live, desired, taken);
        let columns = columns_of(&builder, live, desired);
        let holders = holders_of(&builder, live, desired).0;
        let change = match builder_kind {
            Kind::Domain => Change::RecreateDomain {
                from: live.domains[&builder].clone(),
                to: desired
                    .domains
                    .get(&builder)
                    .unwrap_or(&live.domains[&builder])
                    .clone(),
                columns,
                indexes: Vec::new(),
                defaults: Vec::new(),
                foreign: Vec::new(),
                holders,
                along: inner,
            },
            _ => Change::RecreateComposite {
                from: live.composites[&builder].clone(),
                to: desired
                    .composites
                    .get(&builder)
                    .unwrap_or(&live.composites[&builder])
                    .clone(),
                columns,
                indexes: Vec::new(),
                defaults: Vec::new(),
                foreign: Vec::new(),
                holders,
                along: inner,
            },
        };
        along.push(change);
    }
    along
}

/// The types of another schema (`model`, as it is live) built on a
/// shared type created again, which that schema spells `name`: the
/// composite types holding it that are turned in place, and the types
/// created again inside its change as they are live (the schema's own
/// plan, made before, changes them after), each with those built on it,
/// their columns converted.
pub fn foreign_builders_along(
    name: &Ident,
    model: &SchemaModel,
) -> (Vec<(Ident, Attribute)>, Vec<Change>) {
    (
        holders_of(name, model, model).0,
        recreations_along(name, model, model, &mut BTreeSet::new()),
    )
}

/// Puts each type built on a type created again inside that type's
/// change, in place of its own (an `ALTER`, a recreation). An enum's
/// recreation also takes off the checks and indexes reading the columns
/// converted along — they compare with its old labels — and puts the
/// files' back after, as for its own columns.
pub(super) fn take_builders_along(
    live: &SchemaModel,
    desired: &SchemaModel,
    changes: &mut Vec<Change>,
) {
    let roots: Vec<(Ident, Kind)> = changes
        .iter()
        .filter_map(recreated)
        .map(|(name, kind)| (name.clone(), kind))
        .collect();
    // What each root takes along, however deep.
    let reaches: Vec<BTreeSet<Ident>> = roots
        .iter()
        .map(|(name, _)| {
            let mut seen = BTreeSet::new();
            reach(name, live, desired, &mut seen);
            seen
        })
        .collect();
    let reachable: BTreeSet<&Ident> = reaches.iter().flatten().collect();
    if reachable.is_empty() {
        return;
    }
    // Roots sharing what is built on them (a composite type holding two
    // enums created again): each goes inside the recreation of the last
    // one before it that it shares with, and the shared builders with the
    // innermost — so they are made once every new type they hold exists,
    // and off the old ones before any of those goes.
    let (top, reaches): (Vec<(Ident, Kind)>, Vec<BTreeSet<Ident>>) = roots
        .into_iter()
        .zip(reaches.iter().cloned())
        .filter(|((n, _), _)| !reachable.contains(n))
        .unzip();
    let outer: Vec<Option<usize>> = (0..top.len())
        .map(|i| (0..i).rev().find(|&j| !reaches[i].is_disjoint(&reaches[j])))
        .collect();
    let mut taken = BTreeSet::new();
    let mut alongs: Vec<(Ident, Kind, Vec<Change>)> = Vec::new();
    for (name, kind) in top.iter().rev() {
        let along = recreations_along(name, live, desired, &mut taken);
        if !along.is_empty() {
            alongs.push((name.clone(), *kind, along));
        }
    }
    changes.retain(|change| !changed_type(change).is_some_and(|name| taken.contains(name)));
    let mut dependents = Vec::new();
    let mut enum_indexes: Vec<(Ident, Vec<Ident>)> = Vec::new();
    for (name, _, along) in alongs.iter().filter(|(_, kind, _)| *kind == Kind::Enum) {
        let columns: Vec<ConvertedColumn> = along
            .iter()
            .flat_map(Change::with_along)
            .flat_map(Change::converted_columns)
            .cloned()
            .collect();
        let (found, indexes) = dependents_of(&columns, live, desired, changes);
        dependents.extend(found);
        enum_indexes.push((name.clone(), indexes));
    }
    for change in changes.iter_mut() {
        let Some(name) = change.type_recreated().cloned() else {
            continue;
        };
        let Some(at) = alongs.iter().position(|(n, _, _)| *n == name) else {
            continue;
        };
        let nested = alongs.swap_remove(at).2;
        match change {
            Change::RecreateEnum { along, indexes, .. } => {
                along.extend(nested);
                if let Some((_, more)) = enum_indexes.iter().find(|(n, _)| *n == name) {
                    indexes.extend(more.iter().cloned());
                }
            }
            Change::RecreateDomain { along, .. } | Change::RecreateComposite { along, .. } => {
                along.extend(nested)
            }
            _ => {}
        }
    }
    for (inner, outer) in outer.iter().enumerate().rev() {
        let Some(outer) = outer else {
            continue;
        };
        let recreates = |change: &Change, at: usize| change.type_recreated() == Some(&top[at].0);
        let Some(at) = changes.iter().position(|c| recreates(c, inner)) else {
            continue;
        };
        if !changes.iter().any(|c| recreates(c, *outer)) {
            continue;
        }
        let moved = changes.remove(at);
        if let Some(
            Change::RecreateEnum { along, .. }
            | Change::RecreateDomain { along, .. }
            | Change::RecreateComposite { along, .. },
        ) = changes.iter_mut().find(|c| recreates(c, *outer))
        {
            along.insert(0, moved);
        }
    }
    changes.extend(dependents);
}

/// A type recreation's parts, and the recreations inside it.
impl Change {
    /// The type a change creates again under its name (an enum, a domain,
    /// a composite type), if it is one.
    pub fn type_recreated(&self) -> Option<&Ident> {
        match self {
            Change::RecreateEnum { to, .. } => Some(&to.name),
            Change::RecreateDomain { to, .. } => Some(&to.name),
            Change::RecreateComposite { to, .. } => Some(&to.name),
            _ => None,
        }
    }

    /// The types created again inside this one's change (`along`), and
    /// theirs in turn.
    pub fn along(&self) -> &[Change] {
        match self {
            Change::RecreateEnum { along, .. }
            | Change::RecreateDomain { along, .. }
            | Change::RecreateComposite { along, .. } => along,
            _ => &[],
        }
    }

    /// Other schemas' part of a shared type's recreation: their columns,
    /// functions and types built on it.
    pub fn foreign(&self) -> &[ForeignColumns] {
        match self {
            Change::RecreateEnum { foreign, .. }
            | Change::RecreateDomain { foreign, .. }
            | Change::RecreateComposite { foreign, .. } => foreign,
            _ => &[],
        }
    }

    /// The columns a type recreation converts (its schema's).
    pub fn converted_columns(&self) -> &[ConvertedColumn] {
        match self {
            Change::RecreateEnum { columns, .. }
            | Change::RecreateDomain { columns, .. }
            | Change::RecreateComposite { columns, .. } => columns,
            _ => &[],
        }
    }

    /// The composite types of its schema a type recreation turns in place.
    pub fn holders(&self) -> &[(Ident, Attribute)] {
        match self {
            Change::RecreateEnum { holders, .. }
            | Change::RecreateDomain { holders, .. }
            | Change::RecreateComposite { holders, .. } => holders,
            _ => &[],
        }
    }

    /// The indexes and defaults (table, column) a type recreation takes
    /// off before its old type goes (`diff::type_users`).
    pub fn taken_off(&self) -> (&[Ident], &[(Ident, Ident)]) {
        match self {
            Change::RecreateEnum {
                indexes, defaults, ..
            }
            | Change::RecreateDomain {
                indexes, defaults, ..
            }
            | Change::RecreateComposite {
                indexes, defaults, ..
            } => (indexes, defaults),
            _ => (&[], &[]),
        }
    }

    pub(super) fn taken_off_mut(&mut self) -> Option<TakenOffMut<'_>> {
        match self {
            Change::RecreateEnum {
                indexes, defaults, ..
            }
            | Change::RecreateDomain {
                indexes, defaults, ..
            }
            | Change::RecreateComposite {
                indexes, defaults, ..
            } => Some((indexes, defaults)),
            _ => None,
        }
    }

    /// This change and every type recreation inside it, outermost first.
    pub fn with_along(&self) -> Vec<&Change> {
        let mut all = vec![self];
        let mut at = 0;
        while at < all.len() {
            let inner = all[at].along();
            all.extend(inner);
            at += 1;
        }
        all
    }

    /// `fill` given this change, then every type recreation inside it.
    pub fn each_with_along_mut(&mut self, fill: &mut dyn FnMut(&mut Change)) {
        fill(self);
        if let Change::RecreateEnum { along, .. }
        | Change::RecreateDomain { along, .. }
        | Change::RecreateComposite { along, .. } = self
        {
            for inner in along {
                inner.each_with_along_mut(fill);
            }
        }
    }
}
