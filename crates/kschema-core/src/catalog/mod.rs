//! The live side: catalog rows → [`LiveState`].
//!
//! Introspection (in the binary crate) runs one catalog query that returns
//! one row per table: its schema, name and a JSON document with its columns,
//! constraints and indexes, in which nothing depends on the schema's name.
//! This module turns those rows into models without I/O, and shares work:
//! tables with the same document are normalized once, and schemas made of
//! the same tables are one [`SchemaModel`] (fleets of identical tenants cost
//! one model, not thousands).
//!
//! The rows as they arrive are in `raw`; tables are turned into models in
//! `table`, every other kind in `objects`; this module holds the builder
//! and assembles the schemas.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::ident::Ident;
use crate::model::{
    Commented, CompositeType, Dependencies, Domain, EnumType, EventTrigger, Extension, Function,
    Grant, Index, RawDependency, Row, SchemaModel, SchemaName, Sequence, Table, View,
};
use crate::unmanaged::{UnmanagedKind, UnmanagedList, UnmanagedObject};

pub use crate::model::RowRead;

mod fingerprint;
mod objects;
mod raw;
mod table;

pub use fingerprint::Fingerprint;
pub use raw::{
    with_oids_named, RawColumn, RawComment, RawComposite, RawConstraint, RawDomain, RawFunction,
    RawGrant, RawIndex, RawIndexKey, RawPolicy, RawSequence, RawTable, RawTrigger, RawView,
};
pub use table::storage_options;

/// One schema's live model and its fingerprint.
#[derive(Clone, Debug)]
pub struct LiveSchema {
    pub model: Arc<SchemaModel>,
    pub fingerprint: Fingerprint,
}

/// The live state of the target schemas that exist.
#[derive(Clone, Debug, Default)]
pub struct LiveState {
    pub schemas: BTreeMap<SchemaName, LiveSchema>,
    /// What each schema holds that kschema does not manage (schemas with
    /// nothing of the kind are absent).
    pub unmanaged: BTreeMap<SchemaName, UnmanagedList>,
    /// `server_version_num` of the server it was read from, when known.
    pub server_version: Option<i32>,
}

impl LiveState {
    pub fn get(&self, schema: &SchemaName) -> Option<&LiveSchema> {
        self.schemas.get(schema)
    }

    /// What `schema` holds that kschema does not manage.
    pub fn unmanaged_in(&self, schema: &SchemaName) -> &[UnmanagedObject] {
        self.unmanaged
            .get(schema)
            .map_or(&[], |list| list.as_slice())
    }

