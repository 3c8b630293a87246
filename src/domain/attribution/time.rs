//! Time expressions in news text, resolved against the publication time.
//!
//! News writes times relative to the day it is published: "Friday" is the
//! last Friday on or before publication, "in March" the last March that had
//! begun by then, "this spring" the spring of the publication year. Each
//! expression becomes an interval `[start, end)` in UTC (calendar units of
//! the publication's UTC date) with the precision of its unit, and keeps the
//! words the article used.
//!
//! Read: weekdays (`Friday`, `last Friday`, `on Friday night`), `today`,
//! `tonight`, `yesterday`, `last night`, `this morning`; `this`/`last`/
//! `earlier this` week, month and year; dates (`March 5`, `March 5, 2024`,
//! `5 March 2024`, `Sept. 11, 2001`); months (`in March`, `March 2024`,
//! `in September 2002`, `in March and May`); seasons (`this spring`, `last
//! fall`, `the spring of 2019`); years after `in`/`since`/`during` (`in 2002`);
//! decades (`the 1990s`).

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};

use super::text::Token;
use crate::domain::when::TimePrecision;

/// A time expression found in the text and what it resolves to.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeMention {
    /// Byte range of the words in the body.
    pub bytes: (usize, usize),
    pub expression: String,
    pub start: DateTime<Utc>,
    /// Exclusive.
    pub end: DateTime<Utc>,
    pub precision: TimePrecision,
}

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sunday", Weekday::Sun),
];

fn month_of(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.');
    let n = match w {
        "january" | "jan" => 1,
        "february" | "feb" => 2,
        "march" | "mar" => 3,
        "april" | "apr" => 4,
        // "may" is a modal verb far more often than a month: only the
        // capitalised form counts, checked by the caller.
        "may" => 5,
        "june" | "jun" => 6,
        "july" | "jul" => 7,
        "august" | "aug" => 8,
        "september" | "sept" | "sep" => 9,
        "october" | "oct" => 10,
        "november" | "nov" => 11,
        "december" | "dec" => 12,
        _ => return None,
    };
    Some(n)
}

/// Northern-hemisphere meteorological seasons, by their first month; a
/// winter is counted in the year it starts.
fn season_of(word: &str) -> Option<u32> {
    match word {
        "spring" => Some(3),
        "summer" => Some(6),
        "fall" | "autumn" => Some(9),
        "winter" => Some(12),
        _ => None,
    }
}

fn year_of(word: &str) -> Option<i32> {
    let y: i32 = word.parse().ok()?;
    (word.len() == 4 && (1800..=2200).contains(&y)).then_some(y)
}

fn day_of(word: &str) -> Option<u32> {
    let digits = word
        .strip_suffix("st")
        .or_else(|| word.strip_suffix("nd"))
        .or_else(|| word.strip_suffix("rd"))
        .or_else(|| word.strip_suffix("th"))
        .unwrap_or(word);
    let d: u32 = digits.parse().ok()?;
    (digits.len() <= 2 && (1..=31).contains(&d)).then_some(d)
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
}

fn month_start(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, 1)
}

/// `[first day of month, first day of month + n)`.
fn months(year: i32, month: u32, n: u32) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let start = month_start(year, month)?;
    let total = month - 1 + n;
    let end = month_start(year + (total / 12) as i32, total % 12 + 1)?;
    Some((midnight(start), midnight(end)))
}

/// The words of a sentence, lower-cased once.
struct Words<'a> {
    body: &'a str,
    toks: &'a [Token],
    lower: Vec<String>,
}

impl Words<'_> {
    fn get(&self, i: usize) -> &str {
        self.lower.get(i).map_or("", String::as_str)
    }

    fn capitalised(&self, i: usize) -> bool {
        self.toks
            .get(i)
            .is_some_and(|t| t.text(self.body).starts_with(char::is_uppercase))
    }

    fn is_comma(&self, i: usize) -> bool {
        self.get(i) == ","
    }
}

/// One resolved match: how many tokens it took and its interval.
type Resolved = (usize, DateTime<Utc>, DateTime<Utc>, TimePrecision);

