//! Column types: every spelling PostgreSQL accepts becomes the one
//! `format_type()` prints, so `VARCHAR(64)` and `character varying(64)` are
//! the same [`ColumnType`].

use sqlparser::ast::{
    ArrayElemTypeDef, CharacterLength, DataType, ExactNumberInfo, GeometricTypeKind, TimezoneInfo,
    TypeModifier,
};

use crate::ident::Ident;
use crate::model::ColumnType;

/// What a declared type turns into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NormalizedType {
    pub data_type: ColumnType,
    /// `serial`, `bigserial`, `smallserial`: the type plus an owned sequence
    /// and a `nextval` default.
    pub serial: bool,
    /// `COLLATE` written as part of the type.
    pub collation: Option<Ident>,
}

/// Normalizes a type as written in a column definition or a cast.
/// `Err` carries a sentence saying what is not supported.
pub fn normalize_type(data_type: &DataType) -> Result<NormalizedType, String> {
    let plain = |text: String| {
        Ok(NormalizedType {
            data_type: ColumnType::parse(&text),
            serial: false,
            collation: None,
        })
    };
    match data_type {
        DataType::Custom(name, modifiers) => {
            let parts: Vec<Ident> = name
                .0
                .iter()
                .filter_map(|part| part.as_ident().map(Ident::from_sqlparser))
                .collect();
            if parts.len() == 1 && modifiers.is_empty() {
                let serial = match parts[0].as_str() {
                    "serial" | "serial4" => Some("integer"),
                    "bigserial" | "serial8" => Some("bigint"),
                    "smallserial" | "serial2" => Some("smallint"),
                    _ => None,
                };
                if let Some(base) = serial {
                    return Ok(NormalizedType {
                        data_type: ColumnType::parse(base),
                        serial: true,
                        collation: None,
                    });
                }
            }
            plain(custom_type(&parts, modifiers))
        }
        DataType::Collate(inner, collation) => {
            let mut normalized = normalize_type(inner)?;
            let name = collation
                .0
                .last()
                .and_then(|part| part.as_ident())
                .map(Ident::from_sqlparser);
            normalized.collation = name;
            Ok(normalized)
        }
        other => plain(builtin_type(other)?),
    }
}

fn builtin_type(data_type: &DataType) -> Result<String, String> {
    use DataType as T;
    let text = match data_type {
        T::Character(len) | T::Char(len) => {
            format!("character({})", char_length(len)?.unwrap_or(1))
        }
        T::CharacterVarying(len) | T::CharVarying(len) | T::Varchar(len) => {
            match char_length(len)? {
                Some(n) => format!("character varying({n})"),
                None => "character varying".to_string(),
            }
        }
        T::Text => "text".into(),
        T::Uuid => "uuid".into(),
        T::Bytea => "bytea".into(),
        T::JSON => "json".into(),
        T::JSONB => "jsonb".into(),
        T::Regclass => "regclass".into(),
        T::TsVector => "tsvector".into(),
        T::TsQuery => "tsquery".into(),
        T::Bool | T::Boolean => "boolean".into(),
        T::Date => "date".into(),
        T::Int2(None) | T::SmallInt(None) => "smallint".into(),
        T::Int(None) | T::Int4(None) | T::Integer(None) => "integer".into(),
        T::Int8(None) | T::BigInt(None) => "bigint".into(),
        T::Real | T::Float4 => "real".into(),
        T::Float8 | T::DoublePrecision | T::Double(ExactNumberInfo::None) => {
            "double precision".into()
        }
        // FLOAT(p): PostgreSQL picks real up to 24 bits of precision.
        T::Float(info) => match info {
            ExactNumberInfo::Precision(p) if *p <= 24 => "real".into(),
            ExactNumberInfo::None | ExactNumberInfo::Precision(_) => "double precision".into(),
            ExactNumberInfo::PrecisionAndScale(..) => {
                return Err("FLOAT takes a precision, not a scale".into())
            }
        },
        T::Numeric(info) | T::Decimal(info) | T::Dec(info) => match info {
            ExactNumberInfo::None => "numeric".into(),
            ExactNumberInfo::Precision(p) => format!("numeric({p},0)"),
            ExactNumberInfo::PrecisionAndScale(p, s) => format!("numeric({p},{s})"),
        },
        T::Timestamp(precision, tz) => with_time_zone("timestamp", *precision, tz),
        T::Time(precision, tz) => with_time_zone("time", *precision, tz),
        T::Interval { fields, precision } => {
            let mut text = "interval".to_string();
            if let Some(fields) = fields {
                text.push(' ');
                text.push_str(&fields.to_string().to_ascii_lowercase());
            }
            if let Some(p) = precision {
                text.push_str(&format!("({p})"));
            }
            text
        }
        T::Bit(len) => format!("bit({})", len.unwrap_or(1)),
        T::BitVarying(len) | T::VarBit(len) => match len {
            Some(n) => format!("bit varying({n})"),
            None => "bit varying".into(),
        },
        T::GeometricType(kind) => geometric(kind).into(),
        T::Array(elem) => {
            let inner = match elem {
                ArrayElemTypeDef::SquareBracket(inner, _) => inner,
                _ => return Err(format!("array type `{data_type}` is not PostgreSQL syntax")),
            };
            let inner = normalize_type(inner)?;
            if inner.serial {
                return Err("an array of serial is not a type".into());
            }
            // PostgreSQL does not record array dimensions: int[][] is int[].
            let element = inner.data_type.element();
            element.array().to_string()
        }
        T::Int2(Some(_))
        | T::SmallInt(Some(_))
        | T::Int(Some(_))
        | T::Int4(Some(_))
        | T::Integer(Some(_))
        | T::Int8(Some(_))
        | T::BigInt(Some(_)) => {
            return Err(format!(
                "`{data_type}`: PostgreSQL integer types take no display width"
            ))
        }
        other => {
            return Err(format!(
                "`{other}` is not a PostgreSQL type kschema understands"
            ))
        }
    };
    Ok(text)
}