    /// One schema of each distinct shape: what is read once per shape
    /// (what the objects need of their schema) is read from it.
    pub fn representatives(&self) -> Vec<SchemaName> {
        let mut seen = std::collections::HashSet::new();
        self.schemas
            .iter()
            .filter(|(_, s)| seen.insert(s.fingerprint))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The objects whose needs are read: each of one schema per distinct
    /// shape, as (schema, `r` relation or type / `f` function, name) — a
    /// type's array type (`_name`, as PostgreSQL names it) too, since a
    /// column of the array needs the type.
    pub fn dependency_reads(&self) -> Vec<(String, &'static str, String)> {
        let mut reads = Vec::new();
        for schema in self.representatives() {
            let Some(live) = self.schemas.get(&schema) else {
                continue;
            };
            let model = &live.model;
            let mut relation = |name: &Ident, array: bool| {
                reads.push((schema.as_str().to_string(), "r", name.as_str().to_string()));
                if array {
                    reads.push((schema.as_str().to_string(), "r", format!("_{name}")));
                }
            };
            model.tables.keys().for_each(|name| relation(name, true));
            model.views.keys().for_each(|name| relation(name, true));
            model
                .sequences
                .keys()
                .for_each(|name| relation(name, false));
            model.enums.keys().for_each(|name| relation(name, true));
            model.domains.keys().for_each(|name| relation(name, true));
            model
                .composites
                .keys()
                .for_each(|name| relation(name, true));
            let mut functions: Vec<&Ident> = model.functions.iter().map(|f| &f.name).collect();
            functions.dedup();
            for name in functions {
                reads.push((schema.as_str().to_string(), "f", name.as_str().to_string()));
            }
        }
        reads
    }

    /// Gives each schema what its objects need of it, read from the
    /// representatives of its shape (`rows`); a row of a kind this kschema
    /// does not know is an error.
    pub fn add_dependencies(&mut self, rows: &[RawDependency]) -> Result<(), String> {
        let mut by_schema: HashMap<SchemaName, Dependencies> = self
            .representatives()
            .into_iter()
            .map(|schema| (schema, Dependencies::default()))
            .collect();
        for row in rows {
            if let Some(dependencies) = by_schema.get_mut(&SchemaName::new(&row.schema)) {
                dependencies.add(row)?;
            }
        }
        let mut by_shape: HashMap<Fingerprint, Arc<SchemaModel>> = HashMap::new();
        for (name, dependencies) in by_schema {
            let Some(schema) = self.schemas.get(&name) else {
                continue;
            };
            let mut model = SchemaModel::clone(&schema.model);
            model.dependencies = Some(Arc::new(dependencies));
            by_shape.insert(schema.fingerprint, Arc::new(model));
        }
        for schema in self.schemas.values_mut() {
            if let Some(model) = by_shape.get(&schema.fingerprint) {
                schema.model = model.clone();
            }
        }
        Ok(())
    }

    /// How many distinct shapes the schemas come in.
    pub fn distinct_shapes(&self) -> usize {
        let mut seen: Vec<Fingerprint> = self.schemas.values().map(|s| s.fingerprint).collect();
        seen.sort();
        seen.dedup();
        seen.len()
    }
}

/// Sorted lists, one shared copy per distinct list: a fleet of tenants
/// with the same view holds one list.
pub fn share_lists(
    lists: BTreeMap<SchemaName, Vec<UnmanagedObject>>,
) -> BTreeMap<SchemaName, UnmanagedList> {
    let mut shared: HashMap<Vec<UnmanagedObject>, UnmanagedList> = HashMap::new();
    lists
        .into_iter()
        .filter(|(_, list)| !list.is_empty())
        .map(|(schema, mut list)| {
            list.sort();
            list.dedup();
            let list = shared
                .entry(list)
                .or_insert_with_key(|list| Arc::new(list.clone()))
                .clone();
            (schema, list)
        })
        .collect()
}

/// Builds a [`LiveState`] from rows as they stream in. Rows may come in any
/// order; models are assembled in [`LiveStateBuilder::finish`].
#[derive(Default)]
pub struct LiveStateBuilder {
    /// Tables seen so far, by name, then by document text: each is parsed
    /// once. (Keyed by name and text, every one of a fleet's tables hashed
    /// its whole document; a comparison stops at the first difference.)
    tables_by_document: HashMap<String, Vec<(Arc<str>, SharedTable)>>,
    schemas: BTreeMap<SchemaName, SchemaRows>,
    canonical_cache: HashMap<(String, String), String>,
    unmanaged: BTreeMap<SchemaName, Vec<UnmanagedObject>>,
    errors: Vec<String>,
}

/// A table as its document describes it, shared by every schema that has
/// it.
struct ParsedTable {
    table: Table,
    indexes: Vec<Index>,
    grants: Vec<Grant>,
    /// What the document lists as not compared (a serial's own options).
    not_compared: Vec<UnmanagedObject>,
}

type SharedTable = Arc<ParsedTable>;

#[derive(Default)]
struct SchemaRows {
    tables: Vec<(Ident, SharedTable)>,
    sequences: Vec<Sequence>,
    functions: Vec<Function>,
    enums: BTreeMap<Ident, EnumType>,
    domains: BTreeMap<Ident, Domain>,
    composites: BTreeMap<Ident, CompositeType>,
    extensions: BTreeMap<Ident, Extension>,
    views: BTreeMap<Ident, View>,
    event_triggers: BTreeMap<Ident, EventTrigger>,
    /// Indexes on materialized views.
    view_indexes: Vec<Index>,
    grants: std::collections::BTreeSet<Grant>,
    comments: BTreeMap<Commented, String>,
    rows: BTreeMap<Ident, Vec<Row>>,
}

impl LiveStateBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A schema that exists, even if it holds no tables.
    pub fn add_schema(&mut self, schema: &str) {
        self.schemas.entry(SchemaName::new(schema)).or_default();
    }

