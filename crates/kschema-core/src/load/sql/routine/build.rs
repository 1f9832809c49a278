//! The routine statements of a scope into its model: functions and
//! procedures (overloads told apart), triggers and policies onto their
//! tables, views, domains, composite types, event triggers, grants,
//! default privileges and comments, each kept as written with the
//! schema's name left open.
//!
//! Over ~600 lines for a reason: `build_routines` is one pass over the
//! scope's statements in file order, since an overload's place and a
//! trigger's table depend on what came before; a function per kind inside
//! it is the next split.

use crate::load::statements::Comment;
use sqlparser::tokenizer::Token;

use miette::SourceSpan;

use super::super::{Annotations, Loader, Origin, Scope};
use super::{DeclaredRoutine, RoutineKind};
use crate::diagnostic::Problem;
use crate::ident::Ident;
use crate::load::dump::is_word;
use crate::load::{LoadedScope, ObjectKey};
use crate::model::{
    CompositeType, Domain, EventTrigger, Function, Policy, Trigger, TriggerFiring, View,
};
use crate::normalize::qualifier::strip_qualifier;
use crate::sql::Sql;

impl Loader {
    /// Functions into the model, triggers onto their tables (which must be
    /// declared in the same scope).
    pub(in crate::load::sql) fn build_routines(&mut self, loaded: &mut LoadedScope) {
        // `ALTER EVENT TRIGGER … DISABLE`, once every event trigger is in.
        let mut event_firings: Vec<(Ident, TriggerFiring, Origin)> = Vec::new();
        for routine in std::mem::take(&mut self.routines) {
            let what = match routine.kind {
                RoutineKind::Function {
                    procedure: true, ..
                } => "procedure",
                RoutineKind::Function {
                    aggregate: true, ..
                } => "aggregate",
                RoutineKind::Function { .. } => "function",
                RoutineKind::Trigger { .. } => "trigger",
                RoutineKind::View { .. } => "view",
                RoutineKind::Policy { .. } => "policy",
                RoutineKind::Grant => "grant",
                RoutineKind::DefaultPrivileges => "default privileges",
                RoutineKind::Comment { .. } => "comment",
                RoutineKind::Domain => "domain",
                RoutineKind::Composite => "type",
                RoutineKind::EventTrigger | RoutineKind::EventTriggerFiring { .. } => {
                    "event trigger"
                }
            };
            match &routine.kind {
                RoutineKind::Grant => {
                    self.grant_declared(&routine, loaded);
                    continue;
                }
                RoutineKind::DefaultPrivileges => {
                    self.default_privileges_declared(&routine, loaded);
                    continue;
                }
                RoutineKind::Comment { on } => {
                    self.comment_declared(&routine, on, loaded);
                    continue;
                }
                _ => {}
            }
            let Some(name) = self.routine_name(&routine, &routine.name, what) else {
                continue;
            };
            let sql = match &self.dump_schema {
                Some(schema) => strip_qualifier(&routine.replacing_text(), schema.as_str()),
                None => routine.replacing_text(),
            };
            let span = routine.file.span_between(routine.start, routine.end);
            let leading: Vec<&Comment> = routine.leading_comments.iter().collect();
            let annotations = self.annotations(&routine.file, &leading);
            let origin = Origin {
                file: routine.file.clone(),
                span: SourceSpan::new(
                    span.offset().into(),
                    span.len().min(
                        routine.file.text()[span.offset()..]
                            .find('\n')
                            .unwrap_or(span.len()),
                    ),
                ),
                annotations,
            };
            // A rename or a conversion means nothing here: refused, not
            // ignored.
            if origin.annotations.renamed_from.is_some() || origin.annotations.using.is_some() {
                self.problems.push(
                    Problem::new(
                        "kschema::annotation::misplaced",
                        format!("a {what} takes no `renamed-from` or `using` annotation"),
                    )
                    .at(&routine.file, origin.span, "annotated above")
                    .with_help("`renamed-from` renames tables and columns, `using` converts a column's values; a function, view, trigger or policy takes `-- kschema:allow-hazard …`"),
                );
            }
            match &routine.kind {
                RoutineKind::Function {
                    procedure,
                    aggregate,
                    inputs,
                } => {
                    // Overloads with as many arguments are told apart by
                    // the order they are declared in until PostgreSQL has
                    // read their argument types (`overload_placeholder`).
                    let overloads = loaded
                        .model
                        .functions
                        .iter()
                        .filter(|f| f.name == name && f.inputs == *inputs)
                        .count();
                    let arguments = overload_placeholder(overloads);
                    let key = match overloads {
                        0 => ObjectKey::Function(name.clone(), *inputs),
                        n => ObjectKey::Overload(name.clone(), *inputs, n),
                    };
                    loaded.origins.insert(key, origin);
                    loaded.model.functions.push(Function {
                        name,
                        arguments,
                        inputs: *inputs,
                        procedure: *procedure,
                        aggregate: *aggregate,
                        // Read from the desired state as stored.
                        window: false,
                        definition: String::new(),
                        interface: String::new(),
                        atomic_body: routine.atomic,
                        // Read from the desired state as stored.
                        types: Vec::new(),
                        sql,
                    });
                }
                RoutineKind::View {
                    mentions,
                    materialized,
                } => {
                    if loaded.model.views.contains_key(&name) {
                        self.problems.push(
                            Problem::new(
                                "kschema::sql::duplicate_view",
                                format!("view {name} is defined twice"),
                            )
                            .at(&routine.file, origin.span, "defined again here")
                            .with_help("keep one definition"),
                        );
                        continue;
                    }
                    loaded.origins.insert(ObjectKey::View(name.clone()), origin);
                    loaded.model.views.insert(
                        name.clone(),
                        View {
                            name,
                            definition: String::new(),
                            columns: Vec::new(),
                            options: Vec::new(),
                            // Narrowed to the scope's relations below.
                            reads: mentions.clone(),
                            reads_outside: Vec::new(),
                            // The stored form says (see `normalize::stored`).
                            calls: Vec::new(),
                            calls_outside: Vec::new(),
                            sql,
                            materialized: *materialized,
                        },
                    );
                }
                RoutineKind::EventTrigger | RoutineKind::EventTriggerFiring { .. }
                    if !self.speaks_for_database() =>
                {
                    self.problems.push(
                        Problem::new(
                            "kschema::sql::event_trigger_scope",
                            format!("event trigger {name} in {}", self.folder()),
                        )
                        .at(&routine.file, origin.span, "here")
                        .with_help("event triggers are the database's (they fire for every schema): declare them in schema/public"),
                    );
                }
                RoutineKind::EventTriggerFiring { firing } => {
                    event_firings.push((name, *firing, origin));
                }
                RoutineKind::EventTrigger => {
                    if loaded.model.event_triggers.contains_key(&name) {
                        self.problems.push(
                            Problem::new(
                                "kschema::sql::duplicate_event_trigger",
                                format!("event trigger {name} is defined twice"),
                            )
                            .at(&routine.file, origin.span, "defined again here")
                            .with_help("keep one definition"),
                        );
                        continue;
                    }
                    loaded
                        .origins
                        .insert(ObjectKey::EventTrigger(name.clone()), origin);
                    // What it is, PostgreSQL says when the desired state is
                    // built.
                    loaded.model.event_triggers.insert(
                        name.clone(),
                        EventTrigger {
                            name,
                            event: String::new(),
                            tags: Vec::new(),
                            function: String::new(),
                            firing: TriggerFiring::Enabled,
                            sql,
                        },
                    );
                }
                RoutineKind::Domain | RoutineKind::Composite => {
                    if loaded.model.domains.contains_key(&name)
                        || loaded.model.enums.contains_key(&name)
                        || loaded.model.composites.contains_key(&name)
                    {
                        self.problems.push(
                            Problem::new(
                                "kschema::sql::duplicate_type",
                                format!("type {name} is defined twice"),
                            )
                            .at(&routine.file, origin.span, "defined again here")
                            .with_help("keep one definition"),
                        );
                        continue;
                    }
                    loaded.origins.insert(ObjectKey::Type(name.clone()), origin);
                    // What it is, PostgreSQL says when the desired state is
                    // built.
                    if matches!(routine.kind, RoutineKind::Composite) {
                        loaded.model.composites.insert(
                            name.clone(),
                            CompositeType {
                                name,
                                attributes: Vec::new(),
                                sql,
                            },
                        );
                        continue;
                    }
                    loaded.model.domains.insert(
                        name.clone(),
                        Domain {
                            name,
                            base: String::new(),
                            collation: None,
                            default: None,
                            not_null: false,
                            checks: Vec::new(),
                            sql,
                        },
                    );
                }
                // Declared above, before any name is read.
                RoutineKind::Grant
                | RoutineKind::DefaultPrivileges
                | RoutineKind::Comment { .. } => {}
                RoutineKind::Policy { table } => {
                    let Some(on) = self.table_of(&routine, table, &name, "policy", loaded, &origin)
                    else {
                        continue;
                    };
                    let table_name = on.name.clone();
                    on.policies.push(Policy {
                        name: name.clone(),
                        definition: String::new(),
                        sql,
                        // The stored form says (see `normalize::stored`).
                        calls: Vec::new(),
                        calls_outside: Vec::new(),
                        reads_outside: Vec::new(),
                    });
                    on.policies.sort_by(|a, b| a.name.cmp(&b.name));
                    loaded
                        .origins
                        .insert(ObjectKey::Policy(table_name, name), origin);
                }
                RoutineKind::Trigger { table, constraint } => {
                    let Some(on) =
                        self.table_of(&routine, table, &name, "trigger", loaded, &origin)
                    else {
                        continue;
                    };
                    let table_name = on.name.clone();
                    on.triggers.push(Trigger {
                        name: name.clone(),
                        definition: String::new(),
                        constraint: *constraint,
                        own_function: None,
                        firing: TriggerFiring::Enabled,
                        sql,
                    });
                    on.triggers.sort_by(|a, b| a.name.cmp(&b.name));
                    loaded
                        .origins
                        .insert(ObjectKey::Trigger(table_name, name), origin);
                }
            }
        }
        // What a view reads, of what the scope declares (its own name and
        // every other word of its query are not).
        let relations: Vec<Ident> = loaded
            .model
            .tables
            .keys()
            .chain(loaded.model.views.keys())
            .cloned()
            .collect();
        for view in loaded.model.views.values_mut() {
            let mut reads: Vec<Ident> = view
                .reads
                .iter()
                .filter(|name| **name != view.name && relations.contains(name))
                .cloned()
                .collect();
            reads.sort();
            reads.dedup();
            view.reads = reads;
        }
        for (name, firing, origin) in event_firings {
            match loaded.model.event_triggers.get_mut(&name) {
                Some(trigger) => trigger.firing = firing,
                None => self.problems.push(
                    Problem::new(
                        "kschema::sql::unknown_trigger",
                        format!("there is no event trigger {name} to enable or disable"),
                    )
                    .at(&origin.file, origin.span, "this statement")
                    .with_help("declare the event trigger (CREATE EVENT TRIGGER) in schema/public"),
                ),
            }
        }
        for declared in std::mem::take(&mut self.trigger_firings) {
            let found = loaded
                .model
                .tables
                .get_mut(&declared.table)
                .and_then(|t| t.triggers.iter_mut().find(|t| t.name == declared.trigger));
            match found {
                Some(trigger) => trigger.firing = declared.firing,
                None => self.problems.push(
                    Problem::new(
                        "kschema::sql::unknown_trigger",
                        format!(
                            "table {} has no trigger {}",
                            declared.table, declared.trigger
                        ),
                    )
                    .at(&declared.file, declared.span, "this statement")
                    .with_help("declare the trigger (CREATE TRIGGER) in the same folder"),
                ),
            }
        }
    }