/// Every time expression among `toks`, left to right, not overlapping.
pub fn find(body: &str, toks: &[Token], published: DateTime<Utc>) -> Vec<TimeMention> {
    let words = Words {
        body,
        toks,
        lower: toks.iter().map(|t| t.lower(body)).collect(),
    };
    let today = published.date_naive();
    let mut found = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match at(&words, i, today) {
            Some((len, start, end, precision)) => {
                let bytes = (toks[i].start, toks[i + len - 1].end);
                found.push(TimeMention {
                    bytes,
                    expression: body[bytes.0..bytes.1].to_owned(),
                    start,
                    end,
                    precision,
                });
                i += len;
            }
            None => i += 1,
        }
    }
    found
}

/// The expression starting at token `i`, if any.
fn at(w: &Words, i: usize, today: NaiveDate) -> Option<Resolved> {
    let word = w.get(i);
    let next = w.get(i + 1);
    match word {
        "today" | "tonight" => return day(1, today),
        "yesterday" => return day(1, today - Duration::days(1)),
        "this" if matches!(next, "morning" | "afternoon" | "evening") => return day(2, today),
        "last" if next == "night" => return day(2, today - Duration::days(1)),
        "earlier" if next == "this" => {
            return at(w, i + 1, today).map(|(n, s, e, p)| (n + 1, s, e, p));
        }
        "this" | "last" => {
            let last = word == "last";
            match next {
                "week" => {
                    let monday =
                        today - Duration::days(today.weekday().num_days_from_monday() as i64);
                    let start = if last {
                        monday - Duration::weeks(1)
                    } else {
                        monday
                    };
                    return Some((
                        2,
                        midnight(start),
                        midnight(start + Duration::weeks(1)),
                        TimePrecision::Week,
                    ));
                }
                "month" => {
                    let (y, m) = if last {
                        previous_month(today)
                    } else {
                        (today.year(), today.month())
                    };
                    let (s, e) = months(y, m, 1)?;
                    return Some((2, s, e, TimePrecision::Month));
                }
                "year" => {
                    let y = today.year() - i32::from(last);
                    let (s, e) = months(y, 1, 12)?;
                    return Some((2, s, e, TimePrecision::Year));
                }
                _ => {}
            }
            if let Some(first) = season_of(next) {
                let y = season_year(today, first, last);
                let (s, e) = months(y, first, 3)?;
                return Some((2, s, e, TimePrecision::Season));
            }
            if let Some(&(_, wd)) = WEEKDAYS.iter().find(|(n, _)| *n == next) {
                // "last Friday" is the Friday of the week before when said
                // on a Friday; otherwise the same as "Friday".
                let mut d = last_weekday(today, wd);
                if last && d == today {
                    d -= Duration::weeks(1);
                }
                return day(2 + part_of_day(w, i + 2), d);
            }
            return None;
        }
        "the" => {
            // "the spring of 2019", "the 1990s"
            if let Some(first) = season_of(next) {
                if w.get(i + 2) == "of" {
                    let y = year_of(w.get(i + 3))?;
                    let (s, e) = months(y, first, 3)?;
                    return Some((4, s, e, TimePrecision::Season));
                }
                return None;
            }
            return decade(next).map(|(s, e)| (2, s, e, TimePrecision::Decade));
        }
        "in" | "since" | "during" | "by" | "until" => {
            // A bare year needs its preposition ("in 2002"): a number alone
            // is too often something else.
            if let Some(y) = year_of(next)
                && month_of(w.get(i + 2)).is_none()
            {
                let (s, e) = months(y, 1, 12)?;
                return Some((2, s, e, TimePrecision::Year));
            }
            return None;
        }
        _ => {}
    }
    if let Some(&(_, wd)) = WEEKDAYS.iter().find(|(n, _)| *n == word) {
        if !w.capitalised(i) {
            return None;
        }
        return day(1 + part_of_day(w, i + 1), last_weekday(today, wd));
    }
    if let Some(first) = season_of(word) {
        // "spring 2019"
        let y = year_of(next)?;
        let (s, e) = months(y, first, 3)?;
        return Some((2, s, e, TimePrecision::Season));
    }
    if let Some(day_n) = day_of(word) {
        // "5 March 2024"
        let m = month_of(next).filter(|_| w.capitalised(i + 1))?;
        let (y, len) = match year_of(w.get(i + 2)) {
            Some(y) => (y, 3),
            None => (year_for_month(today, m), 2),
        };
        return day(len, NaiveDate::from_ymd_opt(y, m, day_n)?);
    }
    let m = month_of(word).filter(|_| w.capitalised(i))?;
    if let Some(d) = day_of(next) {
        // "March 5", "March 5, 2024"
        let with_year = if w.is_comma(i + 2) {
            year_of(w.get(i + 3)).map(|y| (y, 4))
        } else {
            year_of(w.get(i + 2)).map(|y| (y, 3))
        };
        let (y, len) = with_year.unwrap_or((year_for_month(today, m), 2));
        return day(len, NaiveDate::from_ymd_opt(y, m, d)?);
    }
    // "March 2024", "March of 2024"
    if let Some(y) = year_of(next) {
        let (s, e) = months(y, m, 1)?;
        return Some((2, s, e, TimePrecision::Month));
    }
    if next == "of"
        && let Some(y) = year_of(w.get(i + 2))
    {
        let (s, e) = months(y, m, 1)?;
        return Some((3, s, e, TimePrecision::Month));
    }
    // A month alone needs "in" before it ("in March"): "May" and "March"
    // are also a verb, a name and a noun.
    if i == 0
        || !matches!(
            w.get(i - 1),
            "in" | "since" | "during" | "until" | "early" | "late" | "mid"
        )
    {
        return None;
    }
    // "in March and May (2019)"
    if matches!(next, "and" | "or" | "to" | "through")
        && let Some(m2) = month_of(w.get(i + 2)).filter(|&m2| m2 > m && w.capitalised(i + 2))
    {
        let (y, len) = match year_of(w.get(i + 3)) {
            Some(y) => (y, 4),
            None => (year_for_month(today, m), 3),
        };
        let (s, _) = months(y, m, 1)?;
        let (_, e) = months(y, m2, 1)?;
        return Some((len, s, e, TimePrecision::Month));
    }
    let y = year_for_month(today, m);
    let (s, e) = months(y, m, 1)?;
    Some((1, s, e, TimePrecision::Month))
}

