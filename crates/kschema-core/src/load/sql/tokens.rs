//! Token-level fixes before a file is parsed: forms PostgreSQL takes
//! that the parser does not, given to it in a form it reads, or taken out
//! to be refused with a diagnostic of their own.

use sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::load::dump::is_word;

/// `COMMENT ON … IS $$text$$`: PostgreSQL takes any string constant, the
/// parser only a quoted one — the same text, given to it as one.
pub(super) fn comment_text_as_literal(mut tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let mut in_comment = false;
    let mut after_is = false;
    let mut first = true;
    for token in tokens.iter_mut() {
        match &token.token {
            Token::Whitespace(_) => continue,
            Token::SemiColon => {
                (in_comment, after_is, first) = (false, false, true);
                continue;
            }
            Token::DollarQuotedString(text) if in_comment && after_is => {
                token.token = Token::SingleQuotedString(text.value.clone());
            }
            other => {
                if first {
                    in_comment = is_word(other, "COMMENT");
                }
                after_is = in_comment && is_word(other, "IS");
            }
        }
        first = false;
    }
    tokens
}

/// What a table constraint's `WITH (…)` becomes for the parser: an index
/// option it reads (`COMMENT '<this>fillfactor=70;…'`), turned back into
/// storage parameters by the loader.
pub(super) const KEY_OPTIONS_MARKER: &str = "kschema:with:";

