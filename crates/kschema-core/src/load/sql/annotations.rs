//! `-- kschema:` annotations: allowed hazards, renames, conversions.

use super::*;

impl Loader {
    /// Parses the `-- kschema:` comments among `comments`; a misspelt one is
    /// an error, not silently ignored.
    pub(super) fn annotations(
        &mut self,
        file: &Arc<SourceFile>,
        comments: &[&Comment],
    ) -> Annotations {
        let mut annotations = Annotations::default();
        for comment in comments {
            let Some(directive) = comment.text.strip_prefix("kschema:") else {
                continue;
            };
            let span = file.span_at(
                comment.line,
                comment.column,
                comment.text.chars().count() + 3,
            );
            let (name, argument) = directive
                .split_once(char::is_whitespace)
                .unwrap_or((directive, ""));
            let argument = argument.trim();
            match name {
                "allow-hazard" | "allow-hazards" => {
                    for hazard in argument.split(',').map(str::trim).filter(|h| !h.is_empty()) {
                        match hazard.parse::<HazardKind>() {
                            Ok(kind) => annotations.allow_hazards.push(kind),
                            Err(reason) => self.problems.push(
                                Problem::new("kschema::annotation::hazard", format!("unknown hazard `{hazard}` in an annotation"))
                                    .at(file, span, reason)
                                    .with_help("write `-- kschema:allow-hazard deletes-data, rewrites-table`"),
                            ),
                        }
                    }
                    if argument.is_empty() {
                        self.problems.push(
                            Problem::new("kschema::annotation::hazard", "allow-hazard names no hazard")
                                .at(file, span, "which hazards?")
                                .with_help("write `-- kschema:allow-hazard deletes-data, rewrites-table`"),
                        );
                    }
                }
                "renamed-from" => {
                    let old = argument.split_whitespace().next().unwrap_or("");
                    if old.is_empty() {
                        self.problems.push(
                            Problem::new("kschema::annotation::rename", "renamed-from names no old name")
                                .at(file, span, "renamed from what?")
                                .with_help("write `-- kschema:renamed-from old_name`"),
                        );
                    } else {
                        let quoted = old.len() >= 2 && old.starts_with('"') && old.ends_with('"');
                        let bare = if quoted { old[1..old.len() - 1].replace("\"\"", "\"") } else { old.to_string() };
                        annotations.renamed_from = Some(Ident::from_sql(&bare, quoted));
                    }
                }
                "using" => match crate::normalize::expr::parse_expr(argument) {
                    Ok(_) if !argument.is_empty() => annotations.using = Some(argument.to_string()),
                    _ => self.problems.push(
                        Problem::new("kschema::annotation::using", "using needs the expression that converts the column's values")
                            .at(file, span, "not an expression")
                            .with_help("write `-- kschema:using (to_timestamp(created / 1000))` at the end of the column's line"),
                    ),
                },
                other => self.problems.push(
                    Problem::new("kschema::annotation::unknown", format!("unknown annotation `kschema:{other}`"))
                        .at(file, span, "kschema does not know this annotation")
                        .with_help("known annotations: `-- kschema:allow-hazard <hazards>`, `-- kschema:renamed-from <old name>`, `-- kschema:using <conversion>`"),
                ),
            }
        }
        annotations
    }
}
