//! Where tables and indexes live: `CREATE TABLE … TABLESPACE fast`,
//! `CREATE INDEX … TABLESPACE fast`, or (as schema dumps write it) `SET
//! default_tablespace = fast;` before them. The parser reads neither form
//! everywhere PostgreSQL does, so the clause is taken out of the tokens
//! here and handed to the table or index its statement declares.

use sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::ident::Ident;
use crate::load::dump::is_word;

/// (line, column) of a token's first character and just past its last.
type Place = ((u64, u64), (u64, u64));

/// The tablespace a statement puts its table or index in.
#[derive(Clone, Debug)]
pub(super) struct TablespaceClause {
    /// (line, column) of the statement's first token: its place's start.
    pub statement: (u64, u64),
    pub name: Ident,
}

/// What the pass found: the clauses, and the statements whose tablespace
/// kschema cannot manage (a key's index under `SET default_tablespace`).
#[derive(Default)]
pub(super) struct Tablespaces {
    pub clauses: Vec<TablespaceClause>,
    /// Where a key is declared whose index `SET default_tablespace` would
    /// send to a tablespace (not managed yet: refused).
    pub key_indexes: Vec<Place>,
}

/// What a statement declares, as far as tablespaces go.
#[derive(Clone, Copy, PartialEq)]
enum Declares {
    Table,
    Index,
    /// `ALTER TABLE … ADD CONSTRAINT … PRIMARY KEY | UNIQUE | EXCLUDE`.
    KeyConstraint,
    /// `SET default_tablespace …` / `RESET default_tablespace`.
    Setting,
    Other,
}

