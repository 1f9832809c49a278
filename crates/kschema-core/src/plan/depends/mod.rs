//! What a change needs in place before it runs, across kinds: the edges
//! that order changes where the phases alone would not. A function
//! returning a table's rows (`RETURNS SETOF orders`) goes after the table,
//! a domain whose check calls a function after the function, a composite
//! type over a domain after the domain; drops go the other way round (the
//! function before the table it returns).
//!
//! What an object needs is what PostgreSQL recorded (`pg_depend`, read
//! into `SchemaModel::dependencies`): the live database's for what a plan
//! removes, the scratch database's the desired state was built in for what
//! it creates. Where nothing was read — while that scratch database is
//! being built (by this same order), from a snapshot, for another schema's
//! object a shared change takes along — it comes from the object's
//! statement, word by word: a word naming an object the same plan creates
//! (or drops) is taken to name it. A function's body, a string, names
//! nothing there, as in the catalog (PostgreSQL checks it once everything
//! exists); a `BEGIN ATOMIC` or `RETURN` body does, as PostgreSQL resolves
//! it when the function is created.

mod names;

pub use names::Catalogs;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use super::object_keys;
use crate::diff::Change;
use crate::load::ObjectKey;
use crate::model::Needed as Object;
use names::{creates, describe, drops, names, removes};

/// Changes that depend on each other: none can go first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cycle {
    /// What each change is about, in the order the cycle runs.
    pub members: Vec<String>,
    /// The objects the changes are about (for the desired state's
    /// diagnostics, which point at their declarations).
    pub objects: Vec<ObjectKey>,
}

impl Cycle {
    /// What the reviewer is told: `type d needs function f, which needs
    /// type d`.
    pub fn note(&self) -> String {
        // Members run in order: each needs the one before it.
        let mut chain: Vec<&str> = self.members.iter().rev().map(String::as_str).collect();
        chain.extend(self.members.last().map(String::as_str));
        format!(
            "a dependency cycle ({} needs {}): no order puts each after what it needs, so these \
             run in kschema's usual order and PostgreSQL may refuse one — change one so it no \
             longer names the other",
            chain[0],
            chain[1..].join(", which needs ")
        )
    }
}

/// `changes` (in phase order) reordered so that each runs after what it
/// needs: what it names that the plan creates, and — for a drop — the
/// drops of what named it. Where nothing is needed the phase order holds
/// (the earliest change that may run, runs). A cycle is run in phase
/// order, and returned.
pub fn in_dependency_order(
    changes: Vec<Change>,
    catalogs: Catalogs<'_>,
) -> (Vec<Change>, Vec<Cycle>) {
    let mut creators: BTreeMap<Object, Vec<usize>> = BTreeMap::new();
    let mut droppers: BTreeMap<Object, Vec<usize>> = BTreeMap::new();
    for (i, change) in changes.iter().enumerate() {
        if let Some(object) = creates(change) {
            creators.entry(object).or_default().push(i);
        }
        if let Some(object) = drops(change) {
            droppers.entry(object).or_default().push(i);
        }
    }
    if creators.is_empty() && droppers.is_empty() {
        return (changes, Vec::new());
    }
    // after[i]: the changes that must wait for i.
    let mut after: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); changes.len()];
    for (i, change) in changes.iter().enumerate() {
        let removal = removes(change);
        for object in names(change, catalogs).0 {
            if removal {
                // What this dropped object named goes after it.
                for &j in droppers.get(&object).into_iter().flatten() {
                    if j != i {
                        after[i].insert(j);
                    }
                }
            } else {
                for &j in creators.get(&object).into_iter().flatten() {
                    if j != i {
                        after[j].insert(i);
                    }
                }
            }
        }
    }
    let mut waiting_for: Vec<usize> = vec![0; changes.len()];
    for later in &after {
        for &j in later {
            waiting_for[j] += 1;
        }
    }
    // Kahn's algorithm, the earliest in phase order first.
    let mut ready: BinaryHeap<Reverse<usize>> = (0..changes.len())
        .filter(|&i| waiting_for[i] == 0)
        .map(Reverse)
        .collect();
    let mut placed = vec![false; changes.len()];
    let mut order = Vec::with_capacity(changes.len());
    let mut cycles = Vec::new();
    while order.len() < changes.len() {
        let next = match ready.pop() {
            Some(Reverse(i)) => i,
            None => {
                // What is left waits on a cycle: report it, then run its
                // earliest change as the phases would (not one merely
                // waiting on the cycle, which would then run too soon).
                let left: Vec<usize> = (0..changes.len()).filter(|&i| !placed[i]).collect();
                match find_cycle(&left, &after, &placed) {
                    Some(cycle) => {
                        cycles.push(Cycle {
                            members: cycle.iter().map(|&i| describe(&changes[i])).collect(),
                            objects: cycle
                                .iter()
                                .flat_map(|&i| object_keys(&changes[i]))
                                .collect(),
                        });
                        cycle[0]
                    }
                    None => left[0],
                }
            }
        };
        if placed[next] {
            continue;
        }
        placed[next] = true;
        order.push(next);
        for &j in &after[next] {
            waiting_for[j] = waiting_for[j].saturating_sub(1);
            if waiting_for[j] == 0 && !placed[j] {
                ready.push(Reverse(j));
            }
        }
    }
    let mut slots: Vec<Option<Change>> = changes.into_iter().map(Some).collect();
    let ordered = order.into_iter().filter_map(|i| slots[i].take()).collect();
    (ordered, cycles)
}