/// A key constraint's index parameters. `PRIMARY KEY (…) WITH (…)` and
/// `UNIQUE (…) WITH (…)` as table constraints are handed to the parser as
/// an index option it reads (see [`KEY_OPTIONS_MARKER`]); what it cannot
/// carry — a column constraint's `WITH (…)`, an exclusion constraint's,
/// `USING INDEX TABLESPACE t` — is taken out, with where each was: (line,
/// column) of its first token and just past its last.
#[allow(clippy::type_complexity)]
pub(super) fn without_key_index_parameters(
    tokens: Vec<TokenWithSpan>,
) -> (Vec<TokenWithSpan>, Vec<((u64, u64), (u64, u64))>) {
    let code: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .collect();
    let at = |k: usize| code.get(k).map(|&i| &tokens[i].token);
    // Past a parenthesized list starting at code position `k`.
    let past_list = |k: usize| -> Option<usize> {
        if !matches!(at(k), Some(Token::LParen)) {
            return None;
        }
        let mut depth = 0;
        for j in k..code.len() {
            match at(j) {
                Some(Token::LParen) => depth += 1,
                Some(Token::RParen) => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(j + 1);
                    }
                }
                Some(Token::SemiColon) | None => return None,
                _ => {}
            }
        }
        None
    };
    // Past `USING INDEX TABLESPACE name` starting at code position `k`.
    let past_tablespace = |k: usize| -> Option<usize> {
        (at(k).is_some_and(|t| is_word(t, "USING"))
            && at(k + 1).is_some_and(|t| is_word(t, "INDEX"))
            && at(k + 2).is_some_and(|t| is_word(t, "TABLESPACE")))
        .then(|| (k + 4).min(code.len()))
    };
    // `name = value, …` between code positions `from` and `to` (the
    // parentheses left out): `name=value;…`, or `None` if it is not that.
    let options_text = |from: usize, to: usize| -> Option<String> {
        let mut pairs = Vec::new();
        let mut k = from;
        while k < to {
            let Some(Token::Word(name)) = at(k) else {
                return None;
            };
            if !matches!(at(k + 1), Some(Token::Eq)) {
                return None;
            }
            let value = match at(k + 2)? {
                Token::Number(n, _) => n.clone(),
                Token::Word(w) => w.value.clone(),
                Token::SingleQuotedString(s) => s.clone(),
                _ => return None,
            };
            pairs.push(format!("{}={value}", name.value.to_ascii_lowercase()));
            k += 3;
            match at(k) {
                Some(Token::Comma) if k + 1 < to => k += 1,
                _ if k == to => {}
                _ => return None,
            }
        }
        (!pairs.is_empty()).then(|| pairs.join(";"))
    };
    // (first, past last code position, what replaces them)
    let mut edits: Vec<(usize, usize, Option<String>)> = Vec::new();
    let mut k = 0;
    while k < code.len() {
        // An exclusion constraint's index parameters are not managed:
        // taken out to be refused (a window frame's `EXCLUDE CURRENT ROW`
        // has no list after it, and is left alone).
        if at(k).is_some_and(|t| is_word(t, "EXCLUDE")) {
            let mut next = k + 1;
            if at(next).is_some_and(|t| is_word(t, "USING")) {
                next += 2;
            }
            if let Some(mut after) = past_list(next) {
                if at(after).is_some_and(|t| is_word(t, "INCLUDE")) {
                    after = past_list(after + 1).unwrap_or(after);
                }
                if at(after).is_some_and(|t| is_word(t, "WITH")) {
                    if let Some(end) = past_list(after + 1) {
                        edits.push((after, end, None));
                        after = end;
                    }
                }
                if let Some(end) = past_tablespace(after) {
                    edits.push((after, end, None));
                    after = end;
                }
                k = after;
                continue;
            }
        }
        let key = match at(k) {
            Some(t) if is_word(t, "PRIMARY") && at(k + 1).is_some_and(|t| is_word(t, "KEY")) => {
                Some(k + 2)
            }
            Some(t) if is_word(t, "UNIQUE") => Some(k + 1),
            _ => None,
        };
        let Some(mut next) = key else {
            k += 1;
            continue;
        };
        if at(next).is_some_and(|t| is_word(t, "NULLS")) {
            next += if at(next + 1).is_some_and(|t| is_word(t, "NOT")) {
                3
            } else {
                2
            };
        }
        // A table constraint names its columns; a column constraint does not.
        let table_constraint = match past_list(next) {
            Some(after) => {
                next = after;
                true
            }
            None => false,
        };
        if at(next).is_some_and(|t| is_word(t, "INCLUDE")) {
            if let Some(after) = past_list(next + 1) {
                next = after;
            }
        }
        if at(next).is_some_and(|t| is_word(t, "WITH")) {
            if let Some(after) = past_list(next + 1) {
                let carried = table_constraint
                    .then(|| options_text(next + 2, after - 1))
                    .flatten();
                edits.push((next, after, carried));
                next = after;
            }
        }
        if let Some(end) = past_tablespace(next) {
            edits.push((next, end, None));
            next = end;
        }
        k = next.max(k + 1);
    }
    let mut places = Vec::new();
    let mut replaced: Vec<Option<Vec<Token>>> = vec![None; tokens.len()];
    let mut drop = vec![false; tokens.len()];
    for (from, to, carried) in edits {
        let (first, last) = (code[from], code[to - 1]);
        for flag in drop.iter_mut().take(last + 1).skip(first) {
            *flag = true;
        }
        match carried {
            Some(text) => {
                replaced[first] = Some(vec![
                    Token::make_keyword("COMMENT"),
                    Token::Whitespace(sqlparser::tokenizer::Whitespace::Space),
                    Token::SingleQuotedString(format!("{KEY_OPTIONS_MARKER}{text}")),
                ]);
            }
            None => {
                let span_start = &tokens[first].span.start;
                let span_end = &tokens[last].span.end;
                places.push((
                    (span_start.line, span_start.column),
                    (span_end.line, span_end.column),
                ));
            }
        }
    }
    let mut kept = Vec::with_capacity(tokens.len());
    for ((token, dropped), replacement) in tokens.into_iter().zip(drop).zip(replaced) {
        match replacement {
            Some(new) => kept.extend(new.into_iter().map(|t| TokenWithSpan {
                token: t,
                span: token.span,
            })),
            None if dropped => {}
            None => kept.push(token),
        }
    }
    (kept, places)
}
