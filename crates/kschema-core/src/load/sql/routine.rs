//! `CREATE FUNCTION`, `PROCEDURE`, `TRIGGER` and `VIEW`: taken out of the
//! tokens before sqlparser reads the rest. kschema needs only what
//! identifies them (name, argument count, the trigger's table, the names a
//! view's query mentions); their bodies and options are PostgreSQL's to read — the materialized desired
//! state reports what it rejects at the file and line, and what it stores
//! is what is compared.

use std::sync::Arc;

use sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace};

use miette::SourceSpan;

use super::{Annotations, Loader, Origin, Scope};
use crate::diagnostic::{Problem, SourceFile};
use crate::ident::Ident;
use crate::load::dump::{dotted_name, is_word};
use crate::load::{LoadedScope, ObjectKey};
use crate::model::{
    CompositeType, Domain, EventTrigger, Function, Policy, Trigger, TriggerFiring, View,
};
use crate::normalize::qualifier::strip_qualifier;
use crate::sql::Sql;

/// What a routine statement declares.
#[derive(Clone, Debug)]
pub(crate) enum RoutineKind {
    Function {
        procedure: bool,
        /// Arguments that are not `OUT` (what a call passes).
        inputs: usize,
    },
    Trigger {
        /// The table after `ON`, possibly qualified.
        table: Vec<Ident>,
        constraint: bool,
    },
    View {
        /// Every name its query mentions (some are the views it reads).
        mentions: Vec<Ident>,
        materialized: bool,
    },
    Policy {
        /// The table after `ON`, possibly qualified.
        table: Vec<Ident>,
    },
    /// `GRANT … ON …` or `REVOKE … ON …`: run as written when the desired
    /// state is built; what PostgreSQL then stores is compared.
    Grant,
    /// `ALTER DEFAULT PRIVILEGES …`: likewise, but first (what the files
    /// create gets its grants from it, as on the target).
    DefaultPrivileges,
    /// `CREATE DOMAIN`: run as written; what PostgreSQL stores is compared.
    Domain,
    /// `CREATE TYPE … AS (…)`, likewise (an enum is sqlparser's).
    Composite,
    /// `CREATE EVENT TRIGGER`, likewise; public's only.
    EventTrigger,
    /// `ALTER EVENT TRIGGER … ENABLE / DISABLE` (as pg_dump writes a
    /// disabled one).
    EventTriggerFiring { firing: TriggerFiring },
    /// `COMMENT ON <what> …` for what is not a table or column (those are
    /// sqlparser's), likewise run as written.
    Comment {
        /// The word after `ON`, upper case.
        on: String,
    },
}

/// One routine statement of a file.
#[derive(Clone, Debug)]
pub(crate) struct DeclaredRoutine {
    pub file: Arc<SourceFile>,
    pub kind: RoutineKind,
    /// The name, possibly qualified.
    pub name: Vec<Ident>,
    /// 1-based (line, column) of the first token and just past the last.
    pub start: (u64, u64),
    pub end: (u64, u64),
    /// Where the name is, for diagnostics.
    pub name_at: (u64, u64),
    /// `CREATE OR REPLACE` already (else kschema says it, so the statement
    /// replaces as well as creates).
    pub or_replace: bool,
    /// A `BEGIN ATOMIC` body.
    pub atomic: bool,
}

impl DeclaredRoutine {
    /// The statement as written, `CREATE OR REPLACE` (a constraint
    /// trigger cannot be replaced, and stays `CREATE`).
    pub fn replacing_text(&self) -> String {
        let span = self.file.span_between(self.start, self.end);
        let text = &self.file.text()[span.offset()..span.offset() + span.len()];
        let constraint = matches!(
            self.kind,
            RoutineKind::Trigger {
                constraint: true,
                ..
            }
        );
        // A constraint trigger cannot be replaced, nor can a policy, a
        // domain or a materialized view.
        if self.or_replace
            || constraint
            || matches!(
                self.kind,
                RoutineKind::Policy { .. }
                    | RoutineKind::Domain
                    | RoutineKind::Composite
                    | RoutineKind::EventTrigger
                    | RoutineKind::View {
                        materialized: true,
                        ..
                    }
            )
        {
            return text.to_string();
        }
        // The text starts with `CREATE` (any case).
        format!("CREATE OR REPLACE{}", &text["CREATE".len()..])
    }
}