    /// A `GRANT` / `REVOKE` as it runs when the desired state is built: the
    /// dump's own schema qualifier left out, and `ON SCHEMA <that schema>`
    /// made the target schema's. Hand-written tenant files (no `CREATE
    /// SCHEMA`) name the tenant's schema as a dump of one tenant would:
    /// `ON SCHEMA org_<any id>` means each tenant's own.
    fn grant_declared(&mut self, routine: &DeclaredRoutine, loaded: &mut LoadedScope) {
        let text = routine.replacing_text();
        let span = routine.file.span_between(routine.start, routine.end);
        let first_line = routine.file.text()[span.offset()..]
            .find('\n')
            .unwrap_or(span.len())
            .min(span.len());
        let sql = match (&self.dump_schema, &self.scope) {
            (Some(schema), _) => {
                with_schema_placeholder(&strip_qualifier(&text, schema.as_str()), schema)
            }
            (None, Scope::Tenant) => match on_schema_names(&text).as_slice() {
                [] => Sql::new().text(text),
                [schema] if is_tenant_schema(schema) => {
                    with_schema_placeholder(&strip_qualifier(&text, schema.as_str()), schema)
                }
                named => {
                    let named: Vec<String> = named.iter().map(|s| s.quoted().to_string()).collect();
                    self.problems.push(
                        Problem::new(
                            "kschema::sql::tenant_schema_grant",
                            format!(
                                "the tenant files set privileges on schema {}, which is not the tenant's",
                                named.join(", ")
                            ),
                        )
                        .at(
                            &routine.file,
                            SourceSpan::new(span.offset().into(), first_line),
                            "this statement",
                        )
                        .with_help(
                            "the tenant files speak for each tenant's schema: name it as a dump of one tenant does (ON SCHEMA org_<any tenant's id>, alone in the statement); a shared schema's privileges are its own files' to set",
                        ),
                    );
                    return;
                }
            },
            (None, _) => Sql::new().text(text),
        };
        loaded.origins.insert(
            ObjectKey::Grant(loaded.grants.len()),
            Origin {
                file: routine.file.clone(),
                span: SourceSpan::new(span.offset().into(), first_line),
                annotations: Annotations::default(),
            },
        );
        loaded.grants.push(sql);
    }

