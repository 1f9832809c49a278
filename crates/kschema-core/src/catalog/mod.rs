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
//! Longer than ~600 lines: the builder turns every kind's rows into a
//! model (the rows themselves are in `raw`); the table conversion is the
//! bulk, and splits out next (issue 11).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ident::Ident;
use crate::model::{
    Attribute, Column, ColumnType, Commented, CompositeType, Constraint, ConstraintKind,
    DefaultObjects, Deferrable, Domain, DomainCheck, EnumType, EventTrigger, Extension, ForeignKey,
    Function, Grant, GrantObject, Identity, Index, IndexExpr, IndexKey, PartitionOf, Policy,
    ReferentialAction, ReplicaIdentity, Row, RowSecurity, SchemaModel, SchemaName, SchemaRef,
    Sequence, SqlExpr, Table, TableRef, Trigger, TriggerFiring, View,
};
use crate::normalize::expr::{canonicalize_text, ExprContext};
use crate::normalize::qualifier::strip_qualifier;
use crate::unmanaged::{UnmanagedKind, UnmanagedList, UnmanagedObject};

pub use crate::model::RowRead;

mod raw;
pub use raw::{
    with_oids_named, RawColumn, RawComment, RawComposite, RawConstraint, RawDomain, RawFunction,
    RawGrant, RawIndex, RawIndexKey, RawPolicy, RawSequence, RawTable, RawTrigger, RawView,
};

/// A SHA-256 over a schema model's canonical JSON: equal fingerprints mean
/// equal schemas, whatever their names.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    pub fn of(model: &SchemaModel) -> Fingerprint {
        // Every model serializes (a test makes sure); were one not to, its
        // debug form still tells it from others.
        let json = serde_json::to_vec(model).unwrap_or_else(|_| format!("{model:?}").into_bytes());
        Fingerprint(Sha256::digest(&json).into())
    }

    /// The fingerprint of a schema that does not exist.
    pub fn absent() -> Fingerprint {
        Fingerprint([0; 32])
    }

    /// The first 12 hex digits, for display.
    pub fn short(&self) -> String {
        self.to_string()[..12].to_string()
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fingerprint({})", self.short())
    }
}

impl From<Fingerprint> for String {
    fn from(f: Fingerprint) -> String {
        f.to_string()
    }
}

impl TryFrom<String> for Fingerprint {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        if text.len() != 64 {
            return Err(format!(
                "a fingerprint has 64 hex digits, not {}",
                text.len()
            ));
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[i * 2..i * 2 + 2], 16).map_err(|e| e.to_string())?;
        }
        Ok(Fingerprint(bytes))
    }
}

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

    /// How many distinct shapes the schemas come in.
    pub fn distinct_shapes(&self) -> usize {
        let mut seen: Vec<Fingerprint> = self.schemas.values().map(|s| s.fingerprint).collect();
        seen.sort();
        seen.dedup();
        seen.len()
    }
}

/// `reloptions` (`fillfactor=70`) as (name, value), in their order.
pub fn storage_options(options: &[String]) -> Vec<(String, String)> {
    options
        .iter()
        .map(|option| match option.split_once('=') {
            Some((name, value)) => (name.to_string(), value.to_string()),
            None => (option.clone(), String::new()),
        })
        .collect()
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
    /// Tables seen so far, by name and document text: each is parsed once.
    tables_by_document: HashMap<(Ident, Arc<str>), SharedTable>,
    schemas: BTreeMap<SchemaName, SchemaRows>,
    canonical_cache: HashMap<(String, String), String>,
    unmanaged: BTreeMap<SchemaName, Vec<UnmanagedObject>>,
    errors: Vec<String>,
}