    /// The live rows of a seeded table (seeded columns only).
    pub fn add_rows(&mut self, schema: &str, table: &str, mut rows: Vec<Row>) {
        rows.sort_by_key(|r| serde_json::to_string(r).unwrap_or_default());
        self.schemas
            .entry(SchemaName::new(schema))
            .or_default()
            .rows
            .insert(Ident::new(table), rows);
    }

    /// An object of a kind kschema does not manage; `kind` is its code
    /// (`view`, `policy`, …). A code this kschema does not know is an error,
    /// not an object quietly left out.
    pub fn add_unmanaged(&mut self, schema: &str, kind: &str, name: String) {
        match UnmanagedKind::from_code(kind) {
            Some(kind) => self
                .unmanaged
                .entry(SchemaName::new(schema))
                .or_default()
                .push(UnmanagedObject { kind, name }),
            None => self.errors.push(format!(
                "unknown kind of unmanaged object {kind:?} in {schema}"
            )),
        }
    }

    /// Problems met on the way (rows that could not be read), if any.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    pub fn finish(self) -> LiveState {
        let mut by_shape: HashMap<(Vec<usize>, String), LiveSchema> = HashMap::new();
        let mut state = LiveState {
            unmanaged: share_lists(self.unmanaged),
            ..LiveState::default()
        };
        for (schema, mut rows) in self.schemas {
            rows.tables.sort_by(|a, b| a.0.cmp(&b.0));
            rows.sequences.sort_by(|a, b| a.name.cmp(&b.name));
            rows.functions
                .sort_by(|a, b| (&a.name, &a.arguments).cmp(&(&b.name, &b.arguments)));
            // Schemas built from the very same table objects, with the same
            // functions, are the same model (seed rows are a schema's own).
            // (A key that does not serialize shares nothing.)
            let shape_key: Option<(Vec<usize>, String)> = (rows.sequences.is_empty()
                && rows.rows.is_empty())
            .then(|| {
                serde_json::to_string(&(
                    &rows.functions,
                    &rows.enums,
                    &rows.domains,
                    &rows.composites,
                    &rows.extensions,
                    &rows.views,
                    &rows.event_triggers,
                    &rows.view_indexes,
                    &rows.grants,
                    rows.comments.iter().collect::<Vec<_>>(),
                ))
                .ok()
            })
            .flatten()
            .map(|objects| {
                let tables = rows
                    .tables
                    .iter()
                    .map(|(_, t)| Arc::as_ptr(t) as usize)
                    .collect();
                (tables, objects)
            });
            if let Some(existing) = shape_key.as_ref().and_then(|key| by_shape.get(key)) {
                state.schemas.insert(schema, existing.clone());
                continue;
            }
            let mut model = SchemaModel::default();
            for (name, shared) in &rows.tables {
                let ParsedTable {
                    table,
                    indexes,
                    grants,
                    ..
                } = shared.as_ref();
                model.privileges.grants.extend(grants.iter().cloned());
                model.tables.insert(name.clone(), table.clone());
                for index in indexes {
                    model.indexes.insert(index.name.clone(), index.clone());
                }
            }
            for sequence in rows.sequences {
                model.sequences.insert(sequence.name.clone(), sequence);
            }
            model.functions = rows.functions;
            model.enums = rows.enums;
            model.domains = rows.domains;
            model.composites = rows.composites;
            model.extensions = rows.extensions;
            model.views = rows.views;
            model.event_triggers = rows.event_triggers;
            for index in rows.view_indexes {
                model.indexes.insert(index.name.clone(), index);
            }
            model.privileges.grants.extend(rows.grants);
            model.comments = rows.comments;
            model.rows = rows.rows;
            let live = LiveSchema {
                fingerprint: Fingerprint::of(&model),
                model: Arc::new(model),
            };
            if let Some(key) = shape_key {
                by_shape.insert(key, live.clone());
            }
            state.schemas.insert(schema, live);
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Identity;

    #[test]
    fn models_that_differ_in_a_comment_have_different_fingerprints() {
        let commented = |text: &str| {
            let mut model = SchemaModel::default();
            model.comments.insert(
                Commented::Index {
                    name: Ident::new("users_email"),
                },
                text.to_string(),
            );
            model
        };
        assert_ne!(
            Fingerprint::of(&commented("by email")),
            Fingerprint::of(&commented("by address"))
        );
    }

    const USERS: &str = r#"{"columns":[
        {"name":"id","type":"integer","not_null":true,"default":"nextval('users_id_seq'::regclass)","identity":"","serial_sequence":"users_id_seq","collation":null},
        {"name":"status","type":"character varying(20)","not_null":true,"default":"'ACTIVE'::character varying","identity":"","serial_sequence":null,"collation":null}],
      "constraints":[{"name":"users_pkey","type":"p","columns":["id"],"check":null,"ref_schema":null,"ref_table":null}],
      "indexes":[]}"#;

    #[test]
    fn identical_schemas_share_one_model() {
        let mut builder = LiveStateBuilder::new();
        for schema in ["org_a", "org_b", "org_c"] {
            builder.add_table(schema, "users", USERS, schema);
        }
        let state = builder.finish();
        assert!(builder_errors_empty());
        assert_eq!(state.schemas.len(), 3);
        assert_eq!(state.distinct_shapes(), 1);
        let a = &state.schemas[&SchemaName::new("org_a")];
        let b = &state.schemas[&SchemaName::new("org_b")];
        assert!(Arc::ptr_eq(&a.model, &b.model));
        let users = &a.model.tables[&Ident::new("users")];
        assert!(matches!(
            users.columns[0].identity,
            Some(Identity::Serial { .. })
        ));
        assert_eq!(users.columns[0].default, None);
        assert_eq!(
            users.columns[1].default.as_ref().unwrap().canonical,
            "'ACTIVE'"
        );
    }

    #[test]
    fn one_shape_s_dependencies_are_read_once_and_shared() {
        let mut builder = LiveStateBuilder::new();
        for schema in ["org_a", "org_b"] {
            builder.add_table(schema, "users", USERS, schema);
        }
        builder.add_schema("public");
        let mut state = builder.finish();
        let representatives = state.representatives();
        assert_eq!(representatives.len(), 2, "{representatives:?}");
        let tenant = representatives
            .iter()
            .find(|s| s.as_str() != "public")
            .unwrap();
        let row = RawDependency {
            schema: tenant.as_str().into(),
            kind: "c".into(),
            name: "users".into(),
            detail: Some("id".into()),
            needed_kind: "r".into(),
            needed: "users_id_seq".into(),
            needed_schema: None,
        };
        state.add_dependencies(std::slice::from_ref(&row)).unwrap();
        let column = crate::model::Dependent::Column(Ident::new("users"), Ident::new("id"));
        for schema in ["org_a", "org_b"] {
            let model = &state.schemas[&SchemaName::new(schema)].model;
            let needs: Vec<_> = model.dependencies.as_ref().unwrap().of(&column).collect();
            assert_eq!(
                needs,
                [&crate::model::Needed::Relation(Ident::new("users_id_seq"))]
            );
        }
        let public = &state.schemas[&SchemaName::public()].model;
        assert_eq!(
            public.dependencies.as_deref(),
            Some(&crate::model::Dependencies::default())
        );
        // A kind this kschema does not know is an error, not left out.
        let unknown = RawDependency {
            kind: "x".into(),
            ..row
        };
        assert!(state.add_dependencies(&[unknown]).is_err());
    }

    fn builder_errors_empty() -> bool {
        let mut b = LiveStateBuilder::new();
        b.add_table("s", "t", USERS, "s");
        b.errors().is_empty()
    }

    #[test]
    fn view_trees_name_their_own_schemas_oids() {
        let own: HashMap<String, String> = [
            ("16400".to_string(), "rel:tasks".to_string()),
            ("16500".to_string(), "label:status.open".to_string()),
        ]
        .into_iter()
        .collect();
        let tree = "{RTE :relid 16400 :location 12} {CONST :constlen 4 :constvalue 4 [ 116 64 0 0 0 0 0 0 ]} :x 16401";
        assert_eq!(
            with_oids_named(tree, &own),
            "{RTE :relid @rel:tasks :location 12} {CONST :constlen 4 :constvalue 4 [ @label:status.open ]} :x 16401"
        );
        assert_eq!(with_oids_named(tree, &HashMap::new()), tree);
    }

    /// A referential action this kschema does not know fails the read
    /// instead of passing for NO ACTION.
    #[test]
    fn an_unknown_referential_action_is_an_error() {
        let document = |action: &str| {
            format!(
                r#"{{"columns":[{{"name":"user_id","type":"integer","not_null":false,"default":null,"identity":"","serial_sequence":null,"collation":null}}],
                   "constraints":[{{"name":"orders_user_fk","type":"f","columns":["user_id"],"check":null,"ref_schema":null,"ref_table":"users","ref_columns":["id"],"on_delete":"{action}","on_update":"a"}}],
                   "indexes":[]}}"#
            )
        };
        let mut known = LiveStateBuilder::new();
        known.add_table("s", "orders", &document("c"), "s");
        assert_eq!(known.errors(), &[] as &[String]);
        let state = known.finish();
        let orders = &state.schemas[&SchemaName::new("s")].model.tables[&Ident::new("orders")];
        assert_eq!(orders.constraints.len(), 1);

        let mut unknown = LiveStateBuilder::new();
        unknown.add_table("s", "orders", &document("z"), "s");
        assert_eq!(
            unknown.errors(),
            &["foreign key \"orders_user_fk\": unknown referential action \"z\"".to_string()]
        );
    }

    /// Every catalog code the table document carries is known or fails the
    /// read: an identity, match type, constraint type or replica identity
    /// a newer PostgreSQL adds is never taken for the nearest old one.
    #[test]
    fn unknown_catalog_codes_are_errors() {
        let document = |identity: &str, contype: &str, matching: &str, replica: &str| {
            format!(
                r#"{{"columns":[{{"name":"user_id","type":"integer","not_null":false,"default":null,"identity":"{identity}","serial_sequence":null,"collation":null}}],
                   "constraints":[{{"name":"orders_user_fk","type":"{contype}","columns":["user_id"],"check":null,"ref_schema":null,"ref_table":"users","ref_columns":["id"],"on_delete":"a","on_update":"a","match":"{matching}"}}],
                   "indexes":[],"replica_identity":"{replica}"}}"#
            )
        };
        let errors = |identity, contype, matching, replica| {
            let mut builder = LiveStateBuilder::new();
            builder.add_table(
                "s",
                "orders",
                &document(identity, contype, matching, replica),
                "s",
            );
            builder.errors().to_vec()
        };
        assert_eq!(errors("", "f", "s", "d"), Vec::<String>::new());
        assert_eq!(errors("d", "f", "f", "f"), Vec::<String>::new());
        // A constraint trigger's row is left to the not-compared report.
        assert_eq!(errors("", "t", "", "n"), Vec::<String>::new());
        assert_eq!(
            errors("z", "f", "s", "d"),
            ["column orders.user_id: unknown attidentity \"z\"".to_string()]
        );
        assert_eq!(
            errors("", "q", "s", "d"),
            ["constraint \"orders_user_fk\": unknown contype \"q\"".to_string()]
        );
        assert_eq!(
            errors("", "f", "p", "d"),
            ["foreign key \"orders_user_fk\": unknown match type \"p\"".to_string()]
        );
        assert_eq!(
            errors("", "f", "s", "y"),
            ["table orders: unknown relreplident \"y\"".to_string()]
        );
    }

    #[test]
    fn fingerprints_round_trip_as_hex() {
        let f = Fingerprint::of(&SchemaModel::default());
        let text = f.to_string();
        assert_eq!(Fingerprint::try_from(text).unwrap(), f);
    }
}