/// Takes `TABLESPACE name` out of `CREATE TABLE` and `CREATE INDEX`
/// statements, and gives the statements under `SET default_tablespace`
/// that setting's tablespace (the SET itself stays: it is a setting).
pub(super) fn take_tablespaces(tokens: Vec<TokenWithSpan>) -> (Vec<TokenWithSpan>, Tablespaces) {
    let mut found = Tablespaces::default();
    let mut drop = vec![false; tokens.len()];
    // The default in force.
    let mut default: Option<Ident> = None;
    let code: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .collect();
    let place_of = |i: usize| -> Place {
        let span = &tokens[i].span;
        (
            (span.start.line, span.start.column),
            (span.end.line, span.end.column),
        )
    };
    let mut k = 0;
    while k < code.len() {
        // One statement: code positions k..end (end at its `;` or the end).
        let end = (k..code.len())
            .find(|&j| matches!(tokens[code[j]].token, Token::SemiColon))
            .unwrap_or(code.len());
        let word = |j: usize, keyword: &str| {
            j < end
                && code
                    .get(j)
                    .is_some_and(|&i| is_word(&tokens[i].token, keyword))
        };
        let declares = if word(k, "CREATE") {
            let mut j = k + 1;
            while ["UNLOGGED", "UNIQUE"].iter().any(|w| word(j, w)) {
                j += 1;
            }
            if word(j, "TABLE") {
                Declares::Table
            } else if word(j, "INDEX") {
                Declares::Index
            } else {
                Declares::Other
            }
        } else if word(k, "ALTER") && word(k + 1, "TABLE") {
            let key = (k..end).any(|j| {
                word(j, "EXCLUDE")
                    || word(j, "UNIQUE")
                    || (word(j, "PRIMARY") && word(j + 1, "KEY"))
            });
            if key && (k..end).any(|j| word(j, "ADD")) {
                Declares::KeyConstraint
            } else {
                Declares::Other
            }
        } else if (word(k, "SET") || word(k, "RESET")) && word(k + 1, "default_tablespace") {
            Declares::Setting
        } else {
            Declares::Other
        };
        let statement = place_of(code[k.min(code.len() - 1)]).0;
        match declares {
            Declares::Setting => {
                // `SET default_tablespace = fast` / `TO fast` / `= ''`;
                // `RESET` and the empty name mean the database's default.
                let value = if word(k, "RESET") {
                    None
                } else {
                    code.get(k + 3).filter(|_| k + 3 < end).copied()
                };
                default = value.and_then(|i| {
                    let name = match &tokens[i].token {
                        Token::Word(w) => Ident::from_sql(&w.value, w.quote_style.is_some()),
                        Token::SingleQuotedString(s) => Ident::new(s.clone()),
                        _ => return None,
                    };
                    (!name.as_str().is_empty()).then_some(name)
                });
            }
            Declares::Table | Declares::Index => {
                // The clause sits outside every parenthesis; a key's
                // `USING INDEX TABLESPACE` inside the column list is the
                // key's (taken out before, by `tokens`).
                let mut depth = 0i32;
                let mut own = None;
                let mut inline_key = None;
                for j in k..end {
                    let i = code[j];
                    match &tokens[i].token {
                        Token::LParen => depth += 1,
                        Token::RParen => depth -= 1,
                        t if depth == 0 && is_word(t, "TABLESPACE") && j + 1 < end => {
                            let name_at = code[j + 1];
                            if let Token::Word(w) = &tokens[name_at].token {
                                own = Some(Ident::from_sql(&w.value, w.quote_style.is_some()));
                                drop[i] = true;
                                drop[name_at] = true;
                            }
                        }
                        t if depth >= 1
                            && declares == Declares::Table
                            && (is_word(t, "PRIMARY")
                                || is_word(t, "UNIQUE")
                                || is_word(t, "EXCLUDE")) =>
                        {
                            inline_key.get_or_insert(place_of(i));
                        }
                        _ => {}
                    }
                }
                // Under the setting a table's keys go there too, which
                // kschema would not know to do (an own clause moves the
                // table alone).
                if let (Some(key), Some(_)) = (inline_key, &default) {
                    found.key_indexes.push(key);
                }
                if let Some(name) = own.or_else(|| default.clone()) {
                    found.clauses.push(TablespaceClause { statement, name });
                }
            }
            Declares::KeyConstraint if default.is_some() => {
                let key = (k..end)
                    .find(|&j| word(j, "PRIMARY") || word(j, "UNIQUE") || word(j, "EXCLUDE"))
                    .unwrap_or(k);
                found.key_indexes.push(place_of(code[key]));
            }
            Declares::KeyConstraint => {}
            Declares::Other => {}
        }
        k = end + 1;
    }
    let kept = tokens
        .into_iter()
        .zip(drop)
        .filter_map(|(token, dropped)| (!dropped).then_some(token))
        .collect();
    (kept, found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::statements::tokenize;

    fn run(sql: &str) -> (String, Tablespaces) {
        let tokens = tokenize(sql).expect("tokens");
        let (kept, found) = take_tablespaces(tokens);
        let text: String = kept.iter().map(|t| t.token.to_string()).collect();
        (text, found)
    }

    #[test]
    fn a_clause_is_taken_out_and_given_to_its_statement() {
        let (text, found) = run(
            "CREATE TABLE t (id int) WITH (fillfactor = 70) TABLESPACE \"Fast\";\n\
             CREATE INDEX i ON t (id) TABLESPACE fast WHERE id > 0;\n\
             CREATE TABLE u (id int);",
        );
        assert!(!text.to_lowercase().contains("tablespace"), "{text}");
        assert!(text.contains("WHERE id > 0"), "{text}");
        let clauses: Vec<_> = found
            .clauses
            .iter()
            .map(|c| (c.statement, c.name.as_str().to_string()))
            .collect();
        assert_eq!(
            clauses,
            vec![((1, 1), "Fast".to_string()), ((2, 1), "fast".to_string())]
        );
        assert!(found.key_indexes.is_empty());
    }

    #[test]
    fn a_dumps_default_tablespace_goes_to_the_statements_under_it() {
        let (_, found) = run("SET default_tablespace = '';\nCREATE TABLE a (id int);\n\
             SET default_tablespace = fast;\nCREATE TABLE b (id int);\n\
             CREATE INDEX bi ON b (id);\n\
             ALTER TABLE ONLY b ADD CONSTRAINT b_pkey PRIMARY KEY (id);\n\
             SET default_tablespace = '';\nCREATE TABLE c (id int);");
        let statements: Vec<_> = found.clauses.iter().map(|c| c.statement.0).collect();
        assert_eq!(statements, vec![4, 5]);
        // The key's index under the setting cannot be managed: refused.
        assert_eq!(found.key_indexes.len(), 1);
    }
}