    /// `ALTER DEFAULT PRIVILEGES`, run as written before the scope's
    /// objects when the desired state is built. In public's files `IN
    /// SCHEMA public`, or none for the database's own; in the tenant files
    /// none, which means each tenant's schema (a tenant dump's own schema
    /// means the same).
    fn default_privileges_declared(&mut self, routine: &DeclaredRoutine, loaded: &mut LoadedScope) {
        let text = routine.replacing_text();
        let span = routine.file.span_between(routine.start, routine.end);
        let first_line = routine.file.text()[span.offset()..]
            .find('\n')
            .unwrap_or(span.len())
            .min(span.len());
        let origin = Origin {
            file: routine.file.clone(),
            span: SourceSpan::new(span.offset().into(), first_line),
            annotations: Annotations::default(),
        };
        let schemas = in_schema_names(&text);
        let own = match self.scope {
            Scope::Shared => self.own.clone(),
            Scope::Tenant => self.dump_schema.clone().unwrap_or_else(|| Ident::new("")),
        };
        let refuse = |help: &str| {
            Problem::new(
                "kschema::sql::default_privileges_schema",
                "ALTER DEFAULT PRIVILEGES in a schema kschema does not manage from here",
            )
            .at(&origin.file, origin.span, "this statement")
            .with_help(help.to_string())
        };
        if schemas.iter().any(|s| *s != own)
            || (schemas.is_empty() && self.scope == Scope::Shared && !self.speaks_for_database())
        {
            self.problems.push(refuse(match self.scope {
                Scope::Shared if self.speaks_for_database() => "public's files speak for public (IN SCHEMA public) or, with no IN SCHEMA, for the whole database",
                Scope::Shared => "a shared schema's files speak for that schema: write IN SCHEMA with its name (without IN SCHEMA, only public's files speak for the whole database)",
                Scope::Tenant => "the tenant files speak for each tenant's schema: leave IN SCHEMA out (kschema applies them in each tenant's schema)",
            }));
            return;
        }
        let sql = match (&self.scope, &self.dump_schema) {
            (Scope::Tenant, Some(schema)) if !schemas.is_empty() => {
                with_schema_placeholder(&text, schema)
            }
            (Scope::Tenant, _) => {
                // `ALTER DEFAULT PRIVILEGES` is three words: the schema goes
                // after them.
                let after = text
                    .to_ascii_uppercase()
                    .find("PRIVILEGES")
                    .map_or(0, |at| at + "PRIVILEGES".len());
                Sql::new()
                    .text(&text[..after])
                    .text(" IN SCHEMA ")
                    .schema()
                    .text(&text[after..])
            }
            (Scope::Shared, _) => Sql::new().text(text),
        };
        loaded
            .origins
            .insert(ObjectKey::DefaultGrant(loaded.default_grants.len()), origin);
        loaded.default_grants.push(sql);
    }

