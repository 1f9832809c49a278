//! Leaving a schema's own name out of SQL text: PostgreSQL qualifies what
//! is not on the search path (`org_x.set_updated_at()`), and a tenant dump
//! qualifies everything with its schema; without the qualifier, every
//! tenant's definition is the same text, and the template's too.
//!
//! Only real qualifiers go: a name inside a string literal, a dollar-quoted
//! body or a comment is text, and stays.

/// `text` with every `schema.` qualifier in its code removed (the name
/// unquoted or double-quoted, as PostgreSQL writes it).
pub fn strip_qualifier(text: &str, schema: &str) -> String {
    // Most texts never name it (an unquoted name in any case folds to
    // lower case, which the schema's name then is).
    if !text.contains(schema) && !text.to_lowercase().contains(schema) {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    // Whether the previous token was a `.`: `a.org_x.b` keeps its middle.
    let mut after_dot = false;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\'' => {
                let end = skip_string(bytes, i, i > 0 && matches!(bytes[i - 1], b'E' | b'e'));
                // `'org_x.counter'::regclass` names a relation: its
                // qualifier is one too.
                if text[end..].starts_with("::regclass") {
                    let inner = &text[i + 1..end.saturating_sub(1).max(i + 1)];
                    let (name_end, name) = identifier(inner, 0);
                    if !inner.is_empty()
                        && (inner.as_bytes()[0] == b'"'
                            || inner.as_bytes()[0].is_ascii_alphabetic()
                            || inner.as_bytes()[0] == b'_')
                        && name == schema
                        && inner.as_bytes().get(name_end) == Some(&b'.')
                    {
                        out.push_str(&text[copied..=i]);
                        copied = i + 1 + name_end + 1;
                    }
                }
                i = end;
                after_dot = false;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
            }
            b'$' => match dollar_tag(&text[i..]) {
                Some(tag) => {
                    let body = i + tag.len();
                    i = text[body..]
                        .find(tag)
                        .map_or(bytes.len(), |n| body + n + tag.len());
                    after_dot = false;
                }
                None => i += 1,
            },
            b'"' | b'a'..=b'z' | b'A'..=b'Z' | b'_' | 0x80.. => {
                let (end, name) = identifier(text, i);
                let qualifies = !after_dot
                    && name == schema
                    && bytes.get(end) == Some(&b'.')
                    && bytes
                        .get(end + 1)
                        .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, b'_' | b'"'));
                if qualifies {
                    out.push_str(&text[copied..i]);
                    copied = end + 1;
                    i = end + 1;
                } else {
                    i = end;
                }
                after_dot = false;
            }
            b'.' => {
                after_dot = true;
                i += 1;
            }
            _ => {
                if !c.is_ascii_whitespace() {
                    after_dot = false;
                }
                i += 1;
            }
        }
    }
    out.push_str(&text[copied.min(text.len())..]);
    out
}

/// The end of the string literal starting at `start` (`''` doubles a
/// quote; in an `E''` string a backslash escapes the next character).
fn skip_string(bytes: &[u8], start: usize, escapes: bool) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if escapes => i += 2,
            b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b'\'' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// `$tag$` or `$$` at the start of `text` (not `$1`).
fn dollar_tag(text: &str) -> Option<&str> {
    let rest = &text[1..];
    let end = rest.find('$')?;
    let tag = &rest[..end];
    let valid = tag
        .chars()
        .next()
        .is_none_or(|c| c.is_alphabetic() || c == '_')
        && tag.chars().all(|c| c.is_alphanumeric() || c == '_');
    valid.then(|| &text[..end + 2])
}

/// The identifier at `start` and its end: an unquoted one folded to lower
/// case, a quoted one with `""` undoubled.
fn identifier(text: &str, start: usize) -> (usize, String) {
    let bytes = text.as_bytes();
    if bytes[start] == b'"' {
        let mut name = String::new();
        let mut i = start + 1;
        while i < bytes.len() {
            if bytes[i] == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    name.push('"');
                    i += 2;
                    continue;
                }
                return (i + 1, name);
            }
            let ch = text[i..].chars().next().unwrap_or('"');
            name.push(ch);
            i += ch.len_utf8();
        }
        return (bytes.len(), name);
    }
    let end = text[start..]
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '$'))
        .map_or(text.len(), |(n, _)| start + n);
    (end, text[start..end].to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::strip_qualifier;

    #[test]
    fn qualifiers_go_and_text_stays() {
        let cases = [
            (
                "CREATE TRIGGER t BEFORE UPDATE ON org_a.users FOR EACH ROW EXECUTE FUNCTION org_a.touch()",
                "CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch()",
            ),
            ("SELECT 'org_a.x', org_a.y", "SELECT 'org_a.x', y"),
            ("SELECT E'it\\'s org_a.x', org_a.y", "SELECT E'it\\'s org_a.x', y"),
            ("AS $f$ org_a.t $f$ -- org_a.c", "AS $f$ org_a.t $f$ -- org_a.c"),
            ("\"org_a\".\"Users\", public.org_a.z", "\"Users\", public.org_a.z"),
            ("ORG_A.t, org_ab.t, $1, a$b", "t, org_ab.t, $1, a$b"),
            ("org_a.", "org_a."),
            (
                "nextval('org_a.counter'::regclass), 'org_a.x'::text",
                "nextval('counter'::regclass), 'org_a.x'::text",
            ),
        ];
        for (text, stripped) in cases {
            assert_eq!(strip_qualifier(text, "org_a"), stripped, "{text}");
        }
        assert_eq!(
            strip_qualifier("\"Org A\".t, org_a.t", "Org A"),
            "t, org_a.t"
        );
    }
}
