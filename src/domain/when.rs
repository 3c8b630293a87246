//! When a statement was made (valid time): an instant or an interval, how
//! precise it is, and the words the article used ("Friday", "this spring").
//! This is separate from when the ledger recorded it (transaction time).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::text_enum;
use super::validation::{MAX_SHORT_TEXT, Validator};

text_enum! {
    /// The finest unit the time is known to.
    TimePrecision {
        Second => "second",
        Minute => "minute",
        Hour => "hour",
        Day => "day",
        Week => "week",
        Month => "month",
        Quarter => "quarter",
        Season => "season",
        Year => "year",
        Decade => "decade",
    }
}

/// The request form: `{"at": …}` for an instant or `{"start": …, "end": …}` for
/// an interval (end exclusive), each an RFC 3339 timestamp or a plain date.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaidWhenInput {
    pub at: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub precision: Option<TimePrecision>,
    pub expression: Option<String>,
}

/// A validated statement time.
#[derive(Debug, Clone, PartialEq)]
pub struct SaidWhen {
    pub start: Option<DateTime<Utc>>,
    /// Present for an interval; absent for an instant.
    pub end: Option<DateTime<Utc>>,
    pub precision: Option<TimePrecision>,
    pub expression: Option<String>,
}

/// The response form, mirroring the request form.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SaidWhenView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<DateTime<Utc>>,
    pub precision: Option<TimePrecision>,
    pub expression: Option<String>,
}

impl SaidWhen {
    pub fn view(&self) -> SaidWhenView {
        let (at, start, end) = match self.end {
            Some(end) => (None, self.start, Some(end)),
            None => (self.start, None, None),
        };
        SaidWhenView {
            at,
            start,
            end,
            precision: self.precision,
            expression: self.expression.clone(),
        }
    }
}

/// Parses an RFC 3339 timestamp, or a date alone (midnight UTC, day precision).
pub fn parse_time(raw: &str) -> Result<(DateTime<Utc>, Option<TimePrecision>), String> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok((t.with_timezone(&Utc), None));
    }
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let t = d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        if let Some(t) = t {
            return Ok((t, Some(TimePrecision::Day)));
        }
    }
    Err(format!(
        "{raw:?} is not an RFC 3339 timestamp (2026-11-20T09:30:00Z) or a date (2026-11-20)"
    ))
}

impl SaidWhenInput {
    /// Checks the input and reports problems under `field` (e.g. `when.end`).
    pub fn validate(self, field: &str, v: &mut Validator) -> Option<SaidWhen> {
        let mut parse =
            |name: &str, raw: &Option<String>| -> Option<(DateTime<Utc>, Option<TimePrecision>)> {
                let raw = raw.as_deref()?;
                match parse_time(raw) {
                    Ok(parsed) => {
                        v.timestamp(&format!("{field}.{name}"), &parsed.0);
                        Some(parsed)
                    }
                    Err(message) => {
                        v.error(format!("{field}.{name}"), message);
                        None
                    }
                }
            };
        let at = parse("at", &self.at);
        let start = parse("start", &self.start);
        let end = parse("end", &self.end);
        let expression = v.optional_text(
            &format!("{field}.expression"),
            self.expression.as_deref(),
            MAX_SHORT_TEXT,
        );

        let (start, end, implied) = match (&self.at, &self.start, &self.end) {
            (Some(_), None, None) => (at.map(|a| a.0), None, at.and_then(|a| a.1)),
            (None, Some(_), Some(_)) => {
                if let (Some(s), Some(e)) = (start, end)
                    && e.0 <= s.0
                {
                    v.error(format!("{field}.end"), "must be later than start");
                }
                (
                    start.map(|s| s.0),
                    end.map(|e| e.0),
                    start.and_then(|s| s.1),
                )
            }
            (None, None, None) => {
                if expression.is_none() {
                    v.error(
                        field.to_owned(),
                        "needs `at`, or `start` and `end`, or an `expression`",
                    );
                }
                (None, None, None)
            }
            (Some(_), _, _) => {
                v.error(
                    field.to_owned(),
                    "give either `at` or `start` and `end`, not both",
                );
                (None, None, None)
            }
            (None, Some(_), None) => {
                v.error(
                    format!("{field}.end"),
                    "is required with start (use `at` for an instant)",
                );
                (None, None, None)
            }
            (None, None, Some(_)) => {
                v.error(format!("{field}.start"), "is required with end");
                (None, None, None)
            }
        };
        let precision = self.precision.or(implied);
        if precision.is_some() && start.is_none() && self.at.is_none() && self.start.is_none() {
            v.error(
                format!("{field}.precision"),
                "needs a time (`at` or `start`) to qualify",
            );
        }
        Some(SaidWhen {
            start,
            end,
            precision,
            expression,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(at: Option<&str>, start: Option<&str>, end: Option<&str>) -> SaidWhenInput {
        SaidWhenInput {
            at: at.map(Into::into),
            start: start.map(Into::into),
            end: end.map(Into::into),
            precision: None,
            expression: Some("Friday".into()),
        }
    }

    #[test]
    fn a_plain_date_is_an_instant_with_day_precision() {
        let mut v = Validator::new();
        let when = input(Some("2026-11-20"), None, None)
            .validate("when", &mut v)
            .unwrap();
        assert!(v.finish().is_ok());
        assert_eq!(
            when.start.unwrap().to_rfc3339(),
            "2026-11-20T00:00:00+00:00"
        );
        assert_eq!(when.end, None);
        assert_eq!(when.precision, Some(TimePrecision::Day));
        assert!(when.view().at.is_some());
    }

    #[test]
    fn intervals_must_be_ordered() {
        let mut v = Validator::new();
        input(None, Some("2026-05-01"), Some("2026-03-01")).validate("when", &mut v);
        let err = v.finish().unwrap_err();
        assert!(err.to_string().contains("when.end"), "{err}");
    }

    #[test]
    fn at_and_interval_together_are_refused() {
        let mut v = Validator::new();
        input(Some("2026-05-01"), Some("2026-05-01"), Some("2026-06-01")).validate("when", &mut v);
        assert!(v.finish().is_err());
    }

    #[test]
    fn garbage_and_far_years_are_refused() {
        let mut v = Validator::new();
        input(Some("next tuesday-ish"), None, None).validate("when", &mut v);
        assert!(v.finish().is_err());
        assert!(parse_time("2026-11-20T09:30:00+09:00").is_ok());
        assert!(parse_time("+275760-09-13T00:00:00Z").is_err());
    }
}