fn day(len: usize, d: NaiveDate) -> Option<Resolved> {
    Some((
        len,
        midnight(d),
        midnight(d + Duration::days(1)),
        TimePrecision::Day,
    ))
}

/// "Friday morning", "Friday night": the part of the day joins the expression.
fn part_of_day(w: &Words, i: usize) -> usize {
    usize::from(matches!(
        w.get(i),
        "morning" | "afternoon" | "evening" | "night"
    ))
}

/// The last `wd` on or before `today`.
fn last_weekday(today: NaiveDate, wd: Weekday) -> NaiveDate {
    let back = (7 + today.weekday().num_days_from_monday() - wd.num_days_from_monday()) % 7;
    today - Duration::days(back as i64)
}

fn previous_month(today: NaiveDate) -> (i32, u32) {
    if today.month() == 1 {
        (today.year() - 1, 12)
    } else {
        (today.year(), today.month() - 1)
    }
}

/// The year of the last month `m` that had begun by `today`.
fn year_for_month(today: NaiveDate, m: u32) -> i32 {
    if m <= today.month() {
        today.year()
    } else {
        today.year() - 1
    }
}

/// "this spring" is the publication year's; "last spring" the latest one
/// that has ended.
fn season_year(today: NaiveDate, first: u32, last: bool) -> i32 {
    // Winter starting in December: in January or February "this winter"
    // began the year before.
    let this = if first == 12 && today.month() < 3 {
        today.year() - 1
    } else {
        today.year()
    };
    if !last {
        return this;
    }
    // "last spring" said in November is this year's spring, said in April
    // it is last year's: the latest one that has ended.
    let ended = months(this, first, 3).is_some_and(|(_, end)| end <= midnight(today));
    if ended { this } else { this - 1 }
}