    /// Whether the scope's files create a view (or materialized view) of
    /// this name (read before the views are built).
    pub(in crate::load::sql) fn declares_view(&self, name: &Ident) -> bool {
        self.declared_view(name).is_some()
    }

    /// Whether the scope's files create a composite type of this name.
    pub(in crate::load::sql) fn declares_composite(&self, name: &Ident) -> bool {
        self.routines
            .iter()
            .any(|r| matches!(r.kind, RoutineKind::Composite) && r.name.last() == Some(name))
    }

    /// Whether the view of this name the scope's files create, if any, is
    /// a materialized one.
    pub(in crate::load::sql) fn declared_view(&self, name: &Ident) -> Option<bool> {
        self.routines.iter().find_map(|r| match r.kind {
            RoutineKind::View { materialized, .. } if r.name.last() == Some(name) => {
                Some(materialized)
            }
            _ => None,
        })
    }

    /// A `COMMENT ON` an object kschema compares the comments of, run as
    /// written once every object exists (its schema qualifier, in a dump,
    /// left out).
    fn comment_declared(&mut self, routine: &DeclaredRoutine, on: &str, loaded: &mut LoadedScope) {
        let span = routine.file.span_between(routine.start, routine.end);
        let at = routine.file.span_between(routine.name_at, routine.name_at);
        let refuse = |help: &str| {
            Problem::new(
                "kschema::sql::unsupported_statement",
                format!(
                    "COMMENT ON {} is not part of a desired state",
                    crate::escape::printable(on)
                ),
            )
            .at(
                &routine.file,
                SourceSpan::new(at.offset().into(), on.len()),
                "this kind of object",
            )
            .with_help(help.to_string())
        };
        let managed = matches!(
            on,
            "INDEX"
                | "CONSTRAINT"
                | "SEQUENCE"
                | "VIEW"
                | "MATERIALIZED"
                | "FUNCTION"
                | "PROCEDURE"
                | "AGGREGATE"
                | "TYPE"
                | "DOMAIN"
                | "TRIGGER"
                | "POLICY"
                | "EXTENSION"
                | "EVENT"
        );
        if !managed {
            self.problems.push(refuse(
                "kschema manages comments on tables, columns, indexes, constraints, sequences, views, materialized views, functions, procedures, enum and composite types, domains, triggers, event triggers, policies and extensions; leave this one out (pg_dump --no-comments)",
            ));
            return;
        }
        if matches!(on, "EXTENSION" | "EVENT") && !self.speaks_for_database() {
            self.problems.push(refuse(
                "extensions and event triggers are database-wide: declare them, and their comments, in schema/public",
            ));
            return;
        }
        let text = routine.replacing_text();
        let sql = match &self.dump_schema {
            Some(schema) => Sql::new().text(strip_qualifier(&text, schema.as_str())),
            None => Sql::new().text(text),
        };
        loaded.origins.insert(
            ObjectKey::Comment(loaded.comments.len()),
            Origin {
                file: routine.file.clone(),
                span,
                annotations: Annotations::default(),
            },
        );
        loaded.comments.push(sql);
    }

