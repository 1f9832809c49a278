//! Where each statement of a SQL file starts and which comments sit right
//! above it: sqlparser's AST has no comments and not every statement has a
//! span, so the loader finds both from the tokens.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

/// One statement's place in its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementPlace {
    /// 1-based line and column of its first token.
    pub start: (u64, u64),
    /// 1-based line and column just past its last token (before `;`).
    pub end: (u64, u64),
    /// `--` comments on the lines directly above it, without the `--`.
    pub leading_comments: Vec<String>,
    /// `--` comments inside the statement, with their 1-based line: an
    /// annotation for a column sits on (or right above) the column's line.
    pub inner_comments: Vec<(u64, String)>,
}

/// The places of the file's statements, in order (empty statements skipped,
/// as sqlparser skips them). `None` if the file does not tokenize; the
/// parser then reports the error.
pub fn statement_places(text: &str) -> Option<Vec<StatementPlace>> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, text)
        .tokenize_with_location()
        .ok()?;
    let mut places = Vec::new();
    let mut current: Option<StatementPlace> = None;
    let mut pending_comments: Vec<String> = Vec::new();
    let mut blank_lines = 0;
    for token in tokens {
        let location = (token.span.start.line, token.span.start.column);
        let end = (token.span.end.line, token.span.end.column);
        match &token.token {
            Token::SemiColon => {
                if let Some(place) = current.take() {
                    places.push(place);
                }
                pending_comments.clear();
            }
            Token::Whitespace(Whitespace::SingleLineComment { comment, .. }) => {
                match &mut current {
                    Some(place) => place
                        .inner_comments
                        .push((location.0, comment.trim().to_string())),
                    None => {
                        pending_comments.push(comment.trim().to_string());
                        blank_lines = 0;
                    }
                }
            }
            Token::Whitespace(Whitespace::Newline) => {
                blank_lines += 1;
                // A blank line separates a comment from the statement below it.
                if blank_lines > 1 && current.is_none() {
                    pending_comments.clear();
                }
            }
            Token::Whitespace(_) | Token::EOF => {}
            _ => {
                blank_lines = 0;
                match &mut current {
                    Some(place) => place.end = end,
                    None => {
                        current = Some(StatementPlace {
                            start: location,
                            end,
                            leading_comments: std::mem::take(&mut pending_comments),
                            inner_comments: Vec::new(),
                        })
                    }
                }
            }
        }
    }
    if let Some(place) = current {
        places.push(place);
    }
    Some(places)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_starts_and_comments() {
        let text = "-- header\n\n-- about a\nCREATE TABLE a (x int);\n\nCREATE INDEX i ON a (x); -- trailing\n";
        let places = statement_places(text).unwrap();
        assert_eq!(places.len(), 2);
        assert_eq!(places[0].start, (4, 1));
        assert_eq!(places[0].leading_comments, ["about a"]);
        assert_eq!(places[1].start, (6, 1));
        assert!(places[1].leading_comments.is_empty());
    }
}
