//! Text from files and databases made safe for the output it lands in.
//!
//! Names and expressions come from people and from live catalogs, and any of
//! them may hold a newline (ending an SQL `--` comment, so the rest becomes a
//! statement), an escape sequence (repainting a terminal) or HTML (forging a
//! pull-request comment). Every renderer passes what it did not write itself
//! through one of these functions.

use std::borrow::Cow;
use std::fmt::Write;

/// Characters no output shows raw: C0 and C1 controls, DEL, and the Unicode
/// line separators and bidirectional overrides that reorder what a reader
/// sees (the "trojan source" characters).
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
        )
}

pub fn has_unsafe_chars(text: &str) -> bool {
    text.chars().any(is_unsafe_char)
}

/// One line of plain text: unsafe characters written as `\n`, `\t`, `\r` or
/// `\u{1b}`, so a message stays on its line and a terminal shows it as is.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !has_unsafe_chars(text) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe_char(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Whole output for a terminal or a log, as the last line of defence: lines
/// and tabs stay, color codes (`ESC [ digits m`) stay, every other unsafe
/// character is written as in [`printable`].
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    let is_color_at = |rest: &str| {
        let tail = rest.strip_prefix("\x1b[")?;
        let digits = tail
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b';')
            .count();
        (tail.as_bytes().get(digits) == Some(&b'm')).then_some(2 + digits + 1)
    };
    let needs = text.char_indices().any(|(i, c)| {
        is_unsafe_char(c)
            && c != '\n'
            && c != '\t'
            && (c != '\x1b' || is_color_at(&text[i..]).is_none())
    });
    if !needs {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        if c == '\x1b' {
            if let Some(len) = is_color_at(&text[i..]) {
                out.push_str(&text[i..i + len]);
                i += len;
                continue;
            }
        }
        if is_unsafe_char(c) && c != '\n' && c != '\t' {
            out.push_str(&printable(&c.to_string()));
        } else {
            out.push(c);
        }
        i += c.len_utf8();
    }
    Cow::Owned(out)
}

/// A name as PostgreSQL's Unicode-escaped quoted identifier
/// (`U&"junk\000Adrop"`): valid SQL that names exactly the same object, with
/// no unsafe character left in it.
pub fn unicode_identifier(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    out.push_str("U&\"");
    for c in name.chars() {
        match c {
            '"' => out.push_str("\"\""),
            '\\' => out.push_str("\\\\"),
            c if is_unsafe_char(c) => push_unicode_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn push_unicode_escape(out: &mut String, c: char) {
    let code = c as u32;
    if code <= 0xffff {
        let _ = write!(out, "\\{code:04X}");
    } else {
        let _ = write!(out, "\\+{code:06X}");
    }
}

/// An SQL statement as it is shown (SQL script, Markdown, text): the same
/// statement, with string literals and quoted names that hold unsafe
/// characters rewritten in PostgreSQL's Unicode-escape form (`U&'…'`,
/// `U&"…"`), and `E'…'` strings given backslash escapes. Newlines and tabs
/// stay: they are harmless inside literals and common in bodies.
/// Dollar-quoted bodies and comments are left as they are (PostgreSQL has
/// no escapes there); [`has_unsafe_chars`] finds what is left.
pub fn printable_sql(statement: &str) -> Cow<'_, str> {
    let shown_raw = |c: char| !is_unsafe_char(c) || c == '\n' || c == '\t';
    if statement.chars().all(shown_raw) {
        return Cow::Borrowed(statement);
    }
    let mut out = String::with_capacity(statement.len() + 16);
    for piece in sql_pieces(statement) {
        let text = &statement[piece.start..piece.end];
        match piece.kind {
            PieceKind::Quoted {
                quote,
                prefix: Prefix::None,
            } if piece.closed && !text.chars().all(shown_raw) => {
                out.push_str("U&");
                out.push(quote);
                for c in text[1..text.len() - 1].chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        c if !shown_raw(c) => push_unicode_escape(&mut out, c),
                        c => out.push(c),
                    }
                }
                out.push(quote);
            }
            // E'…': backslash escapes say the same thing as the raw character.
            PieceKind::Quoted {
                prefix: Prefix::Escapes,
                ..
            } => {
                for c in text.chars() {
                    if shown_raw(c) {
                        out.push(c);
                    } else if (c as u32) <= 0xffff {
                        let _ = write!(out, "\\u{:04X}", c as u32);
                    } else {
                        let _ = write!(out, "\\U{:08X}", c as u32);
                    }
                }
            }
            // Code, comments, dollar quotes, other prefixed literals
            // (U&'', B'', N''), and a quote that never closes.
            _ => out.push_str(text),
        }
    }
    Cow::Owned(out)
}

