//! A column's type, in the parts of PostgreSQL's own spelling of it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A column type as PostgreSQL's `format_type()` spells it, in its parts:
/// the type's name, its modifiers and its array dimensions.
/// `timestamp(3) with time zone[]` is `timestamp with time zone`, `["3"]`,
/// one dimension. Read with [`ColumnType::parse`], written back by
/// `Display` to the same text (PostgreSQL's spelling is canonical, so text
/// equality of both sides is what the catalog means by the same type).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ColumnType {
    /// `character varying`, `timestamp with time zone`, `public.mood`,
    /// `"Weird"`: schema-qualified when `format_type` qualifies it.
    name: String,
    /// What stood between the parentheses, one entry per comma:
    /// `["64"]`, `["10", "2"]`, `["Point", "4326"]`.
    modifiers: Vec<String>,
    /// `integer[]` is 1, `text[][]` is 2 (PostgreSQL does not enforce
    /// dimensions, but `format_type` writes what was declared).
    array_dims: usize,
}

impl ColumnType {
    /// Splits `format_type` text into its parts. Any text is some type
    /// (an unknown spelling stays whole in the name), so this cannot fail;
    /// parentheses and brackets inside a quoted name are part of the name.
    pub fn parse(text: &str) -> ColumnType {
        let text = text.trim();
        let mut name = String::with_capacity(text.len());
        let mut modifiers = None;
        let mut array_dims = 0;
        let mut chars = text.char_indices().peekable();
        let mut quoted = false;
        while let Some((at, c)) = chars.next() {
            match c {
                '"' => {
                    quoted = !quoted;
                    name.push(c);
                }
                _ if quoted => name.push(c),
                '(' if modifiers.is_none() && array_dims == 0 => {
                    let Some(close) = text[at..].find(')').map(|p| at + p) else {
                        // Unbalanced: not a spelling PostgreSQL writes; keep it whole.
                        return ColumnType::unparsed(text);
                    };
                    modifiers = Some(
                        text[at + 1..close]
                            .split(',')
                            .map(|m| m.trim().to_string())
                            .collect::<Vec<_>>(),
                    );
                    while chars.peek().is_some_and(|&(i, _)| i <= close) {
                        chars.next();
                    }
                }
                '[' if text[at..].starts_with("[]") => {
                    array_dims += 1;
                    chars.next();
                }
                _ if array_dims > 0 => return ColumnType::unparsed(text),
                _ => name.push(c),
            }
        }
        ColumnType {
            // `timestamp(3) without time zone`: the name is the words around
            // the modifiers, one space between them.
            name: name.split_whitespace().collect::<Vec<_>>().join(" "),
            modifiers: modifiers.unwrap_or_default(),
            array_dims,
        }
    }

    fn unparsed(text: &str) -> ColumnType {
        ColumnType {
            name: text.to_string(),
            modifiers: Vec::new(),
            array_dims: 0,
        }
    }

    /// The type's name, without modifiers or array brackets.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn modifiers(&self) -> &[String] {
        &self.modifiers
    }

    pub fn is_array(&self) -> bool {
        self.array_dims > 0
    }

    /// The type without modifiers: `character varying(64)` → `character varying`,
    /// `numeric(10,2)[]` → `numeric[]`.
    pub fn base(&self) -> String {
        format!("{}{}", self.name, "[]".repeat(self.array_dims))
    }

    /// An array's element type (`integer[]` → `integer`); the type itself
    /// otherwise.
    pub fn element(&self) -> ColumnType {
        ColumnType {
            array_dims: 0,
            ..self.clone()
        }
    }

    /// This type's array: `integer` → `integer[]`.
    pub fn array(&self) -> ColumnType {
        ColumnType {
            array_dims: self.array_dims + 1,
            ..self.clone()
        }
    }

    /// The first modifier as a number: a `character varying(64)`'s length,
    /// a `numeric(10,2)`'s precision.
    pub fn length(&self) -> Option<u64> {
        self.modifiers.first()?.parse().ok()
    }

    /// A `numeric`'s precision and scale (`numeric(10)` has scale 0).
    pub fn precision_scale(&self) -> Option<(u64, u64)> {
        let precision = self.length()?;
        let scale = match self.modifiers.get(1) {
            Some(scale) => scale.parse().ok()?,
            None => 0,
        };
        Some((precision, scale))
    }

    /// `smallint`, `integer` or `bigint` (not an array of them).
    pub fn is_integer(&self) -> bool {
        self.array_dims == 0 && matches!(self.name.as_str(), "smallint" | "integer" | "bigint")
    }

    /// Text-like types between which PostgreSQL casts implicitly and without
    /// changing the value (not arrays of them).
    pub fn is_string(&self) -> bool {
        self.array_dims == 0
            && matches!(
                self.name.as_str(),
                "text" | "character varying" | "character" | "name" | "citext"
            )
    }

    /// Whether this is `named` (its spelling in `format_type`, e.g. an
    /// enum's qualified name) or an array of it.
    pub fn is_or_array_of(&self, named: &str) -> bool {
        self.modifiers.is_empty() && self.array_dims <= 1 && self.name == named
    }
}