/// The tokens without their routine statements (newlines kept, so the
/// places of what follows stay right), and those statements.
pub(crate) fn take_routines(
    tokens: Vec<TokenWithSpan>,
    file: &Arc<SourceFile>,
) -> (Vec<TokenWithSpan>, Vec<DeclaredRoutine>) {
    let mut kept = Vec::with_capacity(tokens.len());
    let mut taken = Vec::new();
    let mut statement: Vec<TokenWithSpan> = Vec::new();
    // Inside a `BEGIN ATOMIC … END` body, whose statements end in `;` too.
    let mut atomic_depth: Option<usize> = None;
    let mut atomic = false;
    for token in tokens {
        let ends = matches!(token.token, Token::SemiColon);
        if let Token::Word(w) = &token.token {
            if w.quote_style.is_none() {
                let word = w.value.to_ascii_uppercase();
                match (&mut atomic_depth, word.as_str()) {
                    (None, "ATOMIC") if last_word_is(&statement, "BEGIN") => {
                        atomic_depth = Some(0);
                        atomic = true;
                    }
                    (Some(depth), "CASE") => *depth += 1,
                    (Some(0), "END") => atomic_depth = None,
                    (Some(depth), "END") => *depth -= 1,
                    _ => {}
                }
            }
        }
        statement.push(token);
        if !ends || atomic_depth.is_some() {
            continue;
        }
        let words: Vec<&TokenWithSpan> = statement
            .iter()
            .filter(|t| !matches!(t.token, Token::Whitespace(_)))
            .collect();
        match routine_of(&words, file) {
            Some(routine) => {
                taken.push(DeclaredRoutine { atomic, ..routine });
                kept.extend(
                    statement
                        .drain(..)
                        .filter(|t| matches!(t.token, Token::Whitespace(Whitespace::Newline))),
                );
            }
            None => kept.append(&mut statement),
        }
        atomic = false;
    }
    // A last statement without `;`.
    let words: Vec<&TokenWithSpan> = statement
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
        .collect();
    match routine_of(&words, file) {
        Some(routine) => {
            taken.push(routine);
            kept.extend(statement.into_iter().filter(|t| {
                matches!(t.token, Token::Whitespace(Whitespace::Newline) | Token::EOF)
            }));
        }
        None => kept.append(&mut statement),
    }
    (kept, taken)
}

fn last_word_is(tokens: &[TokenWithSpan], keyword: &str) -> bool {
    tokens
        .iter()
        .rev()
        .find(|t| !matches!(t.token, Token::Whitespace(_)))
        .is_some_and(|t| is_word(&t.token, keyword))
}

