//! Desired state in the form schema dumps write it (`pg_dump
//! --schema-only`, and what `kschema inspect` writes): psql's
//! `\restrict` guards, session settings, `CREATE SCHEMA`, ownership,
//! `ALTER TABLE [ONLY] … ADD CONSTRAINT [NOT VALID]`, `ALTER COLUMN … SET
//! DEFAULT / SET NOT NULL / ADD GENERATED … AS IDENTITY`, `REPLICA
//! IDENTITY`, `COMMENT ON TABLE / COLUMN`, `CREATE UNLOGGED SEQUENCE`,
//! `ALTER SEQUENCE … OWNED BY`, and partitions as plain tables attached
//! (`ATTACH PARTITION`, `CREATE INDEX … ON ONLY`, `ALTER INDEX … ATTACH
//! PARTITION`). The amending statements are folded into
//! the `CREATE TABLE` they amend (what a `CREATE TABLE` cannot say is
//! handed to the model), so the rest of the loader sees one declaration
//! per table, and a serial written out as a sequence, an owner and a
//! `nextval` default is a serial again.
//!
//! Over ~600 lines: a token-level reader for every statement form pg_dump
//! writes that sqlparser does not read, each a short function; splitting
//! it by statement would scatter the shared token helpers.

use sqlparser::ast::{
    AlterColumnOperation, AlterTable, AlterTableOperation, ColumnOption, ColumnOptionDef,
    CreateTable, DataType, Expr, ForValues, FunctionArg, FunctionArgExpr, FunctionArguments,
    ObjectName, ObjectNamePart, Statement, Value,
};
use sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace};

use crate::ident::Ident;

/// A place in a file: 1-based (line, column) of the first token and just
/// past the last.
pub(crate) type Place = ((u64, u64), (u64, u64));

/// The tokens without psql's `\restrict KEY` and `\unrestrict KEY` lines
/// (pg_dump 15.14 and later guard every dump with them). Any other
/// meta-command stays, for the parser to refuse.
pub(crate) fn without_psql_guards(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let mut kept = Vec::with_capacity(tokens.len());
    let mut skipping_line: Option<u64> = None;
    let mut line_has_code: Option<u64> = None;
    for (i, token) in tokens.iter().enumerate() {
        let line = token.span.start.line;
        if skipping_line == Some(line) {
            if matches!(token.token, Token::Whitespace(Whitespace::Newline)) {
                skipping_line = None;
            }
            continue;
        }
        let is_code = !matches!(token.token, Token::Whitespace(_));
        if is_code && line_has_code != Some(line) {
            line_has_code = Some(line);
            let guard = matches!(token.token, Token::Backslash)
                && matches!(tokens.get(i + 1).map(|t| &t.token), Some(Token::Word(w))
                    if w.quote_style.is_none()
                        && (w.value == "restrict" || w.value == "unrestrict"));
            if guard {
                skipping_line = Some(line);
                continue;
            }
        }
        kept.push(token.clone());
    }
    kept
}

/// The tokens without `SEQUENCE NAME name` in identity options (pg_dump
/// writes the name PostgreSQL chose; kschema does not keep it, and
/// sqlparser cannot read it).
pub(crate) fn without_sequence_names(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let code: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .collect();
    let mut drop = vec![false; tokens.len()];
    let word = |i: usize, keyword: &str| is_word(&tokens[i].token, keyword);
    let mut k = 0;
    while k + 2 < code.len() {
        if word(code[k], "SEQUENCE") && word(code[k + 1], "NAME") {
            // The name: words joined by periods.
            let mut end = k + 2;
            while end < code.len() && matches!(tokens[code[end]].token, Token::Word(_)) {
                if end + 1 < code.len() && matches!(tokens[code[end + 1]].token, Token::Period) {
                    end += 2;
                } else {
                    end += 1;
                    break;
                }
            }
            for i in code[k]
                ..tokens
                    .len()
                    .min(code.get(end).copied().unwrap_or(tokens.len()))
            {
                if !matches!(tokens[i].token, Token::Whitespace(Whitespace::Newline)) {
                    drop[i] = true;
                }
            }
            k = end;
        } else {
            k += 1;
        }
    }
    tokens
        .into_iter()
        .zip(drop)
        .filter(|(_, dropped)| !dropped)
        .map(|(t, _)| t)
        .collect()
}