/// What comes before a quote: nothing, `E` (backslash escapes), or another
/// prefix (`U&`, `B`, `X`, `N`, or a name that ends in a quote).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prefix {
    None,
    Escapes,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PieceKind {
    Code,
    /// `-- …` (to the end of the line) or `/* … */`.
    Comment,
    /// `'…'` or `"…"`, with what stands before it.
    Quoted {
        quote: char,
        prefix: Prefix,
    },
    /// `$tag$ … $tag$`.
    Dollar,
}

/// A stretch of SQL text: byte range, what it is, and whether it closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    pub start: usize,
    pub end: usize,
    pub kind: PieceKind,
    pub closed: bool,
}

/// SQL text cut into code, comments, quoted strings and names, and
/// dollar-quoted bodies, as PostgreSQL's lexer sees them (well enough to
/// know where each ends). The pieces cover the text in order.
pub fn sql_pieces(text: &str) -> Vec<Piece> {
    let bytes = text.as_bytes();
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut pieces = Vec::new();
    let mut code_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let before = text[..i].chars().next_back();
        let (kind, end, closed) = match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                let end = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                (PieceKind::Comment, end, true)
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => match text[i + 2..].find("*/") {
                Some(n) => (PieceKind::Comment, i + n + 4, true),
                None => (PieceKind::Comment, bytes.len(), false),
            },
            quote @ (b'\'' | b'"') => {
                let prefix = match before {
                    Some('E' | 'e')
                        if quote == b'\''
                            && !text[..i - 1].chars().next_back().is_some_and(is_word) =>
                    {
                        Prefix::Escapes
                    }
                    Some(c) if is_word(c) || c == '&' => Prefix::Other,
                    _ => Prefix::None,
                };
                let mut j = i + 1;
                let mut closed = false;
                while j < bytes.len() {
                    match bytes[j] {
                        b if b == quote && bytes.get(j + 1) == Some(&quote) => j += 2,
                        b if b == quote => {
                            closed = true;
                            j += 1;
                            break;
                        }
                        b'\\' if prefix == Prefix::Escapes => {
                            j += 1 + text[j + 1..].chars().next().map_or(0, char::len_utf8)
                        }
                        _ => j += 1,
                    }
                }
                let kind = PieceKind::Quoted {
                    quote: char::from(quote),
                    prefix,
                };
                (kind, j.min(bytes.len()), closed)
            }
            b'$' if !before.is_some_and(is_word) => {
                let rest = &text[i + 1..];
                let name_len = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
                let is_tag = rest[name_len..].starts_with('$')
                    && !rest.starts_with(|c: char| c.is_ascii_digit());
                if !is_tag {
                    i += 1;
                    continue;
                }
                let tag = &text[i..i + name_len + 2];
                match text[i + tag.len()..].find(tag) {
                    Some(n) => (PieceKind::Dollar, i + 2 * tag.len() + n, true),
                    None => (PieceKind::Dollar, bytes.len(), false),
                }
            }
            // Whole characters: `i` stays on a character boundary.
            _ => {
                i += text[i..].chars().next().map_or(1, char::len_utf8);
                continue;
            }
        };
        if code_start < i {
            pieces.push(Piece {
                start: code_start,
                end: i,
                kind: PieceKind::Code,
                closed: true,
            });
        }
        pieces.push(Piece {
            start: i,
            end,
            kind,
            closed,
        });
        i = end;
        code_start = end;
    }
    if code_start < bytes.len() {
        pieces.push(Piece {
            start: code_start,
            end: bytes.len(),
            kind: PieceKind::Code,
            closed: true,
        });
    }
    pieces
}

