//! Where each statement of a SQL file starts and which comments belong to
//! it: sqlparser's AST has no comments and not every statement has a span,
//! so the loader finds both from the tokens.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, Whitespace};

/// A `--` comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// 1-based line and column of the `--`.
    pub line: u64,
    pub column: u64,
    /// The text after `--`, trimmed.
    pub text: String,
    /// Alone on its line (rather than after code).
    pub own_line: bool,
}

/// One statement's place in its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementPlace {
    /// 1-based line and column of its first token.
    pub start: (u64, u64),
    /// 1-based line and column just past its last token (before `;`).
    pub end: (u64, u64),
    /// Comments on the lines directly above it (no blank line between).
    pub leading_comments: Vec<Comment>,
    /// Comments inside it: an annotation for a column sits at the end of
    /// the column's line or on its own line right above it.
    pub inner_comments: Vec<Comment>,
}

impl StatementPlace {
    /// The comments that annotate the element starting on `line` inside the
    /// statement: a trailing comment on that line, or own-line comments
    /// directly above it.
    pub fn comments_for_line(&self, line: u64) -> Vec<&Comment> {
        let mut found: Vec<&Comment> = self
            .inner_comments
            .iter()
            .filter(|c| c.line == line && !c.own_line)
            .collect();
        let mut above = line.saturating_sub(1);
        while let Some(comment) = self
            .inner_comments
            .iter()
            .find(|c| c.line == above && c.own_line)
        {
            found.push(comment);
            above = above.saturating_sub(1);
        }
        found
    }
}

/// The places of the file's statements, in order (empty statements skipped,
/// as sqlparser skips them). `None` if the file does not tokenize; the
/// parser then reports the error.
pub fn statement_places(text: &str) -> Option<Vec<StatementPlace>> {
    Some(statement_places_in(&tokenize(text)?))
}

/// The file's tokens with their places; `None` if it does not tokenize
/// (the parser then reports the error).
pub fn tokenize(text: &str) -> Option<Vec<TokenWithSpan>> {
    Tokenizer::new(&PostgreSqlDialect {}, text)
        .tokenize_with_location()
        .ok()
}

/// [`statement_places`] from tokens already made.
pub fn statement_places_in(tokens: &[TokenWithSpan]) -> Vec<StatementPlace> {
    let mut places = Vec::new();
    let mut current: Option<StatementPlace> = None;
    let mut pending_comments: Vec<Comment> = Vec::new();
    let mut blank_lines = 0;
    let mut code_on_line: u64 = 0;
    for token in tokens {
        let location = (token.span.start.line, token.span.start.column);
        let end = (token.span.end.line, token.span.end.column);
        match &token.token {
            Token::SemiColon => {
                code_on_line = location.0;
                if let Some(place) = current.take() {
                    places.push(place);
                }
                pending_comments.clear();
            }
            Token::Whitespace(Whitespace::SingleLineComment { comment, .. }) => {
                let comment = Comment {
                    line: location.0,
                    column: location.1,
                    text: comment.trim().to_string(),
                    own_line: code_on_line != location.0,
                };
                match &mut current {
                    Some(place) => place.inner_comments.push(comment),
                    None if comment.own_line => {
                        pending_comments.push(comment);
                        blank_lines = 0;
                    }
                    // A trailing comment after the previous statement's `;`.
                    None => {}
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
                code_on_line = end.0;
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
    places
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
        let texts: Vec<&str> = places[0]
            .leading_comments
            .iter()
            .map(|c| c.text.as_str())
            .collect();
        assert_eq!(texts, ["about a"]);
        assert_eq!(places[1].start, (6, 1));
        assert!(places[1].leading_comments.is_empty());
    }

    #[test]
    fn column_comments_are_trailing_or_directly_above() {
        let text = "CREATE TABLE t (\n  a int, -- on a\n  -- above b\n  b int,\n  c int\n);";
        let place = &statement_places(text).unwrap()[0];
        let on = |line| -> Vec<String> {
            place
                .comments_for_line(line)
                .iter()
                .map(|c| c.text.clone())
                .collect()
        };
        assert_eq!(on(2), ["on a"]);
        assert_eq!(on(4), ["above b"]);
        assert!(on(5).is_empty());
    }
}
