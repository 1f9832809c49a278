//! Live collections against the declared ones → what changes, in run
//! order. Collections the desired state does not declare are left alone:
//! dropping one is never planned.

use super::{Collection, MongoIndex, MongoState};

/// One difference between a live database and the desired collections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MongoChange {
    /// A collection that does not exist yet, with its validator (its
    /// indexes follow as their own changes).
    CreateCollection { collection: Collection },
    /// `collMod`: the validator, level or action differ.
    ModifyCollection { from: Collection, to: Collection },
    CreateIndex {
        collection: String,
        index: MongoIndex,
        /// It takes the place of a live index dropped for it (renamed, or
        /// its keys or options changed).
        replaces: bool,
    },
    DropIndex {
        collection: String,
        index: MongoIndex,
        why: Option<&'static str>,
    },
}

/// What takes `live` (absent: the database is empty) to `desired`.
pub fn diff_mongo(live: Option<&MongoState>, desired: &[Collection]) -> Vec<MongoChange> {
    let empty = MongoState::default();
    let live = live.unwrap_or(&empty);
    let mut changes = Vec::new();
    for want in desired {
        match live.collections.get(&want.name) {
            None => {
                changes.push(MongoChange::CreateCollection {
                    collection: want.clone(),
                });
                changes.extend(want.indexes.iter().map(|index| MongoChange::CreateIndex {
                    collection: want.name.clone(),
                    index: index.clone(),
                    replaces: false,
                }));
            }
            Some(have) => {
                let settings_differ = have.validator != want.validator
                    || have.validation_level != want.validation_level
                    || have.validation_action != want.validation_action;
                if settings_differ {
                    changes.push(MongoChange::ModifyCollection {
                        from: have.clone(),
                        to: want.clone(),
                    });
                }
                diff_indexes(have, want, &mut changes);
            }
        }
    }
    changes
}

/// An index is its keys and options, not its name: a declared name that
/// differs is a rename, and the same name with other keys or options a
/// new definition — both dropped and built again. MongoDB can neither
/// rename an index nor hold two of the same keys and options (it refuses
/// the second with IndexOptionsConflict), so such drops go first.
fn diff_indexes(have: &Collection, want: &Collection, changes: &mut Vec<MongoChange>) {
    let mut used = vec![false; have.indexes.len()];
    let mut creates = Vec::new();
    let mut drops = Vec::new();
    let create = |index: &MongoIndex, replaces| MongoChange::CreateIndex {
        collection: want.name.clone(),
        index: index.clone(),
        replaces,
    };
    let drop = |index: &MongoIndex, why| MongoChange::DropIndex {
        collection: want.name.clone(),
        index: index.clone(),
        why,
    };
    for index in &want.indexes {
        let same = have
            .indexes
            .iter()
            .enumerate()
            .position(|(i, h)| !used[i] && h.same_definition(index));
        match same {
            Some(i) => {
                used[i] = true;
                if let Some(name) = &index.name {
                    if have.indexes[i].effective_name() != *name {
                        creates.push(create(index, true));
                        drops.push(drop(&have.indexes[i], Some("renamed")));
                    }
                }
            }
            None => {
                let replaced =
                    have.indexes.iter().enumerate().position(|(i, h)| {
                        !used[i] && h.effective_name() == index.effective_name()
                    });
                if let Some(i) = replaced {
                    used[i] = true;
                    drops.push(drop(
                        &have.indexes[i],
                        Some("its keys or options change: dropped and built again"),
                    ));
                }
                creates.push(create(index, replaced.is_some()));
            }
        }
    }
    for (i, index) in have.indexes.iter().enumerate() {
        if !used[i] {
            drops.push(drop(index, None));
        }
    }
    // Drops of a name, or of keys and options, that are built again go
    // first; the rest after the builds (queries keep an index meanwhile).
    let index_of = |change: &MongoChange| match change {
        MongoChange::CreateIndex { index, .. } | MongoChange::DropIndex { index, .. } => {
            Some(index.clone())
        }
        _ => None,
    };
    let (first, later): (Vec<MongoChange>, Vec<MongoChange>) = drops.into_iter().partition(|d| {
        creates.iter().any(|c| match (index_of(c), index_of(d)) {
            (Some(built), Some(dropped)) => {
                built.effective_name() == dropped.effective_name()
                    || built.same_definition(&dropped)
            }
            _ => false,
        })
    });
    changes.extend(first);
    changes.extend(creates);
    changes.extend(later);
}
