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
/// `U&"…"`). Newlines and tabs stay: they are harmless inside literals and
/// common in bodies. Dollar-quoted bodies and comments are left as they are
/// (PostgreSQL has no escapes there); [`has_unsafe_chars`] finds what is left.
pub fn printable_sql(statement: &str) -> Cow<'_, str> {
    let needs = statement
        .chars()
        .any(|c| is_unsafe_char(c) && c != '\n' && c != '\t');
    if !needs {
        return Cow::Borrowed(statement);
    }
    let chars: Vec<char> = statement.chars().collect();
    let mut out = String::with_capacity(statement.len() + 16);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev_is_word = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        match c {
            '\'' | '"' if !prev_is_word => {
                let (end, closed) = quoted_end(&chars, i, c);
                let body = &chars[i + 1..if closed { end - 1 } else { end }];
                if closed
                    && body
                        .iter()
                        .any(|&c| is_unsafe_char(c) && c != '\n' && c != '\t')
                {
                    out.push_str("U&");
                    out.push(c);
                    for &b in body {
                        match b {
                            '\\' => out.push_str("\\\\"),
                            b if is_unsafe_char(b) && b != '\n' && b != '\t' => {
                                push_unicode_escape(&mut out, b)
                            }
                            b => out.push(b),
                        }
                    }
                    out.push(c);
                } else {
                    out.extend(&chars[i..end]);
                }
                i = end;
            }
            '\'' if is_escape_string_start(&chars, i) => {
                // E'…': backslash escapes say the same thing as the raw character.
                let end = escape_string_end(&chars, i);
                for &b in &chars[i..end] {
                    if is_unsafe_char(b) && b != '\n' && b != '\t' {
                        let code = b as u32;
                        if code <= 0xffff {
                            let _ = write!(out, "\\u{code:04X}");
                        } else {
                            let _ = write!(out, "\\U{code:08X}");
                        }
                    } else {
                        out.push(b);
                    }
                }
                i = end;
            }
            '\'' | '"' => {
                // Another prefixed literal (U&'', B'', N'') or a name that ends
                // in a quote: copied as is.
                let (end, _) = quoted_end(&chars, i, c);
                out.extend(&chars[i..end]);
                i = end;
            }
            '$' if !prev_is_word => match dollar_tag(&chars, i) {
                Some(tag_len) => {
                    let end = dollar_end(&chars, i, tag_len);
                    out.extend(&chars[i..end]);
                    i = end;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            },
            '-' if chars.get(i + 1) == Some(&'-') => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == '\n')
                    .map_or(chars.len(), |p| i + p);
                out.extend(&chars[i..end]);
                i = end;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// Index just past the closing quote of the literal opening at `start`
/// (doubled quotes stay inside), and whether it closes at all.
fn quoted_end(chars: &[char], start: usize, quote: char) -> (usize, bool) {
    let mut i = start + 1;
    while i < chars.len() {
        if chars[i] == quote {
            if chars.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return (i + 1, true);
        }
        i += 1;
    }
    (chars.len(), false)
}

/// Whether the quote at `i` opens an `E'…'` string.
fn is_escape_string_start(chars: &[char], i: usize) -> bool {
    i >= 1
        && matches!(chars[i - 1], 'E' | 'e')
        && (i < 2 || !(chars[i - 2].is_alphanumeric() || chars[i - 2] == '_'))
}

/// Index just past the end of the `E'…'` string whose quote is at `start`.
fn escape_string_end(chars: &[char], start: usize) -> usize {
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '\'' if chars.get(i + 1) == Some(&'\'') => i += 2,
            '\'' => return i + 1,
            _ => i += 1,
        }
    }
    chars.len()
}

/// The length of the `$tag$` opening at `start`, if it is one.
fn dollar_tag(chars: &[char], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '$' => return Some(i + 1 - start),
            c if c.is_alphanumeric() || c == '_' => i += 1,
            _ => return None,
        }
    }
    None
}

fn dollar_end(chars: &[char], start: usize, tag_len: usize) -> usize {
    let tag = &chars[start..start + tag_len];
    let mut i = start + tag_len;
    while i + tag_len <= chars.len() {
        if &chars[i..i + tag_len] == tag {
            return i + tag_len;
        }
        i += 1;
    }
    chars.len()
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