    /// The table a trigger or policy (`what`) is on: declared in the same
    /// scope, and not holding another of that name.
    fn table_of<'a>(
        &mut self,
        routine: &DeclaredRoutine,
        table: &[Ident],
        name: &Ident,
        what: &str,
        loaded: &'a mut LoadedScope,
        origin: &Origin,
    ) -> Option<&'a mut crate::model::Table> {
        let table_name = self.routine_name(routine, table, "table")?;
        let (missing, twice) = match what {
            "trigger" => (
                "kschema::sql::trigger_table",
                "kschema::sql::duplicate_trigger",
            ),
            _ => (
                "kschema::sql::policy_table",
                "kschema::sql::duplicate_policy",
            ),
        };
        let folder = match self.scope {
            Scope::Shared => self.own.to_string(),
            Scope::Tenant => "tenant".to_string(),
        };
        let Some(on) = loaded.model.tables.get_mut(&table_name) else {
            if self.missing_table_explained(&table_name) {
                return None;
            }
            self.problems.push(
                Problem::new(
                    missing,
                    format!("{what} {name} is on table {table_name}, which the {folder} files do not declare"),
                )
                .at(&routine.file, origin.span, format!("this {what}"))
                .with_help(format!("a {what} goes with its table: declare both in the same folder")),
            );
            return None;
        };
        let taken = match what {
            "trigger" => on.triggers.iter().any(|t| &t.name == name),
            _ => on.policies.iter().any(|p| &p.name == name),
        };
        if taken {
            self.problems.push(
                Problem::new(
                    twice,
                    format!("{what} {name} on {table_name} is defined twice"),
                )
                .at(&routine.file, origin.span, "defined again here")
                .with_help("keep one definition"),
            );
            return None;
        }
        Some(on)
    }

    /// The routine's own name (or its table's); a qualifier must be the
    /// scope's schema.
    fn routine_name(
        &mut self,
        routine: &DeclaredRoutine,
        parts: &[Ident],
        what: &str,
    ) -> Option<Ident> {
        let at = routine
            .file
            .span_at(routine.name_at.0, routine.name_at.1, 1);
        match (self.scope, parts) {
            (_, [name]) => Some(name.clone()),
            (Scope::Shared, [schema, name]) if *schema == self.own => Some(name.clone()),
            (Scope::Tenant, [schema, name]) if self.dump_schema.as_ref() == Some(schema) => {
                Some(name.clone())
            }
            (Scope::Shared, [schema, name]) => {
                self.problems.push(
                    Problem::new(
                        "kschema::sql::wrong_schema",
                        format!("{what} {schema}.{name} is not in schema {}", self.own),
                    )
                    .at(
                        &routine.file,
                        at,
                        format!(
                            "files under {} define objects in {}",
                            self.folder(),
                            self.own
                        ),
                    )
                    .with_help(
                        "drop the qualifier, or move the statement to the folder of its schema",
                    ),
                );
                None
            }
            (Scope::Tenant, [schema, name]) => {
                self.problems.push(
                    Problem::new("kschema::sql::qualified_tenant_object", format!("tenant {what} {schema}.{name} is schema-qualified"))
                        .at(&routine.file, at, "tenant objects are written without a schema")
                        .with_help("every tenant gets its own schema; write the bare name (shared objects go in schema/public)"),
                );
                None
            }
            _ => {
                self.problems.push(
                    Problem::new(
                        "kschema::sql::bad_name",
                        format!(
                            "{} is not a {what} name",
                            parts
                                .iter()
                                .map(|p| p.as_str())
                                .collect::<Vec<_>>()
                                .join(".")
                        ),
                    )
                    .at(&routine.file, at, "expected `name` or `schema.name`"),
                );
                None
            }
        }
    }
}