fn decade(word: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let digits = word.strip_suffix('s')?;
    let y = year_of(digits)?;
    (y % 10 == 0).then(|| months(y, 1, 120)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::attribution::text;

    /// Friday 2026-11-27, 15:00 UTC.
    fn published() -> DateTime<Utc> {
        "2026-11-27T15:00:00Z".parse().unwrap()
    }

    fn resolve(s: &str) -> Vec<(String, String, String, TimePrecision)> {
        let sentences = text::sentences(s);
        sentences
            .iter()
            .flat_map(|sent| find(s, &sent.tokens, published()))
            .map(|m| {
                (
                    m.expression,
                    m.start.date_naive().to_string(),
                    m.end.date_naive().to_string(),
                    m.precision,
                )
            })
            .collect()
    }

    fn one(s: &str) -> (String, String, String, TimePrecision) {
        let got = resolve(s);
        assert_eq!(got.len(), 1, "{s}: {got:?}");
        got.into_iter().next().unwrap()
    }

    #[test]
    fn weekdays_are_the_last_such_day_on_or_before_publication() {
        let d = |s: &str| {
            let (e, start, end, p) = one(s);
            assert_eq!(p, TimePrecision::Day);
            (e, start, end)
        };
        assert_eq!(
            d("Officials said Friday."),
            ("Friday".into(), "2026-11-27".into(), "2026-11-28".into())
        );
        assert_eq!(
            d("He said on Tuesday night that"),
            (
                "Tuesday night".into(),
                "2026-11-24".into(),
                "2026-11-25".into()
            )
        );
        assert_eq!(
            d("She said last Friday."),
            (
                "last Friday".into(),
                "2026-11-20".into(),
                "2026-11-21".into()
            )
        );
        assert_eq!(
            d("They met yesterday."),
            ("yesterday".into(), "2026-11-26".into(), "2026-11-27".into())
        );
        // A lower-case weekday is no weekday: "friday" in a handle or URL.
        assert!(resolve("the friday feed").is_empty());
    }

    #[test]
    fn months_seasons_and_years() {
        assert_eq!(
            one("Japan engaged in several informal contacts with North Korea this spring."),
            (
                "this spring".into(),
                "2026-03-01".into(),
                "2026-06-01".into(),
                TimePrecision::Season
            )
        );
        assert_eq!(
            one("Talks were held in March and May."),
            (
                "March and May".into(),
                "2026-03-01".into(),
                "2026-06-01".into(),
                TimePrecision::Month
            )
        );
        assert_eq!(
            one("It began in September 2002."),
            (
                "September 2002".into(),
                "2002-09-01".into(),
                "2002-10-01".into(),
                TimePrecision::Month
            )
        );
        // A month not yet begun this year is last year's.
        assert_eq!(
            one("The deal was signed in December."),
            (
                "December".into(),
                "2025-12-01".into(),
                "2026-01-01".into(),
                TimePrecision::Month
            )
        );
        assert_eq!(
            one("The attacks of Sept. 11, 2001 changed that."),
            (
                "Sept. 11, 2001".into(),
                "2001-09-11".into(),
                "2001-09-12".into(),
                TimePrecision::Day
            )
        );
        assert_eq!(
            one("On 5 March the ferry sank."),
            (
                "5 March".into(),
                "2026-03-05".into(),
                "2026-03-06".into(),
                TimePrecision::Day
            )
        );
        assert_eq!(
            one("Prices fell in 2019."),
            (
                "in 2019".into(),
                "2019-01-01".into(),
                "2020-01-01".into(),
                TimePrecision::Year
            )
        );
        assert_eq!(
            one("Since the 1990s, it grew."),
            (
                "the 1990s".into(),
                "1990-01-01".into(),
                "2000-01-01".into(),
                TimePrecision::Decade
            )
        );
        assert_eq!(
            one("Sales rose last week."),
            (
                "last week".into(),
                "2026-11-16".into(),
                "2026-11-23".into(),
                TimePrecision::Week
            )
        );
        assert_eq!(
            one("He left earlier this year."),
            (
                "earlier this year".into(),
                "2026-01-01".into(),
                "2027-01-01".into(),
                TimePrecision::Year
            )
        );
    }

    #[test]
    fn modal_may_and_bare_numbers_are_no_times() {
        assert!(resolve("The minister may resign, and 2019 people marched.").is_empty());
        assert!(resolve("He will march on.").is_empty());
    }
}
