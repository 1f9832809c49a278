//! Seed values: a TOML value checked against its column's type, turned into
//! an escaped SQL literal with an explicit cast, and into a canonical JSON
//! form that compares equal to the live value PostgreSQL returns
//! (`to_jsonb`) when they mean the same thing.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use toml::value::Datetime;

use crate::ident::quote_literal;
use crate::model::ColumnType;

/// One declared value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedValue {
    /// Compared with the live value, canonicalized the same way.
    pub canonical: Json,
    /// The SQL literal, escaped and cast to the column's type.
    pub sql: String,
}

impl SeedValue {
    /// How the value reads in a plan.
    pub fn display(&self) -> String {
        display_json(&self.canonical)
    }
}

pub fn display_json(value: &Json) -> String {
    match value {
        Json::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// Checks and converts a TOML value for a column of `column_type`.
pub fn seed_value(
    value: &toml::Value,
    column_type: &ColumnType,
    not_null: bool,
) -> Result<SeedValue, String> {
    let base = column_type.base();
    let cast = |literal: String| format!("{literal}::{column_type}");
    let type_error = |expected: &str| {
        format!(
            "column type is {column_type}, so the value must be {expected}, not {}",
            describe(value)
        )
    };
    // TOML has no null: an empty string for a nullable non-text column is
    // not accepted either; leave the column out of the row instead.
    let _ = not_null;
    match base.as_str() {
        "text" | "character varying" | "character" | "citext" | "name" => {
            let toml::Value::String(s) = value else {
                return Err(type_error("a string"));
            };
            if let Some(limit) = column_type.length() {
                let length = s.chars().count();
                if length as u64 > limit && base != "character" {
                    return Err(format!("{column_type} holds at most {limit} characters; this value has {length}"));
                }
            }
            Ok(SeedValue { canonical: Json::String(s.clone()), sql: quote_literal(s) })
        }
        "uuid" => {
            let toml::Value::String(s) = value else {
                return Err(type_error("a UUID string"));
            };
            if !is_uuid(s) {
                return Err(format!("{s:?} is not a UUID (8-4-4-4-12 hexadecimal digits)"));
            }
            let lower = s.to_ascii_lowercase();
            Ok(SeedValue { canonical: Json::String(lower.clone()), sql: cast(quote_literal(&lower)) })
        }
        "smallint" | "integer" | "bigint" => {
            let toml::Value::Integer(n) = value else {
                return Err(type_error("an integer"));
            };
            let (min, max) = match base.as_str() {
                "smallint" => (i16::MIN as i64, i16::MAX as i64),
                "integer" => (i32::MIN as i64, i32::MAX as i64),
                _ => (i64::MIN, i64::MAX),
            };
            if *n < min || *n > max {
                return Err(format!("{n} does not fit in {column_type} ({min} to {max})"));
            }
            Ok(SeedValue { canonical: Json::from(*n), sql: n.to_string() })
        }
        "numeric" | "real" | "double precision" => {
            let text = match value {
                toml::Value::Integer(n) => n.to_string(),
                toml::Value::Float(f) if f.is_finite() => f.to_string(),
                toml::Value::String(s) if is_decimal(s) => s.clone(),
                _ => return Err(type_error("a number")),
            };
            Ok(SeedValue { canonical: Json::String(normalize_decimal(&text)), sql: cast(quote_literal(&text)) })
        }
        "boolean" => {
            let toml::Value::Boolean(b) = value else {
                return Err(type_error("true or false"));
            };
            Ok(SeedValue { canonical: Json::Bool(*b), sql: b.to_string() })
        }
        "json" | "jsonb" => {
            let json = toml_to_json(value);
            let text = serde_json::to_string(&json).unwrap_or_default();
            Ok(SeedValue { canonical: json, sql: cast(quote_literal(&text)) })
        }
        "timestamp without time zone" | "timestamp with time zone" | "date" => {
            let parsed = match value {
                toml::Value::Datetime(dt) => *dt,
                toml::Value::String(s) => Datetime::from_str(s.trim()).map_err(|e| format!("{s:?} is not a date/time: {e}"))?,
                _ => return Err(type_error("a date/time")),
            };
            let canonical = canonical_time(&parsed, &base).ok_or_else(|| {
                format!("{parsed} does not have what {column_type} needs (a date{})", if base == "date" { "" } else { " and a time" })
            })?;
            Ok(SeedValue { canonical: Json::String(canonical), sql: cast(quote_literal(&parsed.to_string())) })
        }
        _ => Err(format!(
            "seed values for columns of type {column_type} are not supported (text, numbers, booleans, uuid, json, dates and timestamps are)"
        )),
    }
}

/// A live value as a literal (to name a row in UPDATE or DELETE).
pub fn from_live(value: &Json, column_type: &ColumnType) -> SeedValue {
    let sql = match value {
        Json::Null => "NULL".to_string(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => format!("{}::{column_type}", quote_literal(s)),
        other => format!("{}::{column_type}", quote_literal(&other.to_string())),
    };
    SeedValue {
        canonical: canonical_live(value, column_type),
        sql,
    }
}

/// The live value (`to_jsonb` of the column) in canonical form.
pub fn canonical_live(value: &Json, column_type: &ColumnType) -> Json {
    let base = column_type.base();
    match (base.as_str(), value) {
        ("uuid", Json::String(s)) => Json::String(s.to_ascii_lowercase()),
        ("numeric" | "real" | "double precision", Json::Number(n)) => {
            Json::String(normalize_decimal(&n.to_string()))
        }
        ("timestamp without time zone" | "timestamp with time zone" | "date", Json::String(s)) => {
            // to_jsonb writes "2024-01-01T10:00:00" (and "+00:00" with a zone).
            Datetime::from_str(s)
                .ok()
                .and_then(|dt| canonical_time(&dt, &base))
                .map(Json::String)
                .unwrap_or_else(|| value.clone())
        }
        _ => value.clone(),
    }
}

fn describe(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => format!("the string {s:?}"),
        toml::Value::Integer(n) => format!("the integer {n}"),
        toml::Value::Float(f) => format!("the number {f}"),
        toml::Value::Boolean(b) => format!("{b}"),
        toml::Value::Datetime(d) => format!("the date/time {d}"),
        toml::Value::Array(_) => "an array".into(),
        toml::Value::Table(_) => "a table".into(),
    }
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_decimal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.matches('.').count() <= 1
}

/// `1.50` → `1.5`, `2.0` → `2`, `007` → `7`.
fn normalize_decimal(text: &str) -> String {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let body = if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    };
    if body == "0" {
        body
    } else {
        format!("{sign}{body}")
    }
}

fn toml_to_json(value: &toml::Value) -> Json {
    match value {
        toml::Value::String(s) => Json::String(s.clone()),
        toml::Value::Integer(n) => Json::from(*n),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        toml::Value::Boolean(b) => Json::Bool(*b),
        toml::Value::Datetime(d) => Json::String(d.to_string()),
        toml::Value::Array(items) => Json::Array(items.iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Json::Object(
            table
                .iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

/// `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn`, or (with a zone) the same
/// in UTC with a `Z`.
fn canonical_time(dt: &Datetime, base: &str) -> Option<String> {
    let date = dt.date?;
    if base == "date" {
        return Some(format!(
            "{:04}-{:02}-{:02}",
            date.year, date.month, date.day
        ));
    }
    let time = dt.time?;
    let mut seconds = i64::from(time.hour) * 3600
        + i64::from(time.minute) * 60
        + i64::from(time.second.unwrap_or(0));
    let mut days = days_from_civil(
        i64::from(date.year),
        i64::from(date.month),
        i64::from(date.day),
    );
    if base == "timestamp with time zone" {
        let offset_minutes = match dt.offset {
            Some(toml::value::Offset::Custom { minutes }) => i64::from(minutes),
            _ => 0,
        };
        seconds -= offset_minutes * 60;
        days += seconds.div_euclid(86_400);
        seconds = seconds.rem_euclid(86_400);
    }
    let (y, m, d) = civil_from_days(days);
    let zone = if base == "timestamp with time zone" {
        "Z"
    } else {
        ""
    };
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}{zone}",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60,
        time.nanosecond.unwrap_or(0)
    ))
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> ColumnType {
        ColumnType::parse(text)
    }

    #[test]
    fn declared_and_live_forms_agree() {
        let cases: Vec<(toml::Value, &str, Json)> = vec![
            (
                toml::Value::String("0B8A3F1E-0000-4000-8000-000000000001".into()),
                "uuid",
                Json::String("0b8a3f1e-0000-4000-8000-000000000001".into()),
            ),
            (
                toml::Value::Float(1.5),
                "numeric(10,2)",
                serde_json::json!(1.50),
            ),
            (toml::Value::Integer(2), "numeric", serde_json::json!(2.0)),
            (
                toml::Value::String("2024-01-01T12:00:00+02:00".into()),
                "timestamp with time zone",
                Json::String("2024-01-01T10:00:00+00:00".into()),
            ),
            (
                toml::Value::String("2024-01-01 10:00:00".into()),
                "timestamp without time zone",
                Json::String("2024-01-01T10:00:00".into()),
            ),
            (
                toml::Value::String("2024-02-29".into()),
                "date",
                Json::String("2024-02-29".into()),
            ),
        ];
        for (declared, ty, live) in cases {
            let value = seed_value(&declared, &t(ty), false).unwrap();
            assert_eq!(
                value.canonical,
                canonical_live(&live, &t(ty)),
                "{declared} as {ty}"
            );
        }
    }

    #[test]
    fn values_that_do_not_fit_are_rejected_with_a_reason() {
        assert!(
            seed_value(&toml::Value::String("not-a-uuid".into()), &t("uuid"), false)
                .unwrap_err()
                .contains("not a UUID")
        );
        assert!(
            seed_value(&toml::Value::Integer(1 << 40), &t("integer"), false)
                .unwrap_err()
                .contains("does not fit")
        );
        assert!(seed_value(
            &toml::Value::String("x".repeat(11)),
            &t("character varying(10)"),
            false
        )
        .unwrap_err()
        .contains("at most 10"));
        assert!(seed_value(&toml::Value::Integer(1), &t("boolean"), false)
            .unwrap_err()
            .contains("true or false"));
    }

    #[test]
    fn literals_are_escaped_and_cast() {
        let v = seed_value(&toml::Value::String("it's".into()), &t("text"), false).unwrap();
        assert_eq!(v.sql, "'it''s'");
        let j = seed_value(
            &"a = { b = \"'\" }".parse::<toml::Table>().unwrap()["a"],
            &t("jsonb"),
            false,
        )
        .unwrap();
        assert_eq!(j.sql, "'{\"b\":\"''\"}'::jsonb");
    }
}