/// `text` as SQL whose `SCHEMA <schema>` names the target schema.
fn with_schema_placeholder(text: &str, schema: &Ident) -> Sql {
    let Some(tokens) = crate::load::statements::tokenize(text) else {
        return Sql::new().text(text);
    };
    let mut sql = Sql::new();
    let mut after_schema_keyword = false;
    for token in tokens {
        match &token.token {
            Token::Word(w)
                if after_schema_keyword
                    && Ident::from_sql(&w.value, w.quote_style.is_some()) == *schema =>
            {
                sql = sql.schema();
                after_schema_keyword = false;
            }
            Token::Whitespace(_) => sql = sql.text(token.token.to_string()),
            other => {
                after_schema_keyword = is_word(other, "SCHEMA");
                sql = sql.text(other.to_string());
            }
        }
    }
    sql
}

/// Whether `schema` is shaped as a tenant's (`org_<id>`).
fn is_tenant_schema(schema: &Ident) -> bool {
    schema
        .as_str()
        .strip_prefix("org_")
        .is_some_and(|id| crate::load::TenantId::parse(id).is_ok())
}

/// The schemas a `GRANT … ON SCHEMA a, b` (or `REVOKE`) names.
fn on_schema_names(text: &str) -> Vec<Ident> {
    schemas_after(text, "ON")
}

/// The schemas an `ALTER DEFAULT PRIVILEGES … IN SCHEMA a, b` names.
fn in_schema_names(text: &str) -> Vec<Ident> {
    schemas_after(text, "IN")
}

/// The list of schemas after `<keyword> SCHEMA`, up to the next keyword
/// (`TO`, `FROM`; `GRANT`, `REVOKE`, `FOR` in default privileges).
fn schemas_after(text: &str, keyword: &str) -> Vec<Ident> {
    let Some(tokens) = crate::load::statements::tokenize(text) else {
        return Vec::new();
    };
    let words: Vec<&Token> = tokens
        .iter()
        .map(|t| &t.token)
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let Some(at) = words
        .windows(2)
        .position(|w| is_word(w[0], keyword) && is_word(w[1], "SCHEMA"))
    else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for token in &words[at + 2..] {
        match token {
            Token::Comma => {}
            Token::Word(w)
                if w.quote_style.is_none()
                    && ["TO", "FROM", "GRANT", "REVOKE", "FOR"]
                        .contains(&w.value.to_ascii_uppercase().as_str()) =>
            {
                break
            }
            Token::Word(w) => names.push(Ident::from_sql(&w.value, w.quote_style.is_some())),
            _ => break,
        }
    }
    names
}

/// What a desired function's `arguments` holds until the desired state is
/// built: nothing for the first of its name and number of arguments, `#n`
/// for the n-th overload after it. PostgreSQL's own argument types replace
/// it (`normalize::stored`).
fn overload_placeholder(earlier: usize) -> String {
    match earlier {
        0 => String::new(),
        n => format!("#{n}"),
    }
}