/// A table with its indexes, shared by every schema that has it.
type SharedTable = Arc<(Table, Vec<Index>, Vec<Grant>)>;

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

    /// One table row: its schema, its name and its JSON document, read
    /// from the table of that name in `read_from` (the one table that
    /// represents all of its shape): definitions that PostgreSQL qualified
    /// with that schema's name are taken without it.
    pub fn add_table(&mut self, schema: &str, table: &str, document: &str, read_from: &str) {
        let key = (Ident::new(table), Arc::<str>::from(document));
        let shared = match self.tables_by_document.get(&key) {
            Some(shared) => shared.clone(),
            None => {
                let parsed = match serde_json::from_str::<RawTable>(document) {
                    Ok(raw) => self.table_from_raw(table, raw, read_from),
                    Err(e) => {
                        self.errors
                            .push(format!("catalog row for {schema}.{table}: {e}"));
                        return;
                    }
                };
                let shared = Arc::new(parsed);
                self.tables_by_document.insert(key, shared.clone());
                shared
            }
        };
        self.schemas
            .entry(SchemaName::new(schema))
            .or_default()
            .tables
            .push((Ident::new(table), shared));
    }

    pub fn add_sequence(&mut self, raw: RawSequence) {
        self.schemas
            .entry(SchemaName::new(&raw.schema))
            .or_default()
            .sequences
            .push(Sequence {
                name: Ident::new(raw.name),
                data_type: ColumnType::new(raw.data_type),
                options: raw.options,
            });
    }

    /// A function or procedure; its definition without its schema's name.
    pub fn add_function(&mut self, raw: RawFunction) {
        let procedure = match raw.kind.as_str() {
            "f" => false,
            "p" => true,
            other => {
                self.errors.push(format!(
                    "function {}.{}: unknown prokind {other:?}",
                    raw.schema, raw.name
                ));
                return;
            }
        };
        let definition = strip_qualifier(&raw.definition, &raw.schema);
        self.schemas
            .entry(SchemaName::new(&raw.schema))
            .or_default()
            .functions
            .push(Function {
                name: Ident::new(raw.name),
                arguments: strip_qualifier(&raw.arguments, &raw.schema),
                inputs: usize::try_from(raw.inputs).unwrap_or_default(),
                procedure,
                sql: definition.clone(),
                definition,
                interface: strip_qualifier(&raw.interface, &raw.schema),
                atomic_body: raw.atomic_body,
            });
    }

    /// A view; its query without its schema's name.
    pub fn add_view(&mut self, raw: RawView) {
        let columns: Vec<(String, String)> = match serde_json::from_str(&raw.columns) {
            Ok(columns) => columns,
            Err(e) => {
                self.errors
                    .push(format!("columns of view {}.{}: {e}", raw.schema, raw.name));
                return;
            }
        };
        let name = Ident::new(&raw.name);
        // A materialized view's indexes, read as a table's are.
        let indexes = match raw.indexes.as_deref().map(serde_json::from_str::<RawTable>) {
            Some(Ok(document)) => self.table_from_raw(&raw.name, document, &raw.read_from).1,
            Some(Err(e)) => {
                self.errors
                    .push(format!("indexes of view {}.{}: {e}", raw.schema, raw.name));
                return;
            }
            None => Vec::new(),
        };
        let definition = strip_qualifier(&raw.definition, &raw.read_from);
        let mut options = raw.options;
        options.sort();
        let with = if options.is_empty() {
            String::new()
        } else {
            format!(" WITH ({})", options.join(", "))
        };
        let sql = format!(
            "{} {}{with} AS\n{}",
            match raw.materialized {
                true => "CREATE MATERIALIZED VIEW",
                false => "CREATE OR REPLACE VIEW",
            },
            name.quoted(),
            definition.trim_end().trim_end_matches(';')
        );
        let rows = self
            .schemas
            .entry(SchemaName::new(&raw.schema))
            .or_default();
        rows.view_indexes.extend(indexes);
        rows.views.insert(
            name.clone(),
            View {
                name,
                definition,
                columns: columns
                    .into_iter()
                    .map(|(c, t)| (Ident::new(c), strip_qualifier(&t, &raw.read_from)))
                    .collect(),
                options,
                reads: raw.reads.into_iter().map(Ident::new).collect(),
                sql,
                materialized: raw.materialized,
            },
        );
    }

    /// A privilege granted in a schema.
    pub fn add_grant(&mut self, raw: RawGrant) {
        let name = || Ident::new(raw.object.clone().unwrap_or_default());
        let object = match (raw.kind.as_str(), &raw.detail) {
            ("schema", _) => GrantObject::Schema,
            ("table", _) => GrantObject::Table { name: name() },
            ("sequence", _) => GrantObject::Sequence { name: name() },
            ("column", Some(column)) => GrantObject::Column {
                table: name(),
                column: Ident::new(column),
            },
            ("function", Some(arguments)) => GrantObject::Function {
                name: name(),
                arguments: strip_qualifier(arguments, &raw.schema),
                procedure: raw.procedure,
            },
            (kind @ ("defaults" | "global_defaults"), owner) => {
                let code = raw.object.as_deref().unwrap_or_default();
                let Some(objects) = DefaultObjects::from_catalog(code) else {
                    self.errors.push(format!(
                        "default privileges on {code:?} in {} not understood",
                        raw.schema
                    ));
                    return;
                };
                GrantObject::Defaults {
                    owner: owner.as_ref().map(Ident::new),
                    global: kind == "global_defaults",
                    objects,
                }
            }
            (other, _) => {
                self.errors.push(format!(
                    "privilege on {other:?} in {} not understood",
                    raw.schema
                ));
                return;
            }
        };
        self.schemas
            .entry(SchemaName::new(&raw.schema))
            .or_default()
            .grants
            .insert(Grant {
                object,
                role: Ident::new(raw.role),
                privilege: raw.privilege,
                grantable: raw.grantable,
            });
    }

    /// A comment on something in a schema that is not a table or column.
    pub fn add_comment(&mut self, raw: RawComment) {
        let name = || Ident::new(&raw.object);
        let detail = || raw.detail.as_deref().map(Ident::new);
        let object = match (raw.kind.as_str(), detail()) {
            ("index", _) => Commented::Index { name: name() },
            ("sequence", _) => Commented::Sequence { name: name() },
            ("view", _) => Commented::View { name: name() },
            ("materialized_view", _) => Commented::MaterializedView { name: name() },
            ("type", _) => Commented::Type { name: name() },
            ("domain", _) => Commented::Domain { name: name() },
            ("extension", _) => Commented::Extension { name: name() },
            ("event_trigger", _) => Commented::EventTrigger { name: name() },
            ("view_column", Some(column)) => Commented::ViewColumn {
                view: name(),
                column,
            },
            ("constraint", Some(part)) => Commented::Constraint {
                table: name(),
                name: part,
            },
            ("trigger", Some(part)) => Commented::Trigger {
                table: name(),
                name: part,
            },
            ("policy", Some(part)) => Commented::Policy {
                table: name(),
                name: part,
            },
            ("function", Some(_)) => Commented::Function {
                name: name(),
                arguments: strip_qualifier(raw.detail.as_deref().unwrap_or_default(), &raw.schema),
                procedure: raw.procedure,
            },
            (other, _) => {
                self.errors.push(format!(
                    "comment on {other:?} in {} not understood",
                    raw.schema
                ));
                return;
            }
        };
        self.schemas
            .entry(SchemaName::new(&raw.schema))
            .or_default()
            .comments
            .insert(object, raw.text);
    }

    /// An extension (database-wide: part of public's model).
    pub fn add_extension(&mut self, name: String, schema: String, version: String) {
        let name = Ident::new(name);
        self.schemas
            .entry(SchemaName::public())
            .or_default()
            .extensions
            .insert(
                name.clone(),
                Extension {
                    name,
                    schema: Some(Ident::new(schema)),
                    version: Some(version),
                },
            );
    }

    /// An enum type and its labels in sort order.
    pub fn add_enum(&mut self, schema: &str, name: String, labels: Vec<String>) {
        let name = Ident::new(name);
        self.schemas
            .entry(SchemaName::new(schema))
            .or_default()
            .enums
            .insert(name.clone(), EnumType { name, labels });
    }

    /// A domain, with the statement that would create it as it is.
    pub fn add_domain(&mut self, raw: RawDomain) {
        let own = |text: &str| strip_qualifier(text, &raw.schema);
        let checks: Vec<(String, String, bool)> = match serde_json::from_str(&raw.checks) {
            Ok(checks) => checks,
            Err(e) => {
                self.errors
                    .push(format!("domain {}'s checks not understood: {e}", raw.name));
                return;
            }
        };
        let name = Ident::new(&raw.name);
        let mut domain = Domain {
            name: name.clone(),
            base: own(&raw.base),
            collation: raw.collation.clone(),
            default: raw.default.as_deref().map(own),
            not_null: raw.not_null,
            checks: checks
                .into_iter()
                .map(|(name, definition, validated)| DomainCheck {
                    name: Ident::new(name),
                    definition: own(&definition),
                    validated,
                })
                .collect(),
            sql: String::new(),
        };
        domain.sql = crate::definition::create_domain(&domain).render_relative();
        self.schemas
            .entry(SchemaName::new(&raw.schema))
            .or_default()
            .domains
            .insert(name, domain);
    }

    /// An event trigger (database-wide: part of public's model).
    pub fn add_event_trigger(
        &mut self,
        name: String,
        event: String,
        tags: Vec<String>,
        function: String,
        enabled: String,
    ) {
        let Some(firing) = TriggerFiring::from_catalog(&enabled) else {
            self.errors.push(format!(
                "event trigger {name}: unknown evtenabled {enabled:?}"
            ));
            return;
        };
        let name = Ident::new(name);
        let mut trigger = EventTrigger {
            name: name.clone(),
            event,
            tags,
            function: strip_qualifier(&function, "public"),
            firing,
            sql: String::new(),
        };
        trigger.sql = crate::definition::create_event_trigger(&trigger);
        self.schemas
            .entry(SchemaName::public())
            .or_default()
            .event_triggers
            .insert(name, trigger);
    }

    /// A composite type; its attributes' types without its schema's name.
    pub fn add_composite(&mut self, raw: RawComposite) {
        type RawAttribute = (String, String, Option<String>);
        let attributes: Vec<RawAttribute> = match serde_json::from_str(&raw.attributes) {
            Ok(attributes) => attributes,
            Err(e) => {
                self.errors.push(format!(
                    "type {}'s attributes not understood: {e}",
                    raw.name
                ));
                return;
            }
        };
        let name = Ident::new(&raw.name);
        let mut composite = CompositeType {
            name: name.clone(),
            attributes: attributes
                .into_iter()
                .map(|(name, data_type, collation)| Attribute {
                    name: Ident::new(name),
                    data_type: strip_qualifier(&data_type, &raw.schema),
                    collation,
                })
                .collect(),
            sql: String::new(),
        };
        composite.sql = crate::definition::create_composite(&composite).render_relative();
        self.schemas
            .entry(SchemaName::new(&raw.schema))
            .or_default()
            .composites
            .insert(name, composite);
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
                let (table, indexes, grants) = shared.as_ref();
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

    fn table_from_raw(
        &mut self,
        name: &str,
        mut raw: RawTable,
        read_from: &str,
    ) -> (Table, Vec<Index>, Vec<Grant>) {
        raw.leave_out_schema(read_from);
        let grants: Vec<Grant> = raw
            .grants
            .iter()
            .map(|(column, role, privilege, grantable)| Grant {
                object: match column {
                    Some(column) => GrantObject::Column {
                        table: Ident::new(name),
                        column: Ident::new(column),
                    },
                    None => GrantObject::Table {
                        name: Ident::new(name),
                    },
                },
                role: Ident::new(role),
                privilege: privilege.clone(),
                grantable: *grantable,
            })
            .collect();
        let unlogged = raw.unlogged;
        let mut triggers = Vec::with_capacity(raw.triggers.len());
        for t in &raw.triggers {
            let Some(firing) = TriggerFiring::from_catalog(&t.enabled) else {
                self.errors.push(format!(
                    "trigger {} on {name}: unknown tgenabled {:?}",
                    t.name, t.enabled
                ));
                continue;
            };
            let definition = t.definition.clone();
            triggers.push(Trigger {
                name: Ident::new(&t.name),
                sql: definition.clone(),
                definition,
                constraint: t.constraint,
                own_function: t.own_function.as_ref().map(Ident::new),
                firing,
            });
        }
        let comment = raw.comment.clone();
        let replica_identity = match (raw.replica_identity.as_str(), &raw.replica_index) {
            ("f", _) => Some(ReplicaIdentity::Full),
            ("n", _) => Some(ReplicaIdentity::Nothing),
            ("i", Some(index)) => Some(ReplicaIdentity::UsingIndex(Ident::new(index))),
            _ => None,
        };
        let options = storage_options(raw.options.as_deref().unwrap_or_default());
        let column_types: BTreeMap<Ident, ColumnType> = raw
            .columns
            .iter()
            .map(|c| (Ident::new(&c.name), ColumnType::new(&c.data_type)))
            .collect();
        let table_key = serde_json::to_string(&column_types).unwrap_or_default();
        let partition_of = match (raw.partition_of.take(), raw.partition_bound.take()) {
            (Some(parent), Some(bound)) => Some(PartitionOf {
                parent: Ident::new(parent),
                bound: SqlExpr::stored(bound),
            }),
            _ => None,
        };
        let partition_key = raw.partition_key.take().map(SqlExpr::stored);
        // A partition's columns are its parent's.
        let own_columns = if partition_of.is_some() {
            Vec::new()
        } else {
            std::mem::take(&mut raw.columns)
        };
        let columns = own_columns
            .into_iter()
            .map(|c| {
                let data_type = ColumnType::new(c.data_type);
                let identity = match (c.identity.as_str(), &c.serial_sequence) {
                    ("a", _) => Some(Identity::Always),
                    ("d", _) => Some(Identity::ByDefault),
                    (_, Some(sequence)) => Some(Identity::Serial {
                        sequence: Ident::new(sequence),
                    }),
                    _ => None,
                };
                let default = match identity {
                    Some(Identity::Serial { .. }) => None,
                    _ => c
                        .default
                        .map(|text| self.sql_expr(text, "", &data_type, None)),
                };
                let generated = c
                    .generated
                    .map(|text| self.sql_expr(text, &table_key, &data_type, None));
                let mut column = Column {
                    name: Ident::new(c.name),
                    data_type,
                    not_null: c.not_null,
                    default,
                    identity,
                    identity_options: None,
                    collation: c.collation.map(Ident::new),
                    generated,
                    comment: c.comment,
                };
                if column.is_identity() {
                    column.identity_options = c
                        .identity_sequence
                        .and_then(|options| options.unless_default(&column.data_type));
                }
                column
            })
            .collect();
        let mut constraints: Vec<Constraint> = raw
            .constraints
            .into_iter()
            .filter_map(|c| self.constraint_from_raw(c, &column_types, &table_key))
            .collect();
        constraints.sort_by(|a, b| a.name.cmp(&b.name));
        let table_name = Ident::new(name);
        let policies = raw
            .policies
            .iter()
            .map(|p| {
                let policy = Ident::new(&p.name);
                Policy {
                    sql: format!(
                        "CREATE POLICY {} ON {} {}",
                        policy.quoted(),
                        table_name.quoted(),
                        p.definition
                    ),
                    name: policy,
                    definition: p.definition.clone(),
                }
            })
            .collect();
        let indexes = raw
            .indexes
            .into_iter()
            .map(|i| Index {
                name: Ident::new(i.name),
                table: table_name.clone(),
                unique: i.unique,
                method: Ident::new(i.method),
                keys: i
                    .keys
                    .into_iter()
                    .map(|k| IndexKey {
                        expr: match (k.column, k.expr) {
                            (Some(column), _) => IndexExpr::Column(Ident::new(column)),
                            (None, Some(expr)) => IndexExpr::Expression(self.sql_expr(
                                expr,
                                &table_key,
                                &ColumnType::new(""),
                                Some(&column_types),
                            )),
                            (None, None) => IndexExpr::Column(Ident::new("?")),
                        },
                        opclass: k.opclass.map(Ident::new),
                        collation: k.collation.map(Ident::new),
                        descending: k.desc,
                        nulls_first: k.nulls_first,
                    })
                    .collect(),
                include: i.include.into_iter().map(Ident::new).collect(),
                predicate: i.predicate.map(|p| {
                    self.sql_expr(p, &table_key, &ColumnType::new(""), Some(&column_types))
                }),
                nulls_not_distinct: i.nulls_not_distinct,
                valid: i.valid,
                implicit_name: false,
                partitioned: i.partitioned,
                options: storage_options(i.options.as_deref().unwrap_or_default()),
            })
            .collect();
        (
            Table {
                name: table_name,
                columns,
                constraints,
                comment,
                unlogged,
                replica_identity,
                options,
                triggers,
                row_security: RowSecurity {
                    enabled: raw.row_security,
                    forced: raw.force_row_security,
                },
                policies,
                partition_key,
                partition_of,
            },
            indexes,
            grants,
        )
    }

    fn constraint_from_raw(
        &mut self,
        raw: RawConstraint,
        column_types: &BTreeMap<Ident, ColumnType>,
        table_key: &str,
    ) -> Option<Constraint> {
        let columns: Vec<Ident> = raw.columns.iter().map(Ident::new).collect();
        let kind = match raw.kind.as_str() {
            "p" => ConstraintKind::PrimaryKey {
                columns,
                deferrable: Deferrable::from_catalog(raw.deferrable, raw.deferred),
            },
            "u" => ConstraintKind::Unique {
                columns,
                nulls_not_distinct: raw.nulls_not_distinct,
                deferrable: Deferrable::from_catalog(raw.deferrable, raw.deferred),
            },
            "c" => ConstraintKind::Check {
                expr: self.sql_expr(
                    raw.check.unwrap_or_default(),
                    table_key,
                    &ColumnType::new(""),
                    Some(column_types),
                ),
                no_inherit: raw.no_inherit,
            },
            "f" => ConstraintKind::ForeignKey(ForeignKey {
                columns,
                references: TableRef {
                    schema: match raw.ref_schema {
                        None => SchemaRef::Own,
                        Some(schema) => SchemaRef::Named(SchemaName::new(schema)),
                    },
                    table: Ident::new(raw.ref_table.unwrap_or_default()),
                },
                referenced_columns: raw.ref_columns.iter().map(Ident::new).collect(),
                on_delete: catalog_action(&raw.on_delete),
                on_update: catalog_action(&raw.on_update),
                match_full: raw.match_type == "f",
                deferrable: Deferrable::from_catalog(raw.deferrable, raw.deferred),
            }),
            "x" => {
                let definition = raw.definition.unwrap_or_default();
                ConstraintKind::Exclusion {
                    definition: SqlExpr {
                        canonical: definition.clone(),
                        sql: definition,
                    },
                }
            }
            // Trigger constraints are not constraints of a table's model
            // (unmanaged.sql lists their triggers).
            _ => return None,
        };
        Some(Constraint {
            name: Ident::new(raw.name),
            kind,
            validated: raw.validated,
            implicit_name: false,
        })
    }

    /// Canonicalizes a deparsed expression, once per distinct (text, context).
    fn sql_expr(
        &mut self,
        text: String,
        table_key: &str,
        assigned_to: &ColumnType,
        columns: Option<&BTreeMap<Ident, ColumnType>>,
    ) -> SqlExpr {
        let key = (text, format!("{table_key}\u{0}{assigned_to}"));
        if let Some(canonical) = self.canonical_cache.get(&key) {
            return SqlExpr {
                canonical: canonical.clone(),
                sql: key.0,
            };
        }
        let ctx = ExprContext {
            columns,
            assigned_to: (!assigned_to.as_str().is_empty()).then_some(assigned_to),
        };
        // A deparse sqlparser cannot read is kept verbatim: it still compares
        // equal to itself, so it never causes a false difference on re-plan.
        let canonical = canonicalize_text(&key.0, ctx).unwrap_or_else(|_| key.0.clone());
        self.canonical_cache.insert(key.clone(), canonical.clone());
        SqlExpr {
            canonical,
            sql: key.0,
        }
    }
}

fn catalog_action(code: &str) -> ReferentialAction {
    match code {
        "r" => ReferentialAction::Restrict,
        "c" => ReferentialAction::Cascade,
        "n" => ReferentialAction::SetNull,
        "d" => ReferentialAction::SetDefault,
        _ => ReferentialAction::NoAction,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn fingerprints_round_trip_as_hex() {
        let f = Fingerprint::of(&SchemaModel::default());
        let text = f.to_string();
        assert_eq!(Fingerprint::try_from(text).unwrap(), f);
    }
}
