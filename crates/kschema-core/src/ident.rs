//! PostgreSQL identifiers: the one place that folds, compares and quotes names.
//!
//! An [`Ident`] holds a name exactly as PostgreSQL stores it in the catalog:
//! unquoted names from SQL files are folded to lower case, quoted ones are kept.
//! On output a name is quoted only where PostgreSQL needs it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest identifier PostgreSQL keeps (NAMEDATALEN - 1 bytes).
pub const MAX_IDENT_BYTES: usize = 63;

/// A catalog name, already folded. Compare and hash it as a plain string.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ident(String);

impl Ident {
    /// A name exactly as stored in the catalog (no folding).
    pub fn new(name: impl Into<String>) -> Self {
        Ident(name.into())
    }

    /// A name as written in SQL: unquoted names fold to lower case (ASCII only,
    /// as PostgreSQL does), quoted names are kept verbatim.
    pub fn from_sql(value: &str, quoted: bool) -> Self {
        if quoted {
            Ident(value.to_string())
        } else {
            Ident(value.to_ascii_lowercase())
        }
    }

    pub fn from_sqlparser(ident: &sqlparser::ast::Ident) -> Self {
        Ident::from_sql(&ident.value, ident.quote_style.is_some())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as SQL text, quoted only where PostgreSQL needs it.
    pub fn quoted(&self) -> Quoted<'_> {
        Quoted(&self.0)
    }

    /// The name quoted as `quote_ident()` would, never in the `U&"…"` form:
    /// for text PostgreSQL parses as a name at run time (`'s.t'::regclass`),
    /// where Unicode escapes are not understood. The literal around it is
    /// escaped for display by [`crate::escape::printable_sql`].
    pub fn quoted_raw(&self) -> String {
        quote_ident(&self.0).into_owned()
    }
}

impl fmt::Debug for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// Shown as the bare name (for messages); use [`Ident::quoted`] in SQL. A
/// name holding a newline, an escape sequence or another unsafe character is
/// shown in its Unicode-escaped SQL form instead, so no message, comment or
/// terminal ever receives it raw.
impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if crate::escape::has_unsafe_chars(&self.0) {
            f.write_str(&crate::escape::unicode_identifier(&self.0))
        } else {
            f.write_str(&self.0)
        }
    }
}

impl From<&str> for Ident {
    fn from(name: &str) -> Self {
        Ident::new(name)
    }
}

/// Displays a name the way `quote_ident()` would.
pub struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if crate::escape::has_unsafe_chars(self.0) {
            f.write_str(&crate::escape::unicode_identifier(self.0))
        } else {
            f.write_str(&quote_ident(self.0))
        }
    }
}

/// The name as `quote_ident()` writes it.
fn quote_ident(name: &str) -> std::borrow::Cow<'_, str> {
    if needs_quotes(name) {
        format!("\"{}\"", name.replace('"', "\"\"")).into()
    } else {
        name.into()
    }
}

/// Whether PostgreSQL's `quote_ident` would quote this name: anything but a
/// lower-case identifier that is not a reserved or otherwise special keyword.
pub fn needs_quotes(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return true;
    };
    if !(first.is_ascii_lowercase() || first == '_') {
        return true;
    }
    if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$') {
        return true;
    }
    NON_UNRESERVED_KEYWORDS.binary_search(&name).is_ok()
}

/// Quotes a string as an SQL literal (`'it''s'`), as `quote_literal()` does
/// for strings without backslashes. Backslashes use the `E''` form.
pub fn quote_literal(value: &str) -> String {
    if value.contains('\\') {
        format!("E'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
    } else {
        format!("'{}'", value.replace('\'', "''"))
    }
}

/// Truncates a name to 63 bytes on a character boundary, as PostgreSQL does
/// with every identifier it is given.
pub fn truncate_ident(name: &str) -> &str {
    clip_to_bytes(name, MAX_IDENT_BYTES)
}

/// `name` with `suffix` after it, `name` clipped so the whole fits in 63
/// bytes: a working name beside an object's own (`t_kschema_old`).
pub fn with_suffix(name: &str, suffix: &str) -> String {
    let room = MAX_IDENT_BYTES.saturating_sub(suffix.len());
    format!("{}{suffix}", clip_to_bytes(name, room))
}

/// The longest prefix of `s` that fits in `max` bytes without splitting a
/// character (PostgreSQL's `pg_mbcliplen`).
pub(crate) fn clip_to_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// PostgreSQL 15's keywords whose category is not "unreserved"
/// (`SELECT word FROM pg_get_keywords() WHERE catcode <> 'U'`): the ones
/// `quote_ident` quotes. Sorted, for binary search.
const NON_UNRESERVED_KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_table_is_sorted_for_binary_search() {
        assert!(NON_UNRESERVED_KEYWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn quotes_only_where_postgres_needs_it() {
        assert_eq!(Ident::new("users").quoted().to_string(), "users");
        assert_eq!(Ident::new("read").quoted().to_string(), "read");
        assert_eq!(Ident::new("user").quoted().to_string(), "\"user\"");
        assert_eq!(Ident::new("Users").quoted().to_string(), "\"Users\"");
        assert_eq!(Ident::new("a\"b").quoted().to_string(), "\"a\"\"b\"");
        assert_eq!(Ident::new("9lives").quoted().to_string(), "\"9lives\"");
        assert_eq!(Ident::new("").quoted().to_string(), "\"\"");
    }

    #[test]
    fn unquoted_names_fold_to_lower_case() {
        assert_eq!(Ident::from_sql("Users", false).as_str(), "users");
        assert_eq!(Ident::from_sql("Users", true).as_str(), "Users");
    }

    #[test]
    fn truncation_respects_character_boundaries() {
        let long = "é".repeat(40); // 80 bytes
        let cut = truncate_ident(&long);
        assert_eq!(cut.len(), 62);
        assert_eq!(truncate_ident("short"), "short");
    }

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b"), "E'a\\\\b'");
    }
}