fn char_length(len: &Option<CharacterLength>) -> Result<Option<u64>, String> {
    match len {
        None => Ok(None),
        Some(CharacterLength::IntegerLength { length, unit: None }) => Ok(Some(*length)),
        Some(other) => Err(format!("length `{other}` is not PostgreSQL syntax")),
    }
}

fn with_time_zone(base: &str, precision: Option<u64>, tz: &TimezoneInfo) -> String {
    let precision = precision.map(|p| format!("({p})")).unwrap_or_default();
    let zone = match tz {
        TimezoneInfo::WithTimeZone | TimezoneInfo::Tz => "with time zone",
        TimezoneInfo::None | TimezoneInfo::WithoutTimeZone => "without time zone",
    };
    format!("{base}{precision} {zone}")
}

fn geometric(kind: &GeometricTypeKind) -> &'static str {
    match kind {
        GeometricTypeKind::Point => "point",
        GeometricTypeKind::Line => "line",
        GeometricTypeKind::LineSegment => "lseg",
        GeometricTypeKind::GeometricBox => "box",
        GeometricTypeKind::GeometricPath => "path",
        GeometricTypeKind::Polygon => "polygon",
        GeometricTypeKind::Circle => "circle",
    }
}

/// Types sqlparser does not know by name: PostgreSQL's own aliases and
/// user or extension types.
fn custom_type(parts: &[Ident], modifiers: &[TypeModifier]) -> String {
    let modifiers: Vec<String> = modifiers.iter().map(|m| m.to_string()).collect();
    let with_modifiers = |base: &str| {
        if modifiers.is_empty() {
            base.to_string()
        } else {
            format!("{base}({})", modifiers.join(","))
        }
    };
    if let [single] = parts {
        let alias = match single.as_str() {
            "int2" => Some("smallint"),
            "int4" => Some("integer"),
            "int8" => Some("bigint"),
            "float4" => Some("real"),
            "float8" => Some("double precision"),
            "bool" => Some("boolean"),
            "timestamptz" => Some("timestamp with time zone"),
            "timetz" => Some("time with time zone"),
            "varbit" => Some("bit varying"),
            "bpchar" if modifiers.is_empty() => Some("bpchar"),
            "bpchar" => Some("character"),
            "decimal" => Some("numeric"),
            _ => None,
        };
        match (single.as_str(), alias) {
            ("timestamptz" | "timetz", Some(_)) if !modifiers.is_empty() => {
                let base = &single.as_str()[..single.as_str().len() - 2];
                return format!("{base}({}) with time zone", modifiers.join(","));
            }
            (_, Some(alias)) => return with_modifiers(alias),
            _ => {}
        }
        // `"char"` is a distinct one-byte type that format_type prints quoted.
        return with_modifiers(&single.quoted().to_string());
    }
    let qualified: Vec<String> = parts.iter().map(|p| p.quoted().to_string()).collect();
    with_modifiers(&qualified.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;

    fn normalized(spelling: &str) -> String {
        let sql = format!("CREATE TABLE t (c {spelling})");
        let statement = Parser::parse_sql(&PostgreSqlDialect {}, &sql)
            .unwrap()
            .remove(0);
        let sqlparser::ast::Statement::CreateTable(table) = statement else {
            panic!("not a table")
        };
        let t = normalize_type(&table.columns[0].data_type).unwrap();
        let mut out = t.data_type.to_string();
        if t.serial {
            out.push_str(" +serial");
        }
        out
    }

    #[test]
    fn spellings_normalize_to_format_type() {
        let cases = [
            ("VARCHAR(64)", "character varying(64)"),
            ("character varying", "character varying"),
            ("TIMESTAMP", "timestamp without time zone"),
            ("timestamptz", "timestamp with time zone"),
            ("TIMESTAMP(3) WITH TIME ZONE", "timestamp(3) with time zone"),
            ("INT", "integer"),
            ("int8", "bigint"),
            ("SERIAL", "integer +serial"),
            ("BIGSERIAL", "bigint +serial"),
            ("BOOLEAN", "boolean"),
            ("bool", "boolean"),
            ("numeric(10,2)", "numeric(10,2)"),
            ("DECIMAL(10)", "numeric(10,0)"),
            ("float", "double precision"),
            ("float(10)", "real"),
            ("char", "character(1)"),
            ("\"char\"", "\"char\""),
            ("text[]", "text[]"),
            ("int[][]", "integer[]"),
            ("varchar(10)[]", "character varying(10)[]"),
            ("JSONB", "jsonb"),
            ("UUID", "uuid"),
            ("citext", "citext"),
            ("time", "time without time zone"),
            ("interval", "interval"),
        ];
        for (spelling, expected) in cases {
            assert_eq!(normalized(spelling), expected, "spelling {spelling}");
        }
    }

    #[test]
    fn normalizing_twice_equals_normalizing_once() {
        for spelling in [
            "character varying(64)",
            "timestamp without time zone",
            "timestamp(3) with time zone",
            "numeric(10,2)",
            "integer[]",
            "double precision",
            "bit varying(5)",
        ] {
            assert_eq!(normalized(spelling), spelling);
        }
    }
}
