//! What a change creates, drops and names: what its objects need as the
//! catalog recorded it where it was read, else read from their statements
//! word by word (see the module above).

use std::collections::BTreeSet;

use sqlparser::tokenizer::Token;

use crate::diff::Change;
use crate::ident::Ident;
use crate::load::statements::tokenize;
use crate::model::{
    Column, ConstraintKind, Dependencies, Dependent, Needed as Object, SchemaModel, SchemaRef,
    Table,
};

/// How a statement's words are read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Reading {
    /// Every word may name something.
    Expression,
    /// A routine: in its signature (before the body's `AS`, `BEGIN ATOMIC`
    /// or `RETURN`), a word followed by another inside the parentheses is
    /// an argument's name or mode (`o orders`, `OUT total numeric`), not a
    /// type.
    Routine,
    /// A composite type: likewise for its attributes' names, throughout.
    Attributes,
}

/// The objects a statement's words may name: every word a relation or
/// type, a word before `(` a function too.
#[derive(Default)]
pub(super) struct Named(pub(super) BTreeSet<Object>);

impl Named {
    pub(super) fn words(&mut self, sql: &str, reading: Reading) {
        let Some(tokens) = tokenize(sql) else { return };
        let tokens: Vec<&Token> = tokens
            .iter()
            .map(|t| &t.token)
            .filter(|t| !matches!(t, Token::Whitespace(_)))
            .collect();
        let mut depth = 0usize;
        let mut in_signature = reading != Reading::Expression;
        for (i, token) in tokens.iter().enumerate() {
            match token {
                Token::LParen => depth += 1,
                Token::RParen => depth = depth.saturating_sub(1),
                Token::Word(w) => {
                    if reading == Reading::Routine
                        && depth == 0
                        && w.quote_style.is_none()
                        && ["AS", "BEGIN", "RETURN"]
                            .iter()
                            .any(|k| w.value.eq_ignore_ascii_case(k))
                    {
                        in_signature = false;
                    }
                    let next = tokens.get(i + 1);
                    let names_an_argument = in_signature
                        && depth > 0
                        && matches!(next, Some(Token::Word(following))
                            if !following.value.eq_ignore_ascii_case("DEFAULT"));
                    // A qualifier: the name is the next word.
                    if names_an_argument || matches!(next, Some(Token::Period)) {
                        continue;
                    }
                    let name = match w.quote_style {
                        Some(_) => Ident::new(&w.value),
                        None => Ident::new(w.value.to_lowercase()),
                    };
                    if matches!(next, Some(Token::LParen)) {
                        self.0.insert(Object::Function(name.clone()));
                    }
                    self.0.insert(Object::Relation(name));
                }
                _ => {}
            }
        }
    }

    /// A view's relations read and functions called, as the catalog
    /// recorded them (`View::reads`, `View::calls`).
    fn reads_and_calls(&mut self, view: &crate::model::View) {
        self.0
            .extend(view.reads.iter().cloned().map(Object::Relation));
        self.0
            .extend(view.calls.iter().cloned().map(Object::Function));
    }

    fn expression(&mut self, sql: &str) {
        self.words(sql, Reading::Expression);
    }

    fn column(&mut self, column: &Column) {
        self.expression(&column.data_type.to_string());
        for expr in column.default.iter().chain(&column.generated) {
            self.expression(&expr.canonical);
        }
    }

    /// A table's columns and checks; the tables its keys reference and its
    /// parent when it is created (dropped tables go in reverse key order
    /// already, and may reference each other).
    fn table(&mut self, table: &Table, created: bool) {
        for column in &table.columns {
            self.column(column);
        }
        for constraint in &table.constraints {
            match &constraint.kind {
                ConstraintKind::Check { expr, .. } => self.expression(&expr.canonical),
                ConstraintKind::ForeignKey(fk)
                    if created && fk.references.schema == SchemaRef::Own =>
                {
                    self.0.insert(Object::Relation(fk.references.table.clone()));
                }
                _ => {}
            }
        }
        if let (Some(of), true) = (&table.partition_of, created) {
            self.0.insert(Object::Relation(of.parent.clone()));
        }
    }
}

/// What the change creates (or brings back), for what names it.
pub(super) fn creates(change: &Change) -> Option<Object> {
    let relation = |name: &Ident| Some(Object::Relation(name.clone()));
    match change {
        Change::CreateTable { table } => relation(&table.name),
        Change::RenameTable { to, .. } => relation(to),
        Change::CreateView { view } | Change::ReplaceView { to: view, .. } => relation(&view.name),
        Change::CreateSequence { sequence } => relation(&sequence.name),
        Change::CreateEnum { enum_type } => relation(&enum_type.name),
        Change::RecreateEnum { to, .. } => relation(&to.name),
        Change::CreateDomain { domain } | Change::RecreateDomain { to: domain, .. } => {
            relation(&domain.name)
        }
        Change::CreateComposite { composite } | Change::RecreateComposite { to: composite, .. } => {
            relation(&composite.name)
        }
        Change::CreateFunction { function }
        | Change::ReplaceFunction { to: function, .. }
        | Change::RecreateFunction { to: function, .. } => {
            Some(Object::Function(function.name.clone()))
        }
        _ => None,
    }
}

