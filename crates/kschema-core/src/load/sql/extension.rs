//! `CREATE EXTENSION`: database-wide, so declared with public.

use sqlparser::ast::CreateExtension;

use super::{statement_span, Annotations, Declared, Loader, Origin};
use crate::diagnostic::Problem;
use crate::ident::Ident;
use crate::load::{LoadedScope, ObjectKey};
use crate::model::Extension;

impl Loader {
    pub(super) fn build_extensions(&mut self, loaded: &mut LoadedScope) {
        for declared in std::mem::take(&mut self.extensions) {
            let Declared { ast, file, place } = declared;
            let span = statement_span(&file, &place);
            if !self.speaks_for_database() {
                self.problems.push(
                    Problem::new(
                        "kschema::sql::tenant_extension",
                        format!("extension {} is declared in {}", ast.name, self.folder()),
                    )
                    .at(&file, span, "this statement")
                    .with_help("an extension belongs to the whole database: declare it in schema/public (tenant schemas use it through the search path, or name its schema)"),
                );
                continue;
            }
            let name = Ident::from_sqlparser(&ast.name);
            if loaded.model.extensions.contains_key(&name) {
                self.problems.push(
                    Problem::new(
                        "kschema::sql::duplicate_extension",
                        format!("extension {name} is declared twice"),
                    )
                    .at(&file, span, "declared again here")
                    .with_help("keep one CREATE EXTENSION"),
                );
                continue;
            }
            loaded.origins.insert(
                ObjectKey::Extension(name.clone()),
                Origin {
                    file: file.clone(),
                    span,
                    annotations: Annotations::default(),
                },
            );
            let CreateExtension {
                schema, version, ..
            } = ast;
            loaded.model.extensions.insert(
                name.clone(),
                Extension {
                    name,
                    schema: schema.as_ref().map(Ident::from_sqlparser),
                    version: version.map(|v| v.value),
                },
            );
        }
    }
}
