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
            None => ColumnType::new("bigint"),
            Some(Ok(t))
                if matches!(t.data_type.as_str(), "smallint" | "integer" | "bigint")
                    && !t.serial =>
            {
                t.data_type
            }
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
        let mut sequence = Sequence::with_defaults(seq_name, data_type);
        let mut explicit_min = false;
        let mut explicit_start = None;
        for option in sequence_options {
            let value = |e: &Expr| literal_i64(e);
            let parsed = match option {
                SequenceOptions::IncrementBy(e, _) => value(e).map(|v| sequence.increment = v),
                SequenceOptions::MinValue(Some(e)) => value(e).map(|v| {
                    sequence.min_value = v;
                    explicit_min = true;
                }),
                SequenceOptions::MaxValue(Some(e)) => value(e).map(|v| sequence.max_value = v),
                SequenceOptions::MinValue(None) | SequenceOptions::MaxValue(None) => Some(()),
                SequenceOptions::StartWith(e, _) => value(e).map(|v| explicit_start = Some(v)),
                SequenceOptions::Cache(e) => value(e).map(|v| sequence.cache = v),
                SequenceOptions::Cycle(no) => {
                    sequence.cycle = !*no;
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
        if sequence.increment < 0 {
            // Descending sequences count down from -1 by default.
            if !explicit_min {
                sequence.min_value = match sequence.data_type.as_str() {
                    "smallint" => i16::MIN as i64,
                    "integer" => i32::MIN as i64,
                    _ => i64::MIN,
                };
            }
            sequence.max_value = sequence.max_value.min(-1);
            sequence.start = explicit_start.unwrap_or(sequence.max_value);
        } else {
            sequence.start = explicit_start.unwrap_or(sequence.min_value);
        }
        Some(sequence)
    }
}