/// The tokens without `UNLOGGED` in `CREATE UNLOGGED SEQUENCE` (pg_dump
/// writes it for a serial of an unlogged table, whose sequence PostgreSQL
/// makes unlogged by itself; sqlparser cannot read it), and the places of
/// the sequences that said it, for the loader to check they are such.
pub(crate) fn without_unlogged_sequences(
    tokens: Vec<TokenWithSpan>,
) -> (Vec<TokenWithSpan>, Vec<(u64, u64)>) {
    let code: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .collect();
    let word = |i: usize, keyword: &str| is_word(&tokens[i].token, keyword);
    let mut dropped = Vec::new();
    let mut places = Vec::new();
    for k in 0..code.len().saturating_sub(2) {
        if word(code[k], "CREATE") && word(code[k + 1], "UNLOGGED") && word(code[k + 2], "SEQUENCE")
        {
            dropped.push(code[k + 1]);
            let start = &tokens[code[k]].span.start;
            places.push((start.line, start.column));
        }
    }
    let kept = without_tokens(tokens, &dropped);
    (kept, places)
}

/// The tokens without those at the `dropped` positions.
fn without_tokens(tokens: Vec<TokenWithSpan>, dropped: &[usize]) -> Vec<TokenWithSpan> {
    tokens
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !dropped.contains(i))
        .map(|(_, t)| t)
        .collect()
}

/// `ALTER SEQUENCE s OWNED BY t.c`: sqlparser cannot read `ALTER SEQUENCE`,
/// so these statements are taken out of the tokens here.
#[derive(Clone, Debug)]
pub(crate) struct SequenceOwner {
    pub sequence: Ident,
    pub table: Ident,
    pub column: Ident,
    pub place: Place,
}

/// The tokens without their `ALTER SEQUENCE` statements, and those
/// statements: an owner, or (`Err`) the place of one that says anything
/// else.
pub(crate) fn take_alter_sequences(
    tokens: Vec<TokenWithSpan>,
) -> (Vec<TokenWithSpan>, Vec<Result<SequenceOwner, Place>>) {
    take_statements(tokens, |words, place| {
        (is_keyword(words.first(), "ALTER") && is_keyword(words.get(1), "SEQUENCE"))
            .then(|| owner_of(&words[2..], place).ok_or(place))
    })
}

/// `ALTER INDEX parent ATTACH PARTITION child`: a dump attaches each
/// partition's index to its partitioned table's index. sqlparser cannot
/// read it, so these statements are taken out of the tokens here.
#[derive(Clone, Debug)]
pub(crate) struct IndexAttachment {
    pub parent: Ident,
    pub child: Ident,
    pub place: Place,
}

/// The tokens without their `ALTER INDEX … ATTACH PARTITION` statements,
/// and those statements. Other `ALTER INDEX` forms stay, for the parser to
/// read or refuse.
pub(crate) fn take_index_attachments(
    tokens: Vec<TokenWithSpan>,
) -> (Vec<TokenWithSpan>, Vec<IndexAttachment>) {
    take_statements(tokens, |words, place| {
        if !(is_keyword(words.first(), "ALTER") && is_keyword(words.get(1), "INDEX")) {
            return None;
        }
        let (parent, rest) = dotted_name(&words[2..])?;
        if !(is_keyword(rest.first(), "ATTACH") && is_keyword(rest.get(1), "PARTITION")) {
            return None;
        }
        let (child, rest) = dotted_name(&rest[2..])?;
        if !matches!(rest, [t] if matches!(t.token, Token::SemiColon)) {
            return None;
        }
        Some(IndexAttachment {
            parent: parent.last()?.clone(),
            child: child.last()?.clone(),
            place,
        })
    })
}

