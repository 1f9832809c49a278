//! Every other kind's rows: sequences, functions, views, privileges,
//! comments, extensions, types and event triggers.

use super::{
    LiveStateBuilder, RawComment, RawComposite, RawDomain, RawFunction, RawGrant, RawSequence,
    RawTable, RawView,
};
use crate::ident::Ident;
use crate::model::{
    Attribute, ColumnType, Commented, CompositeType, DefaultObjects, Domain, DomainCheck, EnumType,
    EventTrigger, Extension, Function, Grant, GrantObject, SchemaName, Sequence, TriggerFiring,
    View,
};
use crate::normalize::qualifier::strip_qualifier;

impl LiveStateBuilder {
    pub fn add_sequence(&mut self, raw: RawSequence) {
        self.schemas
            .entry(SchemaName::new(&raw.schema))
            .or_default()
            .sequences
            .push(Sequence {
                name: Ident::new(raw.name),
                data_type: ColumnType::parse(&raw.data_type),
                options: raw.options,
            });
    }

    /// A function or procedure; its definition without its schema's name.
    pub fn add_function(&mut self, raw: RawFunction) {
        let (procedure, aggregate, window) = match raw.kind.as_str() {
            "f" => (false, false, false),
            "p" => (true, false, false),
            "a" => (false, true, false),
            "w" => (false, false, true),
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
                aggregate,
                window,
                sql: definition.clone(),
                definition,
                interface: strip_qualifier(&raw.interface, &raw.schema),
                atomic_body: raw.atomic_body,
                types: raw.types.into_iter().map(Ident::new).collect(),
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
        let calls_outside: Vec<(String, String)> = match serde_json::from_str(&raw.calls_outside) {
            Ok(calls) => calls,
            Err(e) => {
                self.errors.push(format!(
                    "what view {}.{} calls in other schemas: {e}",
                    raw.schema, raw.name
                ));
                return;
            }
        };
        let outside: Vec<(String, String, Option<String>)> =
            match serde_json::from_str(&raw.reads_outside) {
                Ok(outside) => outside,
                Err(e) => {
                    self.errors.push(format!(
                        "what view {}.{} reads in other schemas: {e}",
                        raw.schema, raw.name
                    ));
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
                calls: raw.calls.into_iter().map(Ident::new).collect(),
                calls_outside: calls_outside
                    .into_iter()
                    .map(|(schema, function)| (SchemaName::new(schema), Ident::new(function)))
                    .collect(),
                reads_outside: outside
                    .into_iter()
                    .map(|(schema, table, column)| {
                        (
                            SchemaName::new(schema),
                            Ident::new(table),
                            column.map(Ident::new),
                        )
                    })
                    .collect(),
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
            ("type_attribute", Some(attribute)) => Commented::TypeAttribute {
                type_name: name(),
                attribute,
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
                    data_type: ColumnType::parse(&strip_qualifier(&data_type, &raw.schema)),
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
}
