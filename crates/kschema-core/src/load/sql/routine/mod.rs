//! `CREATE FUNCTION`, `PROCEDURE`, `TRIGGER` and `VIEW`: taken out of the
//! tokens before sqlparser reads the rest. kschema needs only what
//! identifies them (name, argument count, the trigger's table, the names a
//! view's query mentions); their bodies and options are PostgreSQL's to read — the materialized desired
//! state reports what it rejects at the file and line, and what it stores
//! is what is compared.

use std::sync::Arc;

use miette::SourceSpan;
use sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace};

use crate::diagnostic::SourceFile;
use crate::ident::Ident;
use crate::load::dump::{dotted_name, is_word};
use crate::load::statements::{statement_places_in, Comment};
use crate::model::TriggerFiring;

mod build;

/// What a routine statement declares.
#[derive(Clone, Debug)]
pub(crate) enum RoutineKind {
    Function {
        procedure: bool,
        aggregate: bool,
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
    /// The comments on the lines right above it (its `-- kschema:`
    /// annotations among them).
    pub leading_comments: Vec<Comment>,
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
    // The line of the last statement's `;`: a comment after it on that
    // line is that statement's, not the next one's.
    let mut ended_on: u64 = 0;
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
        let line = statement.last().map_or(0, |t| t.span.start.line);
        match routine_of(&words, file) {
            Some(routine) => {
                taken.push(DeclaredRoutine {
                    atomic,
                    leading_comments: leading_comments(&statement, ended_on),
                    ..routine
                });
                kept.extend(
                    statement
                        .drain(..)
                        .filter(|t| matches!(t.token, Token::Whitespace(Whitespace::Newline))),
                );
            }
            None => kept.append(&mut statement),
        }
        atomic = false;
        ended_on = line;
    }
    // A last statement without `;`.
    let words: Vec<&TokenWithSpan> = statement
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
        .collect();
    match routine_of(&words, file) {
        Some(routine) => {
            taken.push(DeclaredRoutine {
                leading_comments: leading_comments(&statement, ended_on),
                ..routine
            });
            kept.extend(statement.into_iter().filter(|t| {
                matches!(t.token, Token::Whitespace(Whitespace::Newline) | Token::EOF)
            }));
        }
        None => kept.append(&mut statement),
    }
    (kept, taken)
}

/// The comments right above a statement (`statement`: its tokens from
/// just after the previous `;`), as for any other statement
/// (`statement_places_in`), but for one on the previous `;`'s line.
fn leading_comments(statement: &[TokenWithSpan], ended_on: u64) -> Vec<Comment> {
    statement_places_in(statement)
        .into_iter()
        .next()
        .map(|place| place.leading_comments)
        .unwrap_or_default()
        .into_iter()
        .filter(|comment| comment.line != ended_on)
        .collect()
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
            leading_comments: Vec::new(),
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
            leading_comments: Vec::new(),
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
            leading_comments: Vec::new(),
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
    } else if word(at, "AGGREGATE") && !constraint {
        "aggregate"
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
        // A materialized view's tablespace is not managed: left to the
        // parser, which cannot read it, and refused there by name.
        let before_query = || rest.iter().take_while(|t| !is_word(&t.token, "AS"));
        if materialized && before_query().any(|t| is_word(&t.token, "TABLESPACE")) {
            return None;
        }
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
            aggregate: what == "aggregate",
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
        leading_comments: Vec::new(),
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
            // An aggregate's `(*)` takes none; an ordered-set one's
            // `(a ORDER BY b)` takes both.
            Token::Mul if depth == 0 && count == 0 => argument_starts = false,
            Token::Word(w)
                if depth == 0
                    && w.quote_style.is_none()
                    && w.value.eq_ignore_ascii_case("ORDER") =>
            {
                argument_starts = false
            }
            Token::Word(w)
                if depth == 0 && w.quote_style.is_none() && w.value.eq_ignore_ascii_case("BY") =>
            {
                argument_starts = true
            }
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
                aggregate: false,
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
