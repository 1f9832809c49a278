//! SQL text that names its own schema: a plan computed once for a tenant
//! shape is rendered for each tenant by filling in the schema, so names are
//! never pasted into SQL by string replacement.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::ident::{quote_literal, Ident};
use crate::model::SchemaName;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Part {
    Text(String),
    /// The target schema, quoted as an identifier.
    Schema,
    /// `'schema.name'` as a string literal (for `nextval('…'::regclass)`).
    QualifiedLiteral(Ident),
    /// The search path the desired-state files are written for: the
    /// target schema, then public (public alone for public).
    SearchPath,
}

/// One SQL statement with the target schema left open.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sql(Vec<Part>);

impl Sql {
    pub fn new() -> Self {
        Sql(Vec::new())
    }

    pub fn text(mut self, text: impl AsRef<str>) -> Self {
        match self.0.last_mut() {
            Some(Part::Text(last)) => last.push_str(text.as_ref()),
            _ => self.0.push(Part::Text(text.as_ref().to_string())),
        }
        self
    }

    /// `<schema>.<name>`, both quoted as needed.
    pub fn qualified(mut self, name: &Ident) -> Self {
        self.0.push(Part::Schema);
        self.text(format!(".{}", name.quoted()))
    }

    /// The target schema alone.
    pub fn schema(mut self) -> Self {
        self.0.push(Part::Schema);
        self
    }

    /// `other`'s parts after this one's.
    pub fn append(mut self, other: Sql) -> Self {
        for part in other.0 {
            self = match part {
                Part::Text(text) => self.text(text),
                part => {
                    self.0.push(part);
                    self
                }
            };
        }
        self
    }

    /// `<schema>, public`: what unqualified names in the files mean.
    pub fn search_path(mut self) -> Self {
        self.0.push(Part::SearchPath);
        self
    }

    /// `'<schema>.<name>'` as a string literal.
    pub fn qualified_literal(mut self, name: &Ident) -> Self {
        self.0.push(Part::QualifiedLiteral(name.clone()));
        self
    }

    /// The statement with the own schema left out (`users`, not
    /// `org_a.users`): for desired-state files, which are schema-relative.
    pub fn render_relative(&self) -> String {
        let mut out = String::new();
        let mut after_schema = false;
        for part in &self.0 {
            match part {
                Part::Text(text) if after_schema => {
                    out.push_str(text.strip_prefix('.').unwrap_or(text))
                }
                Part::Text(text) => out.push_str(text),
                Part::Schema => {}
                Part::QualifiedLiteral(name) => out.push_str(&quote_literal(&name.quoted_raw())),
                Part::SearchPath => out.push_str("public"),
            }
            after_schema = matches!(part, Part::Schema);
        }
        out
    }

    /// The statement for one schema (no trailing semicolon).
    pub fn render(&self, schema: &SchemaName) -> String {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Schema => {
                    let _ = write!(out, "{}", schema.ident().quoted());
                }
                Part::QualifiedLiteral(name) => out.push_str(&quote_literal(&format!(
                    "{}.{}",
                    schema.ident().quoted_raw(),
                    name.quoted_raw()
                ))),
                Part::SearchPath if schema.as_str() == "public" => out.push_str("public"),
                Part::SearchPath => {
                    let _ = write!(out, "{}, public", schema.ident().quoted());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_quoted_where_needed() {
        let sql = Sql::new()
            .text("DROP TABLE ")
            .qualified(&Ident::new("user"))
            .text(" -- ")
            .qualified_literal(&Ident::new("s"));
        assert_eq!(
            sql.render(&SchemaName::new("org_a")),
            "DROP TABLE org_a.\"user\" -- 'org_a.s'"
        );
        assert_eq!(
            sql.render(&SchemaName::new("Weird\"Name")),
            "DROP TABLE \"Weird\"\"Name\".\"user\" -- '\"Weird\"\"Name\".s'"
        );
    }
}