/// The tokens without the statements `pick` takes (it sees a statement's
/// code tokens and its place), and what it made of them. Newlines stay, so
/// the places of what follows do.
fn take_statements<T>(
    tokens: Vec<TokenWithSpan>,
    pick: impl Fn(&[&TokenWithSpan], Place) -> Option<T>,
) -> (Vec<TokenWithSpan>, Vec<T>) {
    let mut kept = Vec::with_capacity(tokens.len());
    let mut taken = Vec::new();
    let mut statement: Vec<TokenWithSpan> = Vec::new();
    for token in tokens {
        let ends = matches!(token.token, Token::SemiColon);
        statement.push(token);
        if !ends {
            continue;
        }
        let words: Vec<&TokenWithSpan> = statement
            .iter()
            .filter(|t| !matches!(t.token, Token::Whitespace(_)))
            .collect();
        let (first, last) = (words[0], words[words.len() - 1]);
        let place = (
            (first.span.start.line, first.span.start.column),
            (last.span.end.line, last.span.end.column),
        );
        match pick(&words, place) {
            Some(picked) => {
                taken.push(picked);
                kept.extend(
                    statement
                        .drain(..)
                        .filter(|t| matches!(t.token, Token::Whitespace(Whitespace::Newline))),
                );
            }
            None => kept.append(&mut statement),
        }
    }
    kept.append(&mut statement);
    (kept, taken)
}

/// An index a dump creates `ON ONLY` its partitioned table: complete only
/// once every partition's index is attached to it.
#[derive(Clone, Debug)]
pub(crate) struct OnlyIndex {
    pub name: Ident,
    pub place: Place,
}

/// The tokens without `ONLY` in `CREATE [UNIQUE] INDEX name ON ONLY t`
/// (sqlparser cannot read it), and the indexes that said it.
pub(crate) fn without_index_only(
    tokens: Vec<TokenWithSpan>,
) -> (Vec<TokenWithSpan>, Vec<OnlyIndex>) {
    let code: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .collect();
    let word = |k: usize, keyword: &str| {
        code.get(k)
            .is_some_and(|&i| is_word(&tokens[i].token, keyword))
    };
    let mut dropped = Vec::new();
    let mut only = Vec::new();
    for k in 0..code.len() {
        if !word(k, "CREATE") {
            continue;
        }
        let mut at = k + 1;
        if word(at, "UNIQUE") {
            at += 1;
        }
        if !word(at, "INDEX") {
            continue;
        }
        at += 1;
        if word(at, "CONCURRENTLY") {
            at += 1;
        }
        if word(at, "IF") && word(at + 1, "NOT") && word(at + 2, "EXISTS") {
            at += 3;
        }
        let Some(Token::Word(name)) = code.get(at).map(|&i| &tokens[i].token) else {
            continue;
        };
        if word(at + 1, "ON") && word(at + 2, "ONLY") {
            let token = &tokens[code[at + 2]];
            dropped.push(code[at + 2]);
            only.push(OnlyIndex {
                name: Ident::from_sql(&name.value, name.quote_style.is_some()),
                place: (
                    (token.span.start.line, token.span.start.column),
                    (token.span.end.line, token.span.end.column),
                ),
            });
        }
    }
    let kept = without_tokens(tokens, &dropped);
    (kept, only)
}