/// What the change drops for good.
pub(super) fn drops(change: &Change) -> Option<Object> {
    let relation = |name: &Ident| Some(Object::Relation(name.clone()));
    match change {
        Change::DropTable { table } => relation(&table.name),
        Change::DropView { view } => relation(&view.name),
        Change::DropSequence { sequence } => relation(&sequence.name),
        Change::DropEnum { enum_type } => relation(&enum_type.name),
        Change::DropDomain { domain } => relation(&domain.name),
        Change::DropComposite { composite } => relation(&composite.name),
        Change::DropFunction { function, .. } => Some(Object::Function(function.name.clone())),
        _ => None,
    }
}

/// Whether the change takes something away: it runs before the drops of
/// what it names, not after their creation.
pub(super) fn removes(change: &Change) -> bool {
    drops(change).is_some()
        || matches!(
            change,
            Change::DropColumn { .. }
                | Change::DropTrigger { .. }
                | Change::DropPolicy { .. }
                | Change::DropConstraint { .. }
                | Change::DropIndex { .. }
        )
}

/// Where what the objects need was recorded: the live schema (for what a
/// change removes) and the desired state as PostgreSQL built it (for what
/// it creates), each when read from a database.
#[derive(Clone, Copy, Default)]
pub struct Catalogs<'a> {
    pub live: Option<&'a SchemaModel>,
    pub desired: Option<&'a SchemaModel>,
}

/// What the objects a change creates or alters name (for a removal: what
/// the removed object named): as the catalog recorded it when the object
/// is in a schema read from one, else from its statement's words (the
/// desired state while it is being built, a snapshot, another schema's
/// object a shared change takes along).
pub(super) fn names(change: &Change, catalogs: Catalogs<'_>) -> Named {
    let side = match removes(change) {
        true => catalogs.live,
        false => catalogs.desired,
    };
    let recorded = side.and_then(|model| Some((model, model.dependencies.as_deref()?)));
    let mut named = recorded
        .and_then(|(model, needs)| recorded_names(change, model, needs))
        .unwrap_or_else(|| words_of(change));
    // An object is not its own dependency.
    if let Some(own) = creates(change).or_else(|| drops(change)) {
        named.0.remove(&own);
    }
    named
}

/// What the catalog recorded the change's objects need; `None` when they
/// are not `model`'s (or the kind records nothing there).
fn recorded_names(change: &Change, model: &SchemaModel, needs: &Dependencies) -> Option<Named> {
    let mut named = Named::default();
    let mut take = |dependent: Dependent| named.0.extend(needs.of(&dependent).cloned());
    let has_table = |table: &Ident| model.tables.contains_key(table);
    match change {
        Change::CreateTable { table } | Change::DropTable { table } => {
            if !has_table(&table.name) {
                return None;
            }
            let created = matches!(change, Change::CreateTable { .. });
            take(Dependent::Relation(table.name.clone()));
            for column in &table.columns {
                take(Dependent::Column(table.name.clone(), column.name.clone()));
            }
            for constraint in &table.constraints {
                // Dropped tables go in reverse key order already, and may
                // reference each other.
                if created || !matches!(constraint.kind, ConstraintKind::ForeignKey(_)) {
                    take(Dependent::Constraint(
                        table.name.clone(),
                        constraint.name.clone(),
                    ));
                }
            }
            if let (Some(of), true) = (&table.partition_of, created) {
                named.0.insert(Object::Relation(of.parent.clone()));
            }
        }
        Change::AddColumn { table, column }
        | Change::AlterColumn {
            table, to: column, ..
        }
        | Change::DropColumn { table, column } => {
            if !has_table(table) {
                return None;
            }
            take(Dependent::Column(table.clone(), column.name.clone()));
        }
        Change::AddConstraint { table, constraint }
        | Change::DropConstraint { table, constraint } => {
            if !has_table(table) {
                return None;
            }
            take(Dependent::Constraint(
                table.clone(),
                constraint.name.clone(),
            ));
        }
        Change::CreateIndex { index } | Change::DropIndex { index } => {
            if !model.indexes.contains_key(&index.name) {
                return None;
            }
            take(Dependent::Index(index.name.clone()));
            named.0.insert(Object::Relation(index.table.clone()));
        }
        Change::CreateFunction { function }
        | Change::ReplaceFunction { to: function, .. }
        | Change::RecreateFunction { to: function, .. }
        | Change::DropFunction { function, .. } => {
            if !model.functions.iter().any(|f| f.name == function.name) {
                return None;
            }
            take(Dependent::Function(function.name.clone()));
        }
        Change::CreateView { view }
        | Change::ReplaceView { to: view, .. }
        | Change::DropView { view } => {
            if !model.views.contains_key(&view.name) {
                return None;
            }
            take(Dependent::Relation(view.name.clone()));
            named.reads_and_calls(view);
        }
        Change::CreateDomain { domain }
        | Change::RecreateDomain { to: domain, .. }
        | Change::DropDomain { domain } => {
            if !model.domains.contains_key(&domain.name) {
                return None;
            }
            take(Dependent::Relation(domain.name.clone()));
        }
        Change::CreateComposite { composite }
        | Change::RecreateComposite { to: composite, .. }
        | Change::DropComposite { composite } => {
            if !model.composites.contains_key(&composite.name) {
                return None;
            }
            take(Dependent::Relation(composite.name.clone()));
        }
        Change::CreateTrigger { trigger, table }
        | Change::ReplaceTrigger {
            to: trigger, table, ..
        }
        | Change::DropTrigger { trigger, table } => {
            if !has_table(table) {
                return None;
            }
            take(Dependent::Trigger(table.clone(), trigger.name.clone()));
            named.0.insert(Object::Relation(table.clone()));
        }
        Change::CreatePolicy { policy, table } | Change::DropPolicy { policy, table } => {
            if !has_table(table) {
                return None;
            }
            take(Dependent::Policy(table.clone(), policy.name.clone()));
            named.0.insert(Object::Relation(table.clone()));
        }
        _ => return None,
    }
    Some(named)
}