/// A cycle among the changes not yet placed (each waits on another), by
/// walking back along what each waits for until a change repeats.
fn find_cycle(left: &[usize], after: &[BTreeSet<usize>], placed: &[bool]) -> Option<Vec<usize>> {
    let mut waits_on: BTreeMap<usize, usize> = BTreeMap::new();
    for (i, later) in after.iter().enumerate() {
        if placed[i] {
            continue;
        }
        for &j in later {
            if !placed[j] {
                waits_on.entry(j).or_insert(i);
            }
        }
    }
    let mut path = vec![*left.first()?];
    loop {
        let current = *path.last()?;
        let previous = *waits_on.get(&current)?;
        if let Some(start) = path.iter().position(|&p| p == previous) {
            let mut cycle = path.split_off(start);
            // Listed in the order they would have to run, from the
            // earliest in phase order (which the caller runs first).
            cycle.reverse();
            if let Some(first) = (0..cycle.len()).min_by_key(|&k| cycle[k]) {
                cycle.rotate_left(first);
            }
            return Some(cycle);
        }
        path.push(previous);
    }
}

/// Pairs `(i, j)`: change `i` removes an object that names what change
/// `j` drops, so `j` runs after `i`.
pub fn drops_named(changes: &[&Change], catalogs: Catalogs<'_>) -> Vec<(usize, usize)> {
    let mut droppers: BTreeMap<Object, Vec<usize>> = BTreeMap::new();
    for (i, change) in changes.iter().enumerate() {
        if let Some(object) = drops(change) {
            droppers.entry(object).or_default().push(i);
        }
    }
    if droppers.is_empty() {
        return Vec::new();
    }
    let mut pairs = BTreeSet::new();
    for (i, change) in changes.iter().enumerate() {
        if !removes(change) {
            continue;
        }
        for object in names(change, catalogs).0 {
            for &j in droppers.get(&object).into_iter().flatten() {
                if j != i {
                    pairs.insert((i, j));
                }
            }
        }
    }
    pairs.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::names::{Named, Reading};
    use super::*;
    use crate::ident::Ident;
    use crate::model::{CompositeType, Domain, Function};

    fn function(name: &str, sql: &str) -> Function {
        Function {
            name: Ident::new(name),
            arguments: String::new(),
            inputs: 0,
            procedure: false,
            aggregate: false,
            window: false,
            definition: String::new(),
            interface: String::new(),
            atomic_body: false,
            types: Vec::new(),
            sql: sql.into(),
        }
    }

    fn domain(name: &str, sql: &str) -> Domain {
        Domain {
            name: Ident::new(name),
            base: String::new(),
            collation: None,
            default: None,
            not_null: false,
            checks: Vec::new(),
            sql: sql.into(),
        }
    }

    fn composite(name: &str, sql: &str) -> CompositeType {
        CompositeType {
            name: Ident::new(name),
            attributes: Vec::new(),
            sql: sql.into(),
        }
    }

    fn described(changes: &[Change]) -> Vec<String> {
        changes.iter().map(describe).collect()
    }

    #[test]
    fn what_a_change_names_goes_first_whatever_its_kind() {
        let changes =
            vec![
            Change::CreateDomain {
                domain: domain("posnum", "CREATE DOMAIN posnum AS numeric CHECK (positive(VALUE))"),
            },
            Change::CreateComposite {
                composite: composite("holder", "CREATE TYPE holder AS (p pair_d)"),
            },
            Change::CreateDomain {
                domain: domain("pair_d", "CREATE DOMAIN pair_d AS pair"),
            },
            Change::CreateComposite {
                composite: composite("pair", "CREATE TYPE pair AS (a posnum, posnum posnum)"),
            },
            Change::CreateFunction {
                function: function(
                    "positive",
                    "CREATE FUNCTION positive(n numeric) RETURNS boolean AS $$ SELECT holder $$",
                ),
            },
        ];
        let (ordered, cycles) = in_dependency_order(changes, Catalogs::default());
        assert_eq!(
            described(&ordered),
            [
                "function positive",
                "type posnum",
                "type pair",
                "type pair_d",
                "type holder"
            ]
        );
        // The body (a string) names nothing: no cycle through `holder`.
        assert!(cycles.is_empty());
    }

    #[test]
    fn an_argument_s_name_is_not_a_type_it_needs() {
        let mut named = Named::default();
        named.words(
            "CREATE FUNCTION f(orders integer, OUT total numeric, status status DEFAULT 'a') \
             RETURNS SETOF public.rows LANGUAGE sql RETURN g(1)",
            Reading::Routine,
        );
        let relation = |n: &str| named.0.contains(&Object::Relation(Ident::new(n)));
        assert!(!relation("orders") && !relation("total") && !relation("public"));
        assert!(relation("status") && relation("rows") && relation("integer"));
        assert!(named.0.contains(&Object::Function(Ident::new("g"))));
    }

    #[test]
    fn drops_go_before_the_drops_of_what_they_named() {
        let changes = vec![
            Change::DropFunction {
                function: function("positive", "CREATE FUNCTION positive(n numeric) AS $$ $$"),
                before_types: Vec::new(),
                dropped: true,
            },
            Change::DropDomain {
                domain: domain(
                    "posnum",
                    "CREATE DOMAIN posnum AS numeric CHECK (positive(VALUE))",
                ),
            },
        ];
        let (ordered, _) = in_dependency_order(changes, Catalogs::default());
        assert_eq!(described(&ordered), ["type posnum", "function positive"]);
    }

    #[test]
    fn what_the_catalog_recorded_wins_over_the_words() {
        // The function's alias is the domain's name: words read a cycle.
        let positive = function(
            "positive",
            "CREATE FUNCTION positive(n numeric) RETURNS boolean LANGUAGE sql \
             BEGIN ATOMIC SELECT n > 0 AS amount; END",
        );
        let amount = domain(
            "amount",
            "CREATE DOMAIN amount AS numeric CHECK (positive(VALUE))",
        );
        let changes = || {
            vec![
                Change::CreateDomain {
                    domain: amount.clone(),
                },
                Change::CreateFunction {
                    function: positive.clone(),
                },
            ]
        };
        let (_, cycles) = in_dependency_order(changes(), Catalogs::default());
        assert_eq!(cycles.len(), 1);

        // PostgreSQL recorded the domain (its check) needing the function.
        let mut needs = crate::model::Dependencies::default();
        needs
            .add(&crate::model::RawDependency {
                schema: "public".into(),
                kind: "r".into(),
                name: "amount".into(),
                detail: None,
                needed_kind: "f".into(),
                needed: "positive".into(),
                needed_schema: None,
            })
            .unwrap();
        let mut desired = crate::model::SchemaModel::default();
        desired.domains.insert(amount.name.clone(), amount.clone());
        desired.functions.push(positive.clone());
        desired.dependencies = Some(std::sync::Arc::new(needs));
        let catalogs = Catalogs {
            live: None,
            desired: Some(&desired),
        };
        let (ordered, cycles) = in_dependency_order(changes(), catalogs);
        assert_eq!(described(&ordered), ["function positive", "type amount"]);
        assert!(cycles.is_empty());

        // Dropped from a live schema that recorded the same: the domain
        // first, though the phases drop functions first.
        let drops = vec![
            Change::DropFunction {
                function: positive.clone(),
                before_types: Vec::new(),
                dropped: true,
            },
            Change::DropDomain {
                domain: amount.clone(),
            },
        ];
        let catalogs = Catalogs {
            live: Some(&desired),
            desired: None,
        };
        let (ordered, cycles) = in_dependency_order(drops, catalogs);
        assert_eq!(described(&ordered), ["type amount", "function positive"]);
        assert!(cycles.is_empty());
    }

    #[test]
    fn a_cycle_keeps_the_phase_order_and_is_named() {
        let changes = vec![
            Change::CreateDomain {
                domain: domain("early", "CREATE DOMAIN early AS cycd"),
            },
            Change::CreateFunction {
                function: function(
                    "cyc",
                    "CREATE FUNCTION cyc(x cycd) RETURNS boolean AS $$ $$",
                ),
            },
            Change::CreateDomain {
                domain: domain("cycd", "CREATE DOMAIN cycd AS int CHECK (cyc(VALUE))"),
            },
            Change::CreateDomain {
                domain: domain("after", "CREATE DOMAIN after AS cycd"),
            },
        ];
        let (ordered, cycles) = in_dependency_order(changes, Catalogs::default());
        // `early` comes first in phase order but waits for the cycle.
        assert_eq!(
            described(&ordered),
            ["function cyc", "type cycd", "type early", "type after"]
        );
        assert_eq!(cycles.len(), 1);
        assert_eq!(
            cycles[0].note().split(':').next(),
            Some("a dependency cycle (type cycd needs function cyc, which needs type cycd)")
        );
    }
}