/// The tokens without `ALTER … OWNER TO role` statements of any kind
/// (pg_dump writes one per function, type, view, sequence…): kschema does
/// not manage ownership, and sqlparser cannot read most of them. Newlines
/// stay, so the places of what follows do.
pub(crate) fn without_ownership(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let mut kept = Vec::with_capacity(tokens.len());
    let mut statement: Vec<TokenWithSpan> = Vec::new();
    let flush = |statement: &mut Vec<TokenWithSpan>, kept: &mut Vec<TokenWithSpan>| {
        let words: Vec<&Token> = statement
            .iter()
            .map(|t| &t.token)
            .filter(|t| !matches!(t, Token::Whitespace(_) | Token::SemiColon | Token::EOF))
            .collect();
        let owner_to = words.len() >= 4
            && is_word(words[0], "ALTER")
            && is_word(words[words.len() - 3], "OWNER")
            && is_word(words[words.len() - 2], "TO")
            && matches!(words[words.len() - 1], Token::Word(_));
        if owner_to {
            kept.extend(statement.drain(..).filter(|t| {
                matches!(t.token, Token::Whitespace(Whitespace::Newline) | Token::EOF)
            }));
        } else {
            kept.append(statement);
        }
    };
    for token in tokens {
        let ends = matches!(token.token, Token::SemiColon);
        statement.push(token);
        if ends {
            flush(&mut statement, &mut kept);
        }
    }
    flush(&mut statement, &mut kept);
    kept
}

/// A tenant dump's tokens without its own schema's qualifier (`org_x.` in
/// `org_x.status`, `'open'::org_x.status`, `ON org_x.t`): the schema a
/// `CREATE SCHEMA` in the file names is the template's own, and its objects'
/// names are the tenant files' bare names. Names inside strings stay.
pub(crate) fn without_own_qualifier(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let code: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .collect();
    let schema = code.windows(3).find_map(|w| {
        match (
            &tokens[w[0]].token,
            &tokens[w[1]].token,
            &tokens[w[2]].token,
        ) {
            (create, schema, Token::Word(name))
                if is_word(create, "CREATE") && is_word(schema, "SCHEMA") =>
            {
                Some(Ident::from_sql(&name.value, name.quote_style.is_some()))
            }
            _ => None,
        }
    });
    let Some(schema) = schema else {
        return tokens;
    };
    let mut dropped = vec![false; tokens.len()];
    for k in 0..code.len().saturating_sub(2) {
        let (name, dot, next) = (code[k], code[k + 1], code[k + 2]);
        let is_qualifier = matches!(&tokens[name].token, Token::Word(w)
                if Ident::from_sql(&w.value, w.quote_style.is_some()) == schema)
            && matches!(tokens[dot].token, Token::Period)
            && matches!(tokens[next].token, Token::Word(_))
            && (k == 0 || !matches!(tokens[code[k - 1]].token, Token::Period));
        if is_qualifier {
            dropped[name] = true;
            dropped[dot] = true;
        }
    }
    tokens
        .into_iter()
        .zip(dropped)
        .filter(|(_, dropped)| !dropped)
        .map(|(t, _)| t)
        .collect()
}

/// An unquoted `keyword` (any case).
pub(crate) fn is_word(token: &Token, keyword: &str) -> bool {
    matches!(token, Token::Word(w)
        if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(keyword))
}

fn is_keyword(token: Option<&&TokenWithSpan>, keyword: &str) -> bool {
    token.is_some_and(|t| is_word(&t.token, keyword))
}

/// `[IF EXISTS] name OWNED BY table.column ;`
fn owner_of(words: &[&TokenWithSpan], place: Place) -> Option<SequenceOwner> {
    let mut rest = words;
    if is_keyword(rest.first(), "IF") && is_keyword(rest.get(1), "EXISTS") {
        rest = &rest[2..];
    }
    let (sequence, rest) = dotted_name(rest)?;
    if !(is_keyword(rest.first(), "OWNED") && is_keyword(rest.get(1), "BY")) {
        return None;
    }
    let (mut owner, rest) = dotted_name(&rest[2..])?;
    if !matches!(rest, [t] if matches!(t.token, Token::SemiColon)) || owner.len() < 2 {
        return None;
    }
    let column = owner.pop()?;
    Some(SequenceOwner {
        sequence: sequence.last()?.clone(),
        table: owner.last()?.clone(),
        column,
        place,
    })
}

