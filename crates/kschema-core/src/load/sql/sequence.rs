//! `CREATE SEQUENCE`: a standalone sequence and its options.

use super::*;

impl Loader {
    pub(super) fn sequence(&mut self, declared: &Declared<Statement>) -> Option<Sequence> {
        let Statement::CreateSequence {
            name,
            sequence_options,
            temporary,
            ..
        } = &declared.ast
        else {
            return None;
        };
        let file = &declared.file;
        let (seq_name, span) = self.object_name(file, name, "sequence")?;
        let owned = sequence_options
            .iter()
            .any(|o| matches!(o, SequenceOptions::OwnedBy(Some(_))));
        if *temporary || owned {
            self.unsupported(
                file,
                span,
                "temporary or OWNED BY sequences are not supported".into(),
                "use a serial or identity column for a column's own sequence",
            );
            return None;
        }
        let declared_type = sequence_options.iter().find_map(|o| match o {
            SequenceOptions::DataType(t) => Some(t),
            _ => None,
        });
        let data_type = match declared_type.map(normalize_type) {
            None => ColumnType::parse("bigint"),
            Some(Ok(t)) if t.data_type.is_integer() && !t.serial => t.data_type,
            Some(_) => {
                self.unsupported(
                    file,
                    span,
                    format!(
                        "sequence {seq_name} has a type other than smallint, integer or bigint"
                    ),
                    "use AS smallint, AS integer or AS bigint",
                );
                return None;
            }
        };
        let options = self.sequence_options(file, span, sequence_options, &data_type)?;
        Some(Sequence {
            name: seq_name,
            data_type,
            options,
        })
    }

    /// A sequence's options as PostgreSQL completes them: what is left out
    /// takes its default for the type and direction. `AS` and `OWNED BY`
    /// are the caller's.
    pub(super) fn sequence_options(
        &mut self,
        file: &Arc<SourceFile>,
        span: SourceSpan,
        written: &[SequenceOptions],
        data_type: &ColumnType,
    ) -> Option<crate::model::SequenceOptions> {
        let mut increment = 1;
        let (mut min, mut max, mut start, mut cache, mut cycle) = (None, None, None, None, false);
        for option in written {
            let value = |e: &Expr| literal_i64(e);
            let parsed = match option {
                SequenceOptions::IncrementBy(e, _) => value(e).map(|v| increment = v),
                SequenceOptions::MinValue(Some(e)) => value(e).map(|v| min = Some(v)),
                SequenceOptions::MaxValue(Some(e)) => value(e).map(|v| max = Some(v)),
                SequenceOptions::MinValue(None) | SequenceOptions::MaxValue(None) => Some(()),
                SequenceOptions::StartWith(e, _) => value(e).map(|v| start = Some(v)),
                SequenceOptions::Cache(e) => value(e).map(|v| cache = Some(v)),
                SequenceOptions::Cycle(no) => {
                    cycle = !*no;
                    Some(())
                }
                SequenceOptions::DataType(_) | SequenceOptions::OwnedBy(_) => Some(()),
            };
            if parsed.is_none() {
                self.unsupported(
                    file,
                    span,
                    format!("sequence option `{option}` is not a whole number"),
                    "sequence options take integer literals",
                );
                return None;
            }
        }
        let defaults = crate::model::SequenceOptions::defaults(data_type, increment);
        let min_value = min.unwrap_or(defaults.min_value);
        let max_value = max.unwrap_or(defaults.max_value);
        Some(crate::model::SequenceOptions {
            // An ascending sequence starts at its minimum, a descending one
            // at its maximum.
            start: start.unwrap_or(if increment < 0 { max_value } else { min_value }),
            increment,
            min_value,
            max_value,
            cache: cache.unwrap_or(defaults.cache),
            cycle,
        })
    }
}