/// What a change's objects name, read from their statements.
fn words_of(change: &Change) -> Named {
    let mut named = Named::default();
    match change {
        Change::CreateTable { table } => named.table(table, true),
        Change::DropTable { table } => named.table(table, false),
        Change::AddColumn { column, .. }
        | Change::AlterColumn { to: column, .. }
        | Change::DropColumn { column, .. } => named.column(column),
        Change::AddConstraint { constraint, .. } | Change::DropConstraint { constraint, .. } => {
            if let ConstraintKind::Check { expr, .. } = &constraint.kind {
                named.expression(&expr.canonical);
            }
        }
        Change::CreateIndex { index } | Change::DropIndex { index } => {
            named.0.insert(Object::Relation(index.table.clone()));
            for expr in index.expressions() {
                named.expression(expr);
            }
        }
        Change::CreateFunction { function }
        | Change::ReplaceFunction { to: function, .. }
        | Change::RecreateFunction { to: function, .. }
        | Change::DropFunction { function, .. } => named.words(&function.sql, Reading::Routine),
        Change::CreateView { view }
        | Change::ReplaceView { to: view, .. }
        | Change::DropView { view } => {
            named.expression(&view.sql);
            named.reads_and_calls(view);
        }
        Change::CreateDomain { domain }
        | Change::RecreateDomain { to: domain, .. }
        | Change::DropDomain { domain } => named.expression(&domain.sql),
        Change::CreateComposite { composite }
        | Change::RecreateComposite { to: composite, .. }
        | Change::DropComposite { composite } => named.words(&composite.sql, Reading::Attributes),
        Change::CreateTrigger { trigger, table }
        | Change::ReplaceTrigger {
            to: trigger, table, ..
        }
        | Change::DropTrigger { trigger, table } => {
            named.expression(&trigger.sql);
            named.0.insert(Object::Relation(table.clone()));
        }
        Change::CreatePolicy { policy, table } | Change::DropPolicy { policy, table } => {
            named.expression(&policy.sql);
            named.0.insert(Object::Relation(table.clone()));
        }
        _ => {}
    }
    named
}

/// `function positive`, `type posnum`, `trigger audit on orders`: what a
/// change is about.
pub(super) fn describe(change: &Change) -> String {
    let on = |what: &str, name: &Ident, table: &Ident| format!("{what} {name} on {table}");
    match change {
        Change::CreateTable { table } | Change::DropTable { table } => {
            format!("table {}", table.name)
        }
        Change::CreateView { view }
        | Change::DropView { view }
        | Change::ReplaceView { to: view, .. } => {
            format!("{} {}", view.noun(), view.name)
        }
        Change::CreateSequence { sequence } | Change::DropSequence { sequence } => {
            format!("sequence {}", sequence.name)
        }
        Change::AddColumn { table, column }
        | Change::AlterColumn {
            table, to: column, ..
        }
        | Change::DropColumn { table, column } => format!("column {table}.{}", column.name),
        Change::AddConstraint { table, constraint }
        | Change::DropConstraint { table, constraint } => on("constraint", &constraint.name, table),
        Change::CreateIndex { index } | Change::DropIndex { index } => {
            format!("index {}", index.name)
        }
        Change::CreateTrigger { table, trigger }
        | Change::ReplaceTrigger {
            table, to: trigger, ..
        }
        | Change::DropTrigger { table, trigger } => on("trigger", &trigger.name, table),
        Change::CreatePolicy { table, policy } | Change::DropPolicy { table, policy } => {
            on("policy", &policy.name, table)
        }
        other => match creates(other).or_else(|| drops(other)) {
            Some(Object::Function(name)) => format!("function {name}"),
            Some(Object::Relation(name) | Object::OtherType(_, name)) => format!("type {name}"),
            None => "a change".to_string(),
        },
    }
}