impl fmt::Display for ColumnType {
    /// PostgreSQL's spelling: modifiers after the name, except for the time
    /// types, whose `with(out) time zone` follows them
    /// (`timestamp(3) without time zone`, as `format_type` writes it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let modifiers = if self.modifiers.is_empty() {
            String::new()
        } else {
            format!("({})", self.modifiers.join(","))
        };
        match self.name.split_once(' ') {
            Some((head @ ("timestamp" | "time"), zone)) if !modifiers.is_empty() => {
                write!(f, "{head}{modifiers} {zone}")?
            }
            _ => write!(f, "{}{modifiers}", self.name)?,
        }
        f.write_str(&"[]".repeat(self.array_dims))
    }
}

impl fmt::Debug for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

impl From<&str> for ColumnType {
    fn from(text: &str) -> ColumnType {
        ColumnType::parse(text)
    }
}

/// Snapshots and saved plans keep the type as PostgreSQL's text.
impl Serialize for ColumnType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ColumnType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|text| ColumnType::parse(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_split_into_parts_and_print_back_as_postgresql_spells_them() {
        let cases: [(&str, &str, &[&str], bool); 12] = [
            ("integer", "integer", &[], false),
            ("character varying(64)", "character varying", &["64"], false),
            ("numeric(10,2)[]", "numeric", &["10", "2"], true),
            (
                "timestamp(3) without time zone",
                "timestamp without time zone",
                &["3"],
                false,
            ),
            (
                "time(6) with time zone[]",
                "time with time zone",
                &["6"],
                true,
            ),
            (
                "interval day to second(3)",
                "interval day to second",
                &["3"],
                false,
            ),
            ("bit varying(5)", "bit varying", &["5"], false),
            (
                "geometry(Point,4326)",
                "geometry",
                &["Point", "4326"],
                false,
            ),
            ("public.mood[]", "public.mood", &[], true),
            (r#""we(ird[]"[]"#, r#""we(ird[]""#, &[], true),
            (r#""char""#, r#""char""#, &[], false),
            ("text[][]", "text", &[], true),
        ];
        for (text, name, modifiers, array) in cases {
            let t = ColumnType::parse(text);
            assert_eq!(
                (t.name(), t.modifiers(), t.is_array()),
                (
                    name,
                    &modifiers.iter().map(|m| m.to_string()).collect::<Vec<_>>()[..],
                    array
                ),
                "{text}"
            );
            assert_eq!(t.to_string(), text);
        }
        let numeric = ColumnType::parse("numeric(12,2)");
        assert_eq!(numeric.precision_scale(), Some((12, 2)));
        assert_eq!(
            ColumnType::parse("numeric(12)").precision_scale(),
            Some((12, 0))
        );
        assert_eq!(
            ColumnType::parse("integer[]").element().to_string(),
            "integer"
        );
        assert!(ColumnType::parse("public.mood[]").is_or_array_of("public.mood"));
        assert!(!ColumnType::parse("public.mood_x").is_or_array_of("public.mood"));
        // Not a spelling PostgreSQL writes: kept whole rather than guessed at.
        assert_eq!(ColumnType::parse("weird(").to_string(), "weird(");
        assert_eq!(ColumnType::parse("int[]x").name(), "int[]x");
    }

    #[test]
    fn type_base_drops_modifiers() {
        assert_eq!(
            ColumnType::parse("character varying(64)").base(),
            "character varying"
        );
        assert_eq!(
            ColumnType::parse("timestamp(3) without time zone").base(),
            "timestamp without time zone"
        );
        assert_eq!(ColumnType::parse("numeric(10,2)[]").base(), "numeric[]");
        assert!(ColumnType::parse("character varying(64)").is_string());
        assert!(!ColumnType::parse("integer").is_string());
    }
}