/// `a.b.c` as names, and the tokens after it.
pub(crate) fn dotted_name<'a, 'b>(
    words: &'a [&'b TokenWithSpan],
) -> Option<(Vec<Ident>, &'a [&'b TokenWithSpan])> {
    let mut names = Vec::new();
    let mut rest = words;
    loop {
        match rest.first().map(|t| &t.token) {
            Some(Token::Word(w)) => {
                names.push(match w.quote_style {
                    Some(_) => Ident::new(&w.value),
                    None => Ident::new(w.value.to_lowercase()),
                });
                rest = &rest[1..];
            }
            _ => return None,
        }
        match rest.first().map(|t| &t.token) {
            Some(Token::Period) => rest = &rest[1..],
            _ => return Some((names, rest)),
        }
    }
}

/// What a statement that is not a `CREATE` means to the desired state.
pub(crate) enum DumpStatement {
    /// A session setting (`SET …`, `SELECT pg_catalog.set_config(…)`):
    /// how the dump is replayed, not what it creates.
    Setting,
    /// `CREATE SCHEMA name`: the schema the file's objects are in.
    CreateSchema(Ident),
    /// `… OWNER TO …`: kschema does not manage ownership.
    Ownership,
    /// The comment initdb gives public (every dump of it has it).
    PublicSchemaComment,
    /// Amends a table declared elsewhere in the files.
    AlterTable(Box<AlterTable>),
    /// `COMMENT ON TABLE t` (`column` `None`) or `COMMENT ON COLUMN t.c`;
    /// `IS NULL` is `None`.
    Comment {
        table: Ident,
        column: Option<Ident>,
        text: Option<String>,
    },
}

/// The statement back (boxed) when it is none of these.
pub(crate) fn classify(statement: Statement) -> Result<DumpStatement, Box<Statement>> {
    match statement {
        Statement::Set(_) => Ok(DumpStatement::Setting),
        Statement::Query(ref query)
            if query
                .to_string()
                .to_lowercase()
                .starts_with("select pg_catalog.set_config(") =>
        {
            Ok(DumpStatement::Setting)
        }
        Statement::CreateSchema {
            schema_name: sqlparser::ast::SchemaName::Simple(ref name),
            ..
        } if name.0.len() == 1 => match name.0[0].as_ident() {
            Some(ident) => Ok(DumpStatement::CreateSchema(Ident::from_sqlparser(ident))),
            None => Err(Box::new(statement)),
        },
        Statement::AlterSchema(ref alter)
            if alter
                .operations
                .iter()
                .all(|op| matches!(op, sqlparser::ast::AlterSchemaOperation::OwnerTo { .. })) =>
        {
            Ok(DumpStatement::Ownership)
        }
        Statement::Comment {
            object_type: sqlparser::ast::CommentObject::Schema,
            ref object_name,
            comment: Some(ref text),
            ..
        } if object_name.to_string() == "public" && text == "standard public schema" => {
            Ok(DumpStatement::PublicSchemaComment)
        }
        Statement::Comment {
            object_type:
                object @ (sqlparser::ast::CommentObject::Table | sqlparser::ast::CommentObject::Column),
            ref object_name,
            ref comment,
            ..
        } => {
            let parts: Vec<Ident> = object_name
                .0
                .iter()
                .filter_map(|p| p.as_ident().map(Ident::from_sqlparser))
                .collect();
            let (table, column) = match (object, parts.as_slice()) {
                (sqlparser::ast::CommentObject::Table, [.., table]) => (table.clone(), None),
                (sqlparser::ast::CommentObject::Column, [.., table, column]) => {
                    (table.clone(), Some(column.clone()))
                }
                _ => return Err(Box::new(statement)),
            };
            Ok(DumpStatement::Comment {
                table,
                column,
                text: comment.clone(),
            })
        }
        Statement::AlterTable(alter)
            if alter
                .operations
                .iter()
                .all(|op| matches!(op, AlterTableOperation::OwnerTo { .. })) =>
        {
            Ok(DumpStatement::Ownership)
        }
        Statement::AlterTable(alter) => Ok(DumpStatement::AlterTable(Box::new(alter))),
        other => Err(Box::new(other)),
    }
}