/// `CREATE [OR REPLACE] [CONSTRAINT] {FUNCTION | PROCEDURE | TRIGGER} …`
fn routine_of(words: &[&TokenWithSpan], file: &Arc<SourceFile>) -> Option<DeclaredRoutine> {
    let word = |i: usize, keyword: &str| words.get(i).is_some_and(|t| is_word(&t.token, keyword));
    let place = |t: &TokenWithSpan| (t.span.start.line, t.span.start.column);
    let last = words
        .iter()
        .rev()
        .find(|t| !matches!(t.token, Token::SemiColon | Token::EOF))?;
    // Privileges on objects (not role membership, which has no ON), and
    // what objects created later get.
    let defaults = word(0, "ALTER") && word(1, "DEFAULT") && word(2, "PRIVILEGES");
    if defaults
        || (word(0, "GRANT") || word(0, "REVOKE")) && words.iter().any(|t| is_word(&t.token, "ON"))
    {
        return Some(DeclaredRoutine {
            file: file.clone(),
            kind: match defaults {
                true => RoutineKind::DefaultPrivileges,
                false => RoutineKind::Grant,
            },
            name: Vec::new(),
            start: place(words[0]),
            end: (last.span.end.line, last.span.end.column),
            name_at: place(words[0]),
            or_replace: true,
            atomic: false,
        });
    }
    // Comments on what sqlparser does not read (tables and columns are
    // its; the public schema's own comment is a dump's preamble).
    if word(0, "COMMENT") && word(1, "ON") {
        let on = match &words.get(2)?.token {
            Token::Word(w) if w.quote_style.is_none() => w.value.to_ascii_uppercase(),
            _ => return None,
        };
        if matches!(on.as_str(), "TABLE" | "COLUMN" | "SCHEMA") {
            return None;
        }
        return Some(DeclaredRoutine {
            file: file.clone(),
            kind: RoutineKind::Comment { on },
            name: Vec::new(),
            start: place(words[0]),
            end: (last.span.end.line, last.span.end.column),
            name_at: place(words[2]),
            or_replace: true,
            atomic: false,
        });
    }
    if word(0, "ALTER") && word(1, "EVENT") && word(2, "TRIGGER") {
        let (name, rest) = dotted_name(&words[3..])?;
        let rest: Vec<String> = rest
            .iter()
            .filter(|t| !matches!(t.token, Token::SemiColon | Token::EOF))
            .map(|t| t.token.to_string().to_ascii_uppercase())
            .collect();
        let firing = match rest
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["ENABLE"] => TriggerFiring::Enabled,
            ["DISABLE"] => TriggerFiring::Disabled,
            ["ENABLE", "REPLICA"] => TriggerFiring::Replica,
            ["ENABLE", "ALWAYS"] => TriggerFiring::Always,
            // Owner and renames are sqlparser's to refuse.
            _ => return None,
        };
        return Some(DeclaredRoutine {
            file: file.clone(),
            kind: RoutineKind::EventTriggerFiring { firing },
            name,
            start: place(words[0]),
            end: (last.span.end.line, last.span.end.column),
            name_at: place(words[3]),
            or_replace: true,
            atomic: false,
        });
    }
    if !word(0, "CREATE") {
        return None;
    }
    let mut at = 1;
    let or_replace = word(1, "OR") && word(2, "REPLACE");
    if or_replace {
        at = 3;
    }
    let constraint = word(at, "CONSTRAINT");
    if constraint {
        at += 1;
    }
    // `CREATE [OR REPLACE] [RECURSIVE] VIEW`, `CREATE MATERIALIZED VIEW`
    // (temporary ones are sqlparser's to refuse).
    if word(at, "RECURSIVE") && word(at + 1, "VIEW") {
        at += 1;
    }
    let materialized = !or_replace && word(at, "MATERIALIZED") && word(at + 1, "VIEW");
    if materialized {
        at += 1;
    }
    let event = !or_replace && !constraint && word(at, "EVENT") && word(at + 1, "TRIGGER");
    if event {
        at += 1;
    }
    let what = if event {
        "event trigger"
    } else if word(at, "FUNCTION") {
        "function"
    } else if word(at, "PROCEDURE") {
        "procedure"
    } else if word(at, "TRIGGER") {
        "trigger"
    } else if word(at, "VIEW") && !constraint {
        "view"
    } else if word(at, "POLICY") && !constraint && !or_replace {
        "policy"
    } else if word(at, "DOMAIN") && !constraint && !or_replace {
        "domain"
    } else if word(at, "TYPE") && !constraint && !or_replace {
        "type"
    } else {
        return None;
    };
    if constraint && what != "trigger" {
        return None;
    }
    let (name, after) = dotted_name(&words[at + 1..])?;
    let after_name = words.len() - (at + 1) - after.len();
    let name_at = words
        .get(at + 1)
        .map(|t| (t.span.start.line, t.span.start.column))?;
    let rest = &words[at + 1 + after_name..];
    let kind = if what == "trigger" {
        let on = rest.iter().position(|t| is_word(&t.token, "ON"))?;
        let (table, _) = dotted_name(&rest[on + 1..])?;
        RoutineKind::Trigger { table, constraint }
    } else if what == "policy" {
        if !rest.first().is_some_and(|t| is_word(&t.token, "ON")) {
            return None;
        }
        let (table, _) = dotted_name(&rest[1..])?;
        RoutineKind::Policy { table }
    } else if what == "domain" {
        RoutineKind::Domain
    } else if what == "event trigger" {
        RoutineKind::EventTrigger
    } else if what == "type" {
        // A composite type only: `AS (`.
        let composite = rest.first().is_some_and(|t| is_word(&t.token, "AS"))
            && rest
                .get(1)
                .is_some_and(|t| matches!(t.token, Token::LParen));
        if !composite {
            return None;
        }
        RoutineKind::Composite
    } else if what == "view" {
        let mentions = rest
            .iter()
            .filter_map(|t| match &t.token {
                Token::Word(w) if w.quote_style.is_some() => Some(Ident::new(&w.value)),
                Token::Word(w) => Some(Ident::new(w.value.to_lowercase())),
                _ => None,
            })
            .collect();
        RoutineKind::View {
            mentions,
            materialized,
        }
    } else {
        RoutineKind::Function {
            procedure: what == "procedure",
            inputs: input_arguments(rest)?,
        }
    };
    let last = words
        .iter()
        .rev()
        .find(|t| !matches!(t.token, Token::SemiColon | Token::EOF))?;
    Some(DeclaredRoutine {
        file: file.clone(),
        kind,
        name,
        start: (words[0].span.start.line, words[0].span.start.column),
        end: (last.span.end.line, last.span.end.column),
        name_at,
        or_replace,
        atomic: false,
    })
}

