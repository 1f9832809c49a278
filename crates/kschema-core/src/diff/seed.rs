//! Seed rows: the rows kschema keeps in seeded tables, against the live
//! rows of their key and seeded columns.

use crate::ident::Ident;
use crate::load::seeds::Seed;
use crate::model::{SchemaModel, SchemaRef};
use crate::seed_value::{canonical_live, from_live};

use super::{Change, RowUpdate};

/// Seed rows: missing ones inserted, differing seeded columns updated,
/// undeclared ones deleted when the seed prunes. Tables referenced by other
/// seeded tables come first (and, for deletes, last).
pub fn diff_seeds(
    live: Option<&SchemaModel>,
    desired: &SchemaModel,
    seeds: &[Seed],
) -> Vec<Change> {
    let order = seed_order(desired, seeds);
    let mut writes = Vec::new();
    let mut deletes = Vec::new();
    for seed in order {
        let Some(table) = desired.tables.get(&seed.table) else {
            continue;
        };
        let type_of = |column: &Ident| table.column(column).map(|c| c.data_type.clone());
        let live_rows: &[crate::model::Row] = live
            .and_then(|l| l.rows.get(&seed.table))
            .map(|rows| rows.as_slice())
            .unwrap_or(&[]);
        let canonical_key =
            |values: &dyn Fn(&Ident) -> Option<serde_json::Value>| -> Vec<serde_json::Value> {
                seed.key
                    .iter()
                    .map(|k| values(k).unwrap_or(serde_json::Value::Null))
                    .collect()
            };
        let live_by_key: Vec<(Vec<serde_json::Value>, &crate::model::Row)> = live_rows
            .iter()
            .map(|row| {
                let key = canonical_key(&|k| {
                    let t = type_of(k)?;
                    Some(canonical_live(
                        row.get(k).unwrap_or(&serde_json::Value::Null),
                        &t,
                    ))
                });
                (key, row)
            })
            .collect();
        let mut matched = vec![false; live_by_key.len()];
        for row in &seed.rows {
            let key = canonical_key(&|k| row.values.get(k).map(|v| v.canonical.clone()));
            match live_by_key.iter().position(|(k, _)| *k == key) {
                None => writes.push(Change::InsertRow {
                    table: seed.table.clone(),
                    key: row.key_of(&seed.key),
                    values: row
                        .values
                        .iter()
                        .map(|(c, v)| (c.clone(), v.clone()))
                        .collect(),
                }),
                Some(i) => {
                    matched[i] = true;
                    let live_row = live_by_key[i].1;
                    let set: Vec<RowUpdate> = row
                        .values
                        .iter()
                        .filter(|(column, _)| !seed.key.contains(column))
                        .filter_map(|(column, value)| {
                            let t = type_of(column)?;
                            let current = live_row
                                .get(column)
                                .cloned()
                                .unwrap_or(serde_json::Value::Null);
                            (canonical_live(&current, &t) != value.canonical).then(|| RowUpdate {
                                column: column.clone(),
                                from: current,
                                to: value.clone(),
                            })
                        })
                        .collect();
                    if !set.is_empty() {
                        writes.push(Change::UpdateRow {
                            table: seed.table.clone(),
                            key: row.key_of(&seed.key),
                            set,
                        });
                    }
                }
            }
        }
        if seed.prune {
            for ((_, row), matched) in live_by_key.iter().zip(&matched) {
                if !matched {
                    let key = seed
                        .key
                        .iter()
                        .filter_map(|k| Some((k.clone(), from_live(row.get(k)?, &type_of(k)?))))
                        .collect();
                    deletes.insert(
                        0,
                        Change::DeleteRow {
                            table: seed.table.clone(),
                            key,
                        },
                    );
                }
            }
        }
    }
    deletes.extend(writes);
    deletes
}

/// Seeds in foreign-key order: a table after the seeded tables it references.
pub(super) fn seed_order<'a>(desired: &SchemaModel, seeds: &'a [Seed]) -> Vec<&'a Seed> {
    let mut remaining: Vec<&Seed> = seeds.iter().collect();
    remaining.sort_by(|a, b| a.table.cmp(&b.table));
    let mut ordered = Vec::new();
    while !remaining.is_empty() {
        let ready = remaining
            .iter()
            .position(|seed| {
                desired.tables.get(&seed.table).is_none_or(|t| {
                    t.foreign_keys().all(|(_, fk)| {
                        fk.references.schema != SchemaRef::Own
                            || fk.references.table == seed.table
                            || !remaining
                                .iter()
                                .any(|other| other.table == fk.references.table)
                    })
                })
            })
            .unwrap_or(0);
        ordered.push(remaining.remove(ready));
    }
    ordered
}
