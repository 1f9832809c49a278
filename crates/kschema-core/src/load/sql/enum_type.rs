//! `CREATE TYPE name AS ENUM (…)`.

use sqlparser::ast::{ObjectName, UserDefinedTypeRepresentation};

use super::{statement_span, Annotations, Declared, Loader, Origin};
use crate::diagnostic::Problem;
use crate::load::{LoadedScope, ObjectKey};
use crate::model::EnumType;

/// A `CREATE TYPE` statement's parts.
pub(super) struct DeclaredType {
    pub name: ObjectName,
    pub labels: Vec<String>,
}

impl Loader {
    pub(super) fn build_enums(&mut self, loaded: &mut LoadedScope) {
        for declared in std::mem::take(&mut self.enums) {
            let Declared { ast, file, place } = declared;
            let Some((name, span)) = self.object_name(&file, &ast.name, "type") else {
                continue;
            };
            if loaded.model.enums.contains_key(&name) {
                self.problems.push(
                    Problem::new(
                        "kschema::sql::duplicate_type",
                        format!("type {name} is defined twice"),
                    )
                    .at(&file, span, "defined again here")
                    .with_help("keep one definition"),
                );
                continue;
            }
            let mut seen = Vec::new();
            for label in &ast.labels {
                if seen.contains(&label) {
                    self.problems.push(
                        Problem::new(
                            "kschema::sql::duplicate_label",
                            format!("enum {name} lists {label:?} twice"),
                        )
                        .at(&file, statement_span(&file, &place), "this type")
                        .with_help("each label of an enum is listed once"),
                    );
                }
                seen.push(label);
            }
            loaded.origins.insert(
                ObjectKey::Type(name.clone()),
                Origin {
                    file: file.clone(),
                    span: statement_span(&file, &place),
                    annotations: Annotations::default(),
                },
            );
            loaded.model.enums.insert(
                name.clone(),
                EnumType {
                    name,
                    labels: ast.labels,
                },
            );
        }
    }
}

/// The labels of an enum representation; `None` for other kinds of type.
pub(super) fn enum_labels(
    representation: &Option<UserDefinedTypeRepresentation>,
) -> Option<Vec<String>> {
    match representation {
        Some(UserDefinedTypeRepresentation::Enum { labels }) => {
            Some(labels.iter().map(|l| l.value.clone()).collect())
        }
        _ => None,
    }
}