/// How many arguments of `( … )` are passed by a call (not `OUT`).
fn input_arguments(words: &[&TokenWithSpan]) -> Option<usize> {
    if !matches!(words.first()?.token, Token::LParen) {
        return None;
    }
    let mut depth = 0;
    let mut count = 0;
    let mut argument_starts = true;
    for token in &words[1..] {
        match &token.token {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen if depth == 0 => return Some(count),
            Token::RParen | Token::RBracket => depth -= 1,
            Token::Comma if depth == 0 => argument_starts = true,
            other if argument_starts => {
                argument_starts = false;
                if !is_word(other, "OUT") {
                    count += 1;
                }
            }
            _ => {}
        }
    }
    None
}

/// `ALTER TABLE t DISABLE TRIGGER x` (as pg_dump writes it).
pub(crate) struct DeclaredFiring {
    pub table: Ident,
    pub trigger: Ident,
    pub firing: TriggerFiring,
    pub file: Arc<SourceFile>,
    pub span: SourceSpan,
}

impl Loader {
    /// Functions into the model, triggers onto their tables (which must be
    /// declared in the same scope).
    pub(super) fn build_routines(&mut self, loaded: &mut LoadedScope) {
        // `ALTER EVENT TRIGGER … DISABLE`, once every event trigger is in.
        let mut event_firings: Vec<(Ident, TriggerFiring, Origin)> = Vec::new();
        for routine in std::mem::take(&mut self.routines) {
            let what = match routine.kind {
                RoutineKind::Function {
                    procedure: true, ..
                } => "procedure",
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
                annotations: Annotations::default(),
            };
            match &routine.kind {
                RoutineKind::Function { procedure, inputs } => {
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
                        definition: String::new(),
                        interface: String::new(),
                        atomic_body: routine.atomic,
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
                            sql,
                            materialized: *materialized,
                        },
                    );
                }
                RoutineKind::EventTrigger | RoutineKind::EventTriggerFiring { .. }
                    if matches!(self.scope, Scope::Tenant) =>
                {
                    self.problems.push(
                        Problem::new(
                            "kschema::sql::event_trigger_scope",
                            format!("event trigger {name} in the tenant files"),
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
    /// made the target schema's.
    fn grant_declared(&mut self, routine: &DeclaredRoutine, loaded: &mut LoadedScope) {
        let text = routine.replacing_text();
        let sql = match &self.dump_schema {
            Some(schema) => {
                with_schema_placeholder(&strip_qualifier(&text, schema.as_str()), schema)
            }
            None => Sql::new().text(text),
        };
        let span = routine.file.span_between(routine.start, routine.end);
        let first_line = routine.file.text()[span.offset()..]
            .find('\n')
            .unwrap_or(span.len())
            .min(span.len());
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
            Scope::Public => Ident::new("public"),
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
        if schemas.iter().any(|s| *s != own) {
            self.problems.push(refuse(match self.scope {
                Scope::Public => "public's files speak for public (IN SCHEMA public) or, with no IN SCHEMA, for the whole database",
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
            (Scope::Public, _) => Sql::new().text(text),
        };
        loaded
            .origins
            .insert(ObjectKey::DefaultGrant(loaded.default_grants.len()), origin);
        loaded.default_grants.push(sql);
    }

    /// Whether the scope's files create a view (or materialized view) of
    /// this name (read before the views are built).
    pub(super) fn declares_view(&self, name: &Ident) -> bool {
        self.declared_view(name).is_some()
    }

    /// Whether the view of this name the scope's files create, if any, is
    /// a materialized one.
    pub(super) fn declared_view(&self, name: &Ident) -> Option<bool> {
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
        if matches!(on, "EXTENSION" | "EVENT") && matches!(self.scope, Scope::Tenant) {
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
            Scope::Public => "public",
            Scope::Tenant => "tenant",
        };
        let Some(on) = loaded.model.tables.get_mut(&table_name) else {
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
            (Scope::Public, [schema, name]) if schema.as_str() == "public" => Some(name.clone()),
            (Scope::Tenant, [schema, name]) if self.dump_schema.as_ref() == Some(schema) => {
                Some(name.clone())
            }
            (Scope::Public, [schema, name]) => {
                self.problems.push(
                    Problem::new(
                        "kschema::sql::wrong_schema",
                        format!("{what} {schema}.{name} is not in schema public"),
                    )
                    .at(
                        &routine.file,
                        at,
                        "files under schema/public define objects in public",
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

/// The schemas an `ALTER DEFAULT PRIVILEGES … IN SCHEMA a, b` names.
fn in_schema_names(text: &str) -> Vec<Ident> {
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
        .position(|w| is_word(w[0], "IN") && is_word(w[1], "SCHEMA"))
    else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for token in &words[at + 2..] {
        match token {
            Token::Comma => {}
            Token::Word(w) => names.push(Ident::from_sql(&w.value, w.quote_style.is_some())),
            _ => break,
        }
        // The list ends at the next keyword (`GRANT`, `REVOKE`, `FOR`).
        if matches!(token, Token::Word(w) if w.quote_style.is_none()
            && ["GRANT", "REVOKE", "FOR"].contains(&w.value.to_ascii_uppercase().as_str()))
        {
            names.pop();
            break;
        }
    }
    names
}

/// What a desired function's `arguments` holds until the desired state is
/// built: nothing for the first of its name and number of arguments, `#n`
/// for the n-th overload after it. PostgreSQL's own argument types replace
/// it (`normalize::stored`).
pub(crate) fn overload_placeholder(earlier: usize) -> String {
    match earlier {
        0 => String::new(),
        n => format!("#{n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::statements::tokenize;

    fn routines(text: &str) -> (String, Vec<DeclaredRoutine>) {
        let file = Arc::new(SourceFile::new("t.sql", text));
        let (kept, taken) = take_routines(tokenize(text).unwrap(), &file);
        (kept.iter().map(|t| t.token.to_string()).collect(), taken)
    }

    #[test]
    fn routines_are_taken_out_with_what_identifies_them() {
        let text = "CREATE TABLE t (a int);\n\
            create function touch(a int, OUT b int, VARIADIC c int[] DEFAULT '{}') returns int language sql as $$ select 1; $$;\n\
            CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END;\n\
            CREATE CONSTRAINT TRIGGER trg AFTER UPDATE OF a ON org_x.t FOR EACH ROW EXECUTE FUNCTION touch();\n\
            CREATE INDEX i ON t (a)";
        let (kept, taken) = routines(text);
        assert_eq!(
            kept,
            "CREATE TABLE t (a int);\n\n\n\nCREATE INDEX i ON t (a)"
        );
        assert_eq!(taken.len(), 3);
        assert!(matches!(
            taken[0].kind,
            RoutineKind::Function {
                procedure: false,
                inputs: 2
            }
        ));
        assert_eq!(taken[0].name, [Ident::new("touch")]);
        assert!(taken[0]
            .replacing_text()
            .starts_with("CREATE OR REPLACE function touch("));
        assert!(taken[1].replacing_text().ends_with("SELECT 2; END"));
        assert!(taken[1].atomic && !taken[0].atomic);
        let RoutineKind::Trigger { table, constraint } = &taken[2].kind else {
            panic!("not a trigger: {:?}", taken[2].kind);
        };
        assert!(*constraint);
        assert_eq!(table, &[Ident::new("org_x"), Ident::new("t")]);
        assert!(taken[2]
            .replacing_text()
            .starts_with("CREATE CONSTRAINT TRIGGER"));
    }
}
