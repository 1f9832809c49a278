//! Enum types (`CREATE TYPE status AS ENUM ('active', 'closed')`).

use serde::{Deserialize, Serialize};

use crate::ident::Ident;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumType {
    pub name: Ident,
    /// In their sort order.
    pub labels: Vec<String>,
}

impl EnumType {
    /// Where each label `to` has and `self` lacks goes (`ADD VALUE … BEFORE
    /// / AFTER`), if `to` only adds labels and keeps the others' order;
    /// `None` when labels are removed or reordered (the type must be
    /// created again).
    pub fn additions_to(&self, to: &EnumType) -> Option<Vec<EnumAddition>> {
        let kept: Vec<&String> = to
            .labels
            .iter()
            .filter(|l| self.labels.contains(l))
            .collect();
        if kept.len() != self.labels.len() || !kept.iter().copied().eq(self.labels.iter()) {
            return None;
        }
        let mut additions = Vec::new();
        for (i, label) in to.labels.iter().enumerate() {
            if self.labels.contains(label) {
                continue;
            }
            // Placed after the label before it (existing or just added),
            // or before the first one.
            let place = match i.checked_sub(1) {
                Some(before) => EnumPlace::After(to.labels[before].clone()),
                None => match to.labels.get(1) {
                    Some(next) => EnumPlace::Before(next.clone()),
                    None => EnumPlace::End,
                },
            };
            additions.push(EnumAddition {
                label: label.clone(),
                place,
            });
        }
        Some(additions)
    }
}

/// One `ALTER TYPE … ADD VALUE`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumAddition {
    pub label: String,
    pub place: EnumPlace,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnumPlace {
    Before(String),
    After(String),
    End,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(names: &[&str]) -> EnumType {
        EnumType {
            name: Ident::new("e"),
            labels: names.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn added_labels_keep_their_place_and_removals_recreate() {
        let from = labels(&["b", "d"]);
        let added = from
            .additions_to(&labels(&["a", "b", "c", "d", "e"]))
            .unwrap();
        let places: Vec<(&str, &EnumPlace)> =
            added.iter().map(|a| (a.label.as_str(), &a.place)).collect();
        assert_eq!(
            places,
            [
                ("a", &EnumPlace::Before("b".into())),
                ("c", &EnumPlace::After("b".into())),
                ("e", &EnumPlace::After("d".into())),
            ]
        );
        assert!(from.additions_to(&labels(&["d", "b"])).is_none());
        assert!(from.additions_to(&labels(&["b"])).is_none());
        assert_eq!(from.additions_to(&from), Some(vec![]));
    }
}