/// Plain text inside Markdown (a list item, a heading, a table cell): HTML
/// written as entities, Markdown's punctuation escaped, one line.
pub fn markdown_text(text: &str) -> String {
    let text = printable(text);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '[' | ']' | '|' | '~' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            // `_` inside a word never starts emphasis; escaping it there would
            // only make `org_abc123` harder to read in the raw comment.
            '_' => {
                let word = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric());
                if !(word(i.checked_sub(1).and_then(|p| chars.get(p))) && word(chars.get(i + 1))) {
                    out.push('\\');
                }
                out.push('_');
            }
            c => out.push(c),
        }
    }
    out
}

/// A Markdown code span (`` `name` ``) that no backtick in the text can close.
pub fn markdown_code(text: &str) -> String {
    let text = printable(text);
    let fence = "`".repeat(longest_run(&text, '`') + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// The backtick fence for a fenced code block holding `body`: longer than any
/// run of backticks inside it, so the body cannot close it.
pub fn markdown_fence(body: &str) -> String {
    "`".repeat((longest_run(body, '`') + 1).max(3))
}

/// Text inside an HTML element (`<summary>`, `<code>`).
pub fn html_text(text: &str) -> String {
    let text = printable(text);
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn longest_run(text: &str, ch: char) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == ch {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_keeps_one_line() {
        assert_eq!(printable("plain"), "plain");
        assert_eq!(
            printable("junk\nDROP TABLE x;\r\x1b[31m\u{202e}"),
            "junk\\nDROP TABLE x;\\r\\u{1b}[31m\\u{202e}"
        );
    }

    #[test]
    fn terminal_output_keeps_colors_only() {
        assert_eq!(
            terminal_safe("a\n\x1b[1;31mred\x1b[0m"),
            "a\n\x1b[1;31mred\x1b[0m"
        );
        assert_eq!(
            terminal_safe("\x1b]0;title\x07\x1b[2J\r"),
            "\\u{1b}]0;title\\u{7}\\u{1b}[2J\\r"
        );
    }

    #[test]
    fn unicode_identifiers_escape_controls_and_backslashes() {
        assert_eq!(unicode_identifier("a\nb\"c\\"), r#"U&"a\000Ab""c\\""#);
        assert_eq!(
            unicode_identifier("\u{1F600}\u{85}"),
            "U&\"\u{1F600}\\0085\""
        );
    }

    #[test]
    fn sql_literals_with_controls_become_unicode_escapes() {
        assert_eq!(printable_sql("SELECT 'a\nb'"), "SELECT 'a\nb'");
        assert_eq!(
            printable_sql("DEFAULT 'a\x1bb''c\\'::text"),
            "DEFAULT U&'a\\001Bb''c\\\\'::text"
        );
        // Dollar quotes and comments are left alone; names are rewritten.
        assert_eq!(
            printable_sql("$x$\x1b$x$ -- \x1b\n\"n\x07\""),
            "$x$\x1b$x$ -- \x1b\nU&\"n\\0007\""
        );
        // Escape strings get backslash escapes; other prefixes are kept.
        assert_eq!(printable_sql("E'\\'\x1b'"), "E'\\'\\u001B'");
        assert_eq!(printable_sql("B'\x1b'"), "B'\x1b'");
    }

    #[test]
    fn markdown_text_cannot_open_html_or_links() {
        assert_eq!(
            markdown_text("</details><h1>[x](y) *b* a_b _c_"),
            "&lt;/details&gt;&lt;h1&gt;\\[x\\](y) \\*b\\* a_b \\_c\\_"
        );
        assert_eq!(markdown_code("a`b"), "``a`b``");
        assert_eq!(markdown_code("`a"), "`` `a ``");
        assert_eq!(markdown_fence("x ```` y"), "`````");
        assert_eq!(
            html_text("<b>\"x\"</b>"),
            "&lt;b&gt;&quot;x&quot;&lt;/b&gt;"
        );
    }
}
