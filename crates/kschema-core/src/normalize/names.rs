//! The names PostgreSQL gives constraints, indexes and sequences nobody
//! named: `users_pkey`, `users_auth0_id_key`, `roles_project_id_fkey`,
//! `t_lower_idx`, `admins_id_seq` — including its 63-byte truncation
//! (`makeObjectName` in `src/backend/commands/indexcmds.c`) and the numeric
//! suffix it adds on a clash (`ChooseRelationName`).

use std::collections::BTreeSet;

use crate::ident::{clip_to_bytes, MAX_IDENT_BYTES};

/// `name1_name2_label`, shortening the longer of the two names first so the
/// whole fits in 63 bytes; the label is never cut.
pub fn make_object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let mut overhead = 0;
    let mut name1_len = name1.len();
    let mut name2_len = name2.map_or(0, |n| {
        overhead += 1; // separating underscore
        n.len()
    });
    if !label.is_empty() {
        overhead += label.len() + 1;
    }
    let available = MAX_IDENT_BYTES.saturating_sub(overhead);
    while name1_len + name2_len > available {
        if name1_len > name2_len {
            name1_len -= 1;
        } else {
            name2_len -= 1;
        }
    }
    let mut name = clip_to_bytes(name1, name1_len).to_string();
    if let Some(name2) = name2 {
        name.push('_');
        name.push_str(clip_to_bytes(name2, name2_len));
    }
    if !label.is_empty() {
        name.push('_');
        name.push_str(label);
    }
    name
}

/// Column names joined with `_`, as `ChooseIndexNameAddition` and
/// `ChooseForeignKeyConstraintNameAddition` do (stopping once the text is
/// longer than any name can be).
pub fn join_column_names<'a>(columns: impl IntoIterator<Item = &'a str>) -> String {
    let mut joined = String::new();
    for column in columns {
        if !joined.is_empty() {
            joined.push('_');
        }
        joined.push_str(column);
        if joined.len() > MAX_IDENT_BYTES {
            break;
        }
    }
    joined
}

/// Names already used in one schema, so a chosen name gets PostgreSQL's
/// numeric suffix on a clash (`t_a_key`, then `t_a_key1`).
#[derive(Debug, Default)]
pub struct NameChooser {
    taken: BTreeSet<String>,
}

impl NameChooser {
    pub fn reserve(&mut self, name: &str) {
        self.taken.insert(name.to_string());
    }

    pub fn choose(&mut self, name1: &str, name2: Option<&str>, label: &str) -> String {
        let mut candidate = make_object_name(name1, name2, label);
        let mut pass = 0;
        while self.taken.contains(&candidate) {
            pass += 1;
            candidate = make_object_name(name1, name2, &format!("{label}{pass}"));
        }
        self.taken.insert(candidate.clone());
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implicit_names_match_postgres() {
        assert_eq!(make_object_name("users", None, "pkey"), "users_pkey");
        assert_eq!(
            make_object_name("users", Some("auth0_id"), "key"),
            "users_auth0_id_key"
        );
        assert_eq!(
            make_object_name("roles", Some("project_id"), "fkey"),
            "roles_project_id_fkey"
        );
        assert_eq!(
            make_object_name(
                "enterprise_module_access",
                Some(&join_column_names(["enterprise_id", "module_id"])),
                "key"
            ),
            "enterprise_module_access_enterprise_id_module_id_key"
        );
    }

    #[test]
    fn long_names_are_cut_to_63_bytes_longer_part_first() {
        // Checked against PostgreSQL 15: CREATE TABLE <60 x a> (<40 x b> int UNIQUE)
        let table = "a".repeat(60);
        let column = "b".repeat(40);
        let name = make_object_name(&table, Some(&column), "key");
        assert_eq!(name.len(), 63);
        assert_eq!(name, format!("{}_{}_key", "a".repeat(29), "b".repeat(29)));
    }

    #[test]
    fn clashes_get_a_numeric_suffix() {
        let mut chooser = NameChooser::default();
        chooser.reserve("t_a_key");
        assert_eq!(chooser.choose("t", Some("a"), "key"), "t_a_key1");
        assert_eq!(chooser.choose("t", Some("a"), "key"), "t_a_key2");
    }
}