/// Why an `ALTER TABLE` operation cannot be folded into its table.
pub(crate) enum NotFolded {
    /// `NOT VALID` on a constraint that cannot be (only checks and foreign
    /// keys can), or one without a name to keep it by.
    NotValid,
    UnknownColumn(Ident),
    Other(String),
}

/// What folding an operation left for the model to do: a `CREATE TABLE`
/// can say neither `NOT VALID` nor `REPLICA IDENTITY`.
pub(crate) enum Folded {
    Done,
    /// This constraint stays `NOT VALID`.
    NotValid(Ident),
    ReplicaIdentity(Option<crate::model::ReplicaIdentity>),
    /// `DISABLE TRIGGER t` and its kin, for a trigger declared later.
    TriggerFiring(Ident, crate::model::TriggerFiring),
    /// `ENABLE` / `DISABLE` (true, false) or `FORCE` / `NO FORCE` (false,
    /// true) `ROW LEVEL SECURITY`.
    RowSecurity {
        enable: Option<bool>,
        force: Option<bool>,
    },
    /// `ATTACH PARTITION child FOR VALUES …`: the child, declared as a
    /// plain table, is a partition of this one.
    AttachPartition(ObjectName, ForValues),
}

/// Folds one operation into the table's declaration.
pub(crate) fn fold(
    table: &mut CreateTable,
    operation: &AlterTableOperation,
) -> Result<Folded, NotFolded> {
    match operation {
        AlterTableOperation::AddConstraint {
            constraint,
            not_valid: true,
        } => {
            let name = match constraint {
                sqlparser::ast::TableConstraint::Check(check) => check.name.as_ref(),
                sqlparser::ast::TableConstraint::ForeignKey(fk) => fk.name.as_ref(),
                _ => None,
            }
            .ok_or(NotFolded::NotValid)?;
            table.constraints.push(constraint.clone());
            Ok(Folded::NotValid(Ident::from_sqlparser(name)))
        }
        AlterTableOperation::ReplicaIdentity { identity } => match identity {
            sqlparser::ast::ReplicaIdentity::Default => Ok(Folded::ReplicaIdentity(None)),
            sqlparser::ast::ReplicaIdentity::Full => Ok(Folded::ReplicaIdentity(Some(
                crate::model::ReplicaIdentity::Full,
            ))),
            sqlparser::ast::ReplicaIdentity::Nothing => Ok(Folded::ReplicaIdentity(Some(
                crate::model::ReplicaIdentity::Nothing,
            ))),
            sqlparser::ast::ReplicaIdentity::Index(index) => Ok(Folded::ReplicaIdentity(Some(
                crate::model::ReplicaIdentity::UsingIndex(Ident::from_sqlparser(index)),
            ))),
        },
        AlterTableOperation::AddConstraint { constraint, .. } => {
            table.constraints.push(constraint.clone());
            Ok(Folded::Done)
        }
        AlterTableOperation::OwnerTo { .. } => Ok(Folded::Done),
        AlterTableOperation::AttachPartitionOf {
            partition,
            for_values,
        } => Ok(Folded::AttachPartition(
            partition.clone(),
            for_values.clone(),
        )),
        AlterTableOperation::EnableRowLevelSecurity => Ok(Folded::RowSecurity {
            enable: Some(true),
            force: None,
        }),
        AlterTableOperation::DisableRowLevelSecurity => Ok(Folded::RowSecurity {
            enable: Some(false),
            force: None,
        }),
        AlterTableOperation::ForceRowLevelSecurity => Ok(Folded::RowSecurity {
            enable: None,
            force: Some(true),
        }),
        AlterTableOperation::NoForceRowLevelSecurity => Ok(Folded::RowSecurity {
            enable: None,
            force: Some(false),
        }),
        AlterTableOperation::DisableTrigger { name } => Ok(Folded::TriggerFiring(
            Ident::from_sqlparser(name),
            crate::model::TriggerFiring::Disabled,
        )),
        AlterTableOperation::EnableTrigger { name } => Ok(Folded::TriggerFiring(
            Ident::from_sqlparser(name),
            crate::model::TriggerFiring::Enabled,
        )),
        AlterTableOperation::EnableReplicaTrigger { name } => Ok(Folded::TriggerFiring(
            Ident::from_sqlparser(name),
            crate::model::TriggerFiring::Replica,
        )),
        AlterTableOperation::EnableAlwaysTrigger { name } => Ok(Folded::TriggerFiring(
            Ident::from_sqlparser(name),
            crate::model::TriggerFiring::Always,
        )),
        AlterTableOperation::AlterColumn { column_name, op } => {
            let name = Ident::from_sqlparser(column_name);
            let Some(column) = table
                .columns
                .iter_mut()
                .find(|c| Ident::from_sqlparser(&c.name) == name)
            else {
                return Err(NotFolded::UnknownColumn(name));
            };
            let option = match op {
                AlterColumnOperation::SetDefault { value } => {
                    column
                        .options
                        .retain(|o| !matches!(o.option, ColumnOption::Default(_)));
                    ColumnOption::Default(value.clone())
                }
                AlterColumnOperation::AddGenerated {
                    generated_as,
                    sequence_options,
                } => ColumnOption::Generated {
                    generated_as: generated_as.unwrap_or(sqlparser::ast::GeneratedAs::Always),
                    sequence_options: sequence_options.clone(),
                    generation_expr: None,
                    generation_expr_mode: None,
                    generated_keyword: true,
                },
                AlterColumnOperation::SetNotNull => ColumnOption::NotNull,
                other => return Err(NotFolded::Other(format!("ALTER COLUMN {name} {other}"))),
            };
            column.options.push(ColumnOptionDef { name: None, option });
            Ok(Folded::Done)
        }
        other => Err(NotFolded::Other(other.to_string())),
    }
}

