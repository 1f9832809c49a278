//! What is refused in a file's text before it is parsed (NUL, control and
//! invisible characters), and parse errors as diagnostics.

use super::*;

/// sqlparser reports positions inside its message (`… at Line: 3, Column: 23`).
/// What no plan could show faithfully: a quoted name holding a control or
/// invisible character (PostgreSQL would take it), and such a character
/// outside any string or comment (where it means nothing to PostgreSQL).
pub(super) fn unsafe_text_problems(file: &Arc<SourceFile>) -> Vec<Problem> {
    use crate::escape::{is_unsafe_char, printable, sql_pieces, unicode_identifier, PieceKind};
    let text = file.text();
    let mut problems = Vec::new();
    for piece in sql_pieces(text) {
        let body = &text[piece.start..piece.end];
        match piece.kind {
            PieceKind::Quoted { quote: '"', .. } if crate::escape::has_unsafe_chars(body) => {
                let inner = body.strip_prefix('"').unwrap_or(body);
                let name = inner
                    .strip_suffix('"')
                    .unwrap_or(inner)
                    .replace("\"\"", "\"");
                problems.push(
                    Problem::new(
                        "kschema::sql::unsafe_name",
                        format!(
                            "the name {} holds a control or invisible character",
                            unicode_identifier(&name)
                        ),
                    )
                    .at(
                        file,
                        SourceSpan::new(piece.start.into(), body.len()),
                        "this quoted name",
                    )
                    .with_help(
                        "names may not hold newlines, tabs, escape sequences or bidirectional \
                         overrides: they would be unreadable or misleading in every plan",
                    ),
                );
            }
            PieceKind::Code => {
                let stray = body
                    .char_indices()
                    .find(|&(_, c)| is_unsafe_char(c) && !matches!(c, '\n' | '\t' | '\r'));
                if let Some((at, c)) = stray {
                    problems.push(
                        Problem::new(
                            "kschema::sql::unsafe_character",
                            format!(
                                "{} holds the invisible or control character {} outside any string",
                                file.name,
                                printable(&c.to_string())
                            ),
                        )
                        .at(
                            file,
                            SourceSpan::new((piece.start + at).into(), c.len_utf8()),
                            "here",
                        )
                        .with_help("remove it: it is not SQL, and no plan could show it"),
                    );
                }
            }
            _ => {}
        }
    }
    problems
}

/// The byte offset of the first string, quoted name, dollar-quoted body or
/// block comment that never closes.
pub(super) fn unterminated_opening(text: &str) -> Option<usize> {
    crate::escape::sql_pieces(text)
        .into_iter()
        .find(|piece| !piece.closed)
        .map(|piece| piece.start)
}

pub(crate) fn parse_problem(file: &Arc<SourceFile>, error: &ParserError) -> Problem {
    let message = match error {
        ParserError::ParserError(m) | ParserError::TokenizerError(m) => m.clone(),
        ParserError::RecursionLimitExceeded => "statement nests too deeply".to_string(),
    };
    let (text, location) = match message.rsplit_once(" at Line: ") {
        Some((text, position)) => {
            let mut numbers = position
                .split(", Column: ")
                .map(|n| n.trim().parse::<u64>().ok());
            match (numbers.next().flatten(), numbers.next().flatten()) {
                (Some(line), Some(column)) => (text.to_string(), Some((line, column))),
                _ => (message.clone(), None),
            }
        }
        None => (message.clone(), None),
    };
    let unterminated = text.starts_with("Unterminated");
    let span = match (location, unterminated) {
        // The tokenizer reports where it gave up (the end of the file);
        // the reader needs where the string or name began.
        (_, true) => match unterminated_opening(file.text()) {
            Some(offset) => SourceSpan::new(offset.into(), 1),
            None => file.span_at_end(),
        },
        (Some((line, column)), false) => file.span_at(line, column, 1),
        (None, false) => file.span_at_end(),
    };
    let found_end = text.ends_with("found: EOF");
    let label = if unterminated {
        format!("{}: it opens here and never closes", text.to_lowercase())
    } else if found_end {
        "the file ends here".to_string()
    } else {
        text.replace("Expected: ", "expected ")
    };
    Problem::new(
        "kschema::sql::parse",
        format!("{} is not valid SQL", file.name),
    )
    .at(file, span, label)
    .with_help(if unterminated {
        "close the quote (`'`, `\"` or the same `$tag$` that opened it)"
    } else if found_end {
        "a statement is not finished: check for a missing `)` or `;`"
    } else {
        "fix the statement so PostgreSQL would accept it"
    })
}