/// The sequence a `nextval('seq'::regclass)` default draws from.
pub(crate) fn nextval_sequence(expr: &Expr) -> Option<Ident> {
    let Expr::Function(function) = expr else {
        return None;
    };
    let name = function.name.0.last().and_then(ObjectNamePart::as_ident)?;
    if !name.value.eq_ignore_ascii_case("nextval") {
        return None;
    }
    let FunctionArguments::List(list) = &function.args else {
        return None;
    };
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))] = list.args.as_slice() else {
        return None;
    };
    let literal = match arg {
        Expr::Cast { expr, .. } => expr.as_ref(),
        other => other,
    };
    let Expr::Value(value) = literal else {
        return None;
    };
    let Value::SingleQuotedString(text) = &value.value else {
        return None;
    };
    // 'schema.seq' or 'seq', either part possibly quoted.
    let last = split_qualified(text).pop()?;
    Some(last)
}

fn split_qualified(text: &str) -> Vec<Ident> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                current.push('"');
                chars.next();
            }
            '"' => {
                quoted = !quoted;
                was_quoted = true;
            }
            '.' if !quoted => {
                parts.push(part(&current, was_quoted));
                current.clear();
                was_quoted = false;
            }
            c => current.push(c),
        }
    }
    parts.push(part(&current, was_quoted));
    parts
}

fn part(text: &str, quoted: bool) -> Ident {
    if quoted {
        Ident::new(text)
    } else {
        Ident::new(text.to_lowercase())
    }
}

/// The serial type for a column type, when there is one.
pub(crate) fn serial_type(data_type: &DataType) -> Option<&'static str> {
    match data_type {
        DataType::Int(None) | DataType::Integer(None) | DataType::Int4(None) => Some("serial"),
        DataType::BigInt(None) | DataType::Int8(None) => Some("bigserial"),
        DataType::SmallInt(None) | DataType::Int2(None) => Some("smallserial"),
        _ => None,
    }
}

/// `serial` as a type name the loader reads.
pub(crate) fn serial_data_type(name: &str) -> DataType {
    DataType::Custom(
        ObjectName(vec![ObjectNamePart::Identifier(
            sqlparser::ast::Ident::new(name),
        )]),
        vec![],
    )
}
