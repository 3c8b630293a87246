//! schema.org ClaimReview: the verdict mapping, reading items from the
//! shapes fact-checkers publish (one ClaimReview, an array, a DataFeed).

use std::sync::LazyLock;

use serde_json::Value;

use super::article::normalize_url;
use super::review::Verdict;
use super::speaker::SpeakerKind;
use super::text::match_key;

/// The schema.org type for a speaker.
pub fn schema_type(kind: SpeakerKind) -> &'static str {
    match kind {
        SpeakerKind::Person | SpeakerKind::Anonymous => "Person",
        SpeakerKind::Government => "GovernmentOrganization",
        SpeakerKind::Organization | SpeakerKind::Publication | SpeakerKind::Platform => {
            "Organization"
        }
    }
}

/// The speaker kind for a schema.org author type.
pub fn speaker_kind(schema_type: &str) -> SpeakerKind {
    match schema_type {
        "Person" => SpeakerKind::Person,
        "GovernmentOrganization" => SpeakerKind::Government,
        "NewsMediaOrganization" | "Periodical" | "Newspaper" => SpeakerKind::Publication,
        "Organization" | "Corporation" | "NGO" => SpeakerKind::Organization,
        _ => SpeakerKind::Person,
    }
}

/// The rating vocabulary: how fact-checkers word their ratings in many
/// languages (src/domain/ratings.tsv, one label per line), by match key.
static RATING_LABELS: LazyLock<Vec<(String, Verdict)>> = LazyLock::new(|| {
    let mut labels: Vec<(String, Verdict)> = include_str!("ratings.tsv")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let (_lang, label, verdict) = (cols.next()?, cols.next()?, cols.next()?);
            Some((rating_key(label), verdict.trim().parse().ok()?))
        })
        .collect();
    // Longest first: "mostly false" before "false".
    labels.sort_by(|a, b| {
        b.0.chars()
            .count()
            .cmp(&a.0.chars().count())
            .then(a.0.cmp(&b.0))
    });
    labels
});

/// A rating's words as compared: the match key, punctuation as spaces.
fn rating_key(text: &str) -> String {
    let key = match_key(text);
    let spaced: String = key
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || crate::domain::text::is_mark(c) || c == '\'' {
                c
            } else {
                ' '
            }
        })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The verdict a rating's words say: a label of the vocabulary, or the
/// longest label the words start with ("False: the photo is from 2019").
pub fn verdict_of_words(words: &str) -> Option<Verdict> {
    let key = rating_key(words);
    if key.is_empty() {
        return None;
    }
    RATING_LABELS.iter().find_map(|(label, verdict)| {
        let starts = key == *label
            || key
                .strip_prefix(label.as_str())
                .is_some_and(|rest| rest.starts_with(' '));
        starts.then_some(*verdict)
    })
}

/// The verdict a rating's number says, placed on claimtrail's 1–5 scale
/// between `worstRating` and `bestRating` (either way round: some scales
/// put the worst rating above the best). Defaults: best 5, worst 1.
pub fn verdict_of_value(rating: &Value) -> Result<Option<Verdict>, String> {
    let number = |key: &str| -> Result<Option<f64>, String> {
        match rating.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .or_else(|| {
                    v.as_str()
                        .and_then(|s| s.trim().replace(',', ".").parse().ok())
                })
                .map(Some)
                .ok_or_else(|| format!("{key} is not a number: {v}")),
        }
    };
    let Some(value) = number("ratingValue")? else {
        return Ok(None);
    };
    let best = number("bestRating")?.unwrap_or(5.0);
    let worst = number("worstRating")?.unwrap_or(1.0);
    if best == worst {
        return Err(format!("bestRating and worstRating are both {best}"));
    }
    let (low, high) = if worst < best {
        (worst, best)
    } else {
        (best, worst)
    };
    if value < low || value > high {
        return Err(format!(
            "ratingValue {value} lies outside its scale ({worst} worst, {best} best)"
        ));
    }
    let position = (value - worst) / (best - worst);
    Ok(Some(match (1.0 + 4.0 * position).round() as i64 {
        5 => Verdict::True,
        4 => Verdict::MostlyTrue,
        3 => Verdict::Mixed,
        2 => Verdict::MostlyFalse,
        _ => Verdict::False,
    }))
}

/// How a rating was read.
#[derive(Debug, Clone, PartialEq)]
pub struct RatingReading {
    pub verdict: Verdict,
    /// Said when the rating's words and number disagree (the words win).
    pub warning: Option<String>,
}

/// Reads a schema.org Rating. Its words (`alternateName`, else `name`) win
/// over its number: fact-checkers publish the words and often fill the
/// number with a placeholder. When both map and disagree, the words win and
/// a warning says so, the same way every time.
pub fn read_rating(rating: &Value) -> Result<RatingReading, String> {
    let words = ["alternateName", "name"]
        .iter()
        .find_map(|k| rating.get(*k).and_then(Value::as_str))
        .filter(|w| !w.trim().is_empty());
    let by_words = words.and_then(verdict_of_words);
    let by_value = verdict_of_value(rating);
    match (by_words, by_value) {
        (Some(verdict), Ok(Some(number))) if number != verdict => Ok(RatingReading {
            verdict,
            warning: Some(format!(
                "the rating's words ({:?}) say {verdict} and its value says {number}; the words were used",
                words.unwrap_or_default()
            )),
        }),
        (Some(verdict), _) => Ok(RatingReading {
            verdict,
            warning: None,
        }),
        (None, Ok(Some(verdict))) => Ok(RatingReading {
            verdict,
            warning: words.map(|w| {
                format!("the rating {w:?} is not in the rating vocabulary; its value was used")
            }),
        }),
        (None, Err(e)) => Err(e),
        (None, Ok(None)) => Err(match words {
            Some(w) => format!(
                "the rating {w:?} is not in the rating vocabulary (src/domain/ratings.tsv) and has no ratingValue"
            ),
            None => "has neither words (alternateName) nor a ratingValue".into(),
        }),
    }
}

/// An absolute http(s) URL from `url`, resolving a relative one against
/// `base` (the page the markup came from, or the record's own URL). The
/// fragment is kept: a page of several reviews tells them apart by it, and
/// claimtrail's own export addresses each review by one (`#review-N`).
pub fn resolve_url(url: &str, base: Option<&str>) -> Result<String, String> {
    let absolute = absolute_url(url, base)?;
    let fragment = url::Url::parse(&absolute)
        .ok()
        .and_then(|u| u.fragment().map(str::to_owned));
    let normalized = normalize_url(&absolute)?;
    Ok(match fragment.filter(|f| !f.is_empty()) {
        Some(f) => format!("{normalized}#{f}"),
        None => normalized,
    })
}

fn absolute_url(url: &str, base: Option<&str>) -> Result<String, String> {
    match url::Url::parse(url.trim()) {
        Ok(_) => Ok(url.trim().to_owned()),
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            let base = base.ok_or_else(|| {
                format!("{url:?} is relative and no page URL was given to resolve it against (send ?page=)")
            })?;
            let base = url::Url::parse(base)
                .map_err(|e| format!("the page URL {base:?} is not a URL: {e}"))?;
            let joined = base
                .join(url.trim())
                .map_err(|e| format!("{url:?} cannot be resolved: {e}"))?;
            Ok(joined.into())
        }
        Err(e) => Err(format!("{url:?} is not a URL: {e}")),
    }
}

/// A fact-checker's ClaimReview, read and checked: what claimtrail stores
/// from it, and what it had to say about it.
#[derive(Debug, Clone)]
pub struct ReadItem {
    /// `claimReviewed`, exactly as given.
    pub claimed: String,
    pub verdict: Verdict,
    /// Who made the claim: name, schema.org type, job title. `None` when the
    /// record does not say (the claim then goes to an unknown speaker).
    pub claimant: Option<(String, String, Option<String>)>,
    /// The fact-checker (the review's author, else its publisher).
    pub reviewer: String,
    /// `reviewBody`, else `description`, else a sentence naming the rating.
    pub rationale: String,
    pub title: Option<String>,
    pub source: super::review::ReviewSource,
    /// What was read in another way than given, for the item's report.
    pub warnings: Vec<String>,
}

/// The text of a value: a string, the first string of an array, or the
/// `name` of an object (or of an array's first object).
fn text_of(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Array(list) => return list.iter().find_map(text_of),
        Value::Object(map) => return map.get("name").and_then(text_of),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

fn field<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for key in path {
        cur = match cur {
            Value::Array(list) => list.first()?.get(key)?,
            other => other.get(key)?,
        };
    }
    Some(cur)
}

/// Reads one ClaimReview as fact-checkers publish it. Every problem of the
/// record is reported at once; a problem is a defect of the record that
/// leaves nothing to store (no claim text, no URL to know it by again, no
/// rating that can be read). What can be read another way is read and
/// named in `warnings`. `page` is the page the markup came from, for
/// relative URLs.
pub fn read_item(item: &Value, page: Option<&str>) -> Result<ReadItem, Vec<(String, String)>> {
    let mut problems: Vec<(String, String)> = Vec::new();
    let mut warnings = Vec::new();
    let mut problem = |field: &str, message: String| problems.push((field.to_owned(), message));
    if !item.is_object() {
        return Err(vec![("item".into(), "is not a JSON object".into())]);
    }
    match item.get("@type").and_then(Value::as_str) {
        None | Some("ClaimReview") => {}
        Some(kind) => problem("@type", format!("expected ClaimReview, found {kind}")),
    }
    let claimed = match item.get("claimReviewed").and_then(Value::as_str) {
        Some(text) if text.trim().is_empty() => {
            problem("claimReviewed", "is empty: there is no claim to log".into());
            None
        }
        Some(text) if text.contains('\0') => {
            problem("claimReviewed", "holds NUL characters".into());
            None
        }
        Some(text) if text.chars().count() > super::validation::MAX_CLAIM_TEXT => {
            problem(
                "claimReviewed",
                format!(
                    "is longer than {} characters",
                    super::validation::MAX_CLAIM_TEXT
                ),
            );
            None
        }
        Some(text) => Some(text.to_owned()),
        None => {
            problem(
                "claimReviewed",
                "is missing: there is no claim to log".into(),
            );
            None
        }
    };
    // The record's own address, when it gives one, resolves a relative url.
    let own = ["mainEntityOfPage", "@id"]
        .iter()
        .filter_map(|k| item.get(*k))
        .filter_map(|v| v.as_str().or_else(|| v.get("@id").and_then(Value::as_str)))
        .find(|u| url::Url::parse(u).is_ok());
    let url = match item.get("url").and_then(text_of) {
        None => {
            problem(
                "url",
                "is missing: without it the review cannot be known again on re-import".into(),
            );
            None
        }
        Some(given) => match resolve_url(&given, page.or(own)) {
            Ok(url) => {
                if url != given {
                    warnings.push(format!("url {given:?} read as {url}"));
                }
                Some(url)
            }
            Err(e) => {
                problem("url", e);
                None
            }
        },
    };
    let rating = item.get("reviewRating").map(|r| match r {
        Value::Array(list) => list.first().cloned().unwrap_or(Value::Null),
        other => other.clone(),
    });
    let verdict = match &rating {
        None | Some(Value::Null) => {
            problem("reviewRating", "is missing".into());
            None
        }
        Some(r) => match read_rating(r) {
            Ok(read) => {
                warnings.extend(read.warning);
                Some(read.verdict)
            }
            Err(e) => {
                problem("reviewRating", e);
                None
            }
        },
    };
    let claimant = field(item, &["itemReviewed", "author"]).and_then(|author| {
        let name = text_of(author)?;
        let kind = field(author, &["@type"])
            .and_then(Value::as_str)
            .unwrap_or("Person")
            .to_owned();
        let job = field(author, &["jobTitle"]).and_then(text_of);
        Some((name, kind, job))
    });
    if claimant.is_none() {
        warnings.push(
            "the record names no claimant: the claim is attributed to an unknown speaker".into(),
        );
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let (Some(claimed), Some(url), Some(verdict), Some(rating)) = (claimed, url, verdict, rating)
    else {
        unreachable!("every missing part was reported as a problem");
    };
    let author = item
        .get("author")
        .or_else(|| item.get("publisher"))
        .cloned();
    let reviewer = author
        .as_ref()
        .and_then(text_of)
        .unwrap_or_else(|| "an outside fact-checker".into());
    let rating_words = ["alternateName", "name"]
        .iter()
        .find_map(|k| rating.get(*k).and_then(text_of))
        .unwrap_or_else(|| verdict.to_string());
    let rationale = ["reviewBody", "description"]
        .iter()
        .find_map(|k| item.get(*k).and_then(text_of))
        .unwrap_or_else(|| format!("Rated \"{rating_words}\" by {reviewer}."));
    let language = item.get("inLanguage").and_then(|l| match l {
        Value::Object(map) => map
            .get("alternateName")
            .or_else(|| map.get("name"))
            .and_then(text_of),
        other => text_of(other),
    });
    let mut document = item.clone();
    document["url"] = Value::String(url.clone());
    Ok(ReadItem {
        claimed,
        verdict,
        claimant,
        rationale: format!("{rationale} (imported from {reviewer})"),
        title: item
            .get("headline")
            .or_else(|| item.get("name"))
            .and_then(text_of),
        source: super::review::ReviewSource {
            url,
            author,
            date_published: item.get("datePublished").and_then(text_of),
            rating,
            language,
            document,
        },
        reviewer,
        warnings,
    })
}

fn is_claim_review(v: &Value) -> bool {
    match v.get("@type") {
        Some(Value::String(t)) => t == "ClaimReview",
        Some(Value::Array(types)) => types.iter().any(|t| t == "ClaimReview"),
        _ => false,
    }
}

/// The ClaimReview objects in a document: one, an array, or a DataFeed whose
/// `dataFeedElement` items hold them (directly or under `item`).
pub fn items(document: &Value) -> Vec<Value> {
    fn collect(v: &Value, out: &mut Vec<Value>) {
        match v {
            Value::Array(list) => list.iter().for_each(|x| collect(x, out)),
            Value::Object(map) => {
                let kind = map.get("@type").and_then(Value::as_str).unwrap_or("");
                if let Some(graph) = map.get("@graph") {
                    // A page's graph also holds its WebPage, Organization,
                    // BreadcrumbList…: only its reviews are items.
                    let mut all = Vec::new();
                    collect(graph, &mut all);
                    out.extend(all.into_iter().filter(is_claim_review));
                } else if kind == "DataFeed" {
                    if let Some(elements) = map.get("dataFeedElement") {
                        collect(elements, out);
                    }
                } else if kind == "DataFeedItem" {
                    if let Some(item) = map.get("item") {
                        collect(item, out);
                    }
                } else {
                    out.push(v.clone());
                }
            }
            _ => out.push(v.clone()),
        }
    }
    let mut out = Vec::new();
    collect(document, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn verdict(rating: Value) -> Option<Verdict> {
        read_rating(&rating).ok().map(|r| r.verdict)
    }

    #[test]
    fn ratings_are_read_from_words_in_many_languages() {
        for (words, expected) in [
            ("Pants on Fire!", Verdict::False),
            ("Half-True", Verdict::Mixed),
            ("Falso", Verdict::False),
            ("FALSO", Verdict::False),
            ("Engañoso", Verdict::Misleading),
            ("Faux", Verdict::False),
            ("Plutôt vrai", Verdict::MostlyTrue),
            ("錯誤", Verdict::False),
            ("زائف", Verdict::False),
            ("Mixto", Verdict::Mixed),
            ("Irreführend", Verdict::Misleading),
            ("Fuorviante", Verdict::Misleading),
            ("誤り", Verdict::False),
            ("भ्रामक", Verdict::Misleading),
            ("Hoaks", Verdict::False),
            ("Sem contexto", Verdict::Misleading),
            ("False: the photo is from 2019", Verdict::False),
            ("Mostly False", Verdict::MostlyFalse),
        ] {
            assert_eq!(
                verdict(json!({ "alternateName": words })),
                Some(expected),
                "{words}"
            );
        }
        assert_eq!(verdict(json!({ "alternateName": "Falsetto" })), None);
    }

    #[test]
    fn numbers_are_read_on_any_scale_either_way_round() {
        let rating = |v: Value, best: Value, worst: Value| {
            verdict(json!({ "ratingValue": v, "bestRating": best, "worstRating": worst }))
        };
        assert_eq!(rating(json!(1), json!(5), json!(1)), Some(Verdict::False));
        assert_eq!(
            rating(json!("4"), json!("5"), json!("1")),
            Some(Verdict::MostlyTrue)
        );
        assert_eq!(rating(json!(10), json!(10), json!(0)), Some(Verdict::True));
        // Inverted: 1 is the best, 6 the worst.
        assert_eq!(rating(json!(6), json!(1), json!(6)), Some(Verdict::False));
        assert_eq!(rating(json!(1), json!(1), json!(6)), Some(Verdict::True));
        assert_eq!(
            rating(json!("2,5"), json!(5), json!(0)),
            Some(Verdict::Mixed)
        );
        assert!(read_rating(&json!({ "ratingValue": 9, "bestRating": 5 })).is_err());
        assert!(
            read_rating(&json!({ "ratingValue": 3, "bestRating": 3, "worstRating": 3 })).is_err()
        );
        assert!(read_rating(&json!({})).is_err());
    }

    #[test]
    fn when_words_and_number_disagree_the_words_win_with_a_warning() {
        let read = read_rating(&json!({ "alternateName": "Falso", "ratingValue": 5, "bestRating": 5, "worstRating": 1 }))
            .unwrap();
        assert_eq!(read.verdict, Verdict::False);
        assert!(read.warning.unwrap().contains("words were used"));
        let agree =
            read_rating(&json!({ "alternateName": "Verdadero", "ratingValue": 5 })).unwrap();
        assert_eq!(agree.warning, None);
        let unknown = read_rating(
            &json!({ "alternateName": "Chiffre invérifiable à ce jour", "ratingValue": 1 }),
        )
        .unwrap();
        assert_eq!(unknown.verdict, Verdict::False);
        assert!(unknown.warning.is_some());
    }

    #[test]
    fn no_label_of_the_vocabulary_means_two_verdicts() {
        let mut seen: std::collections::HashMap<&str, Verdict> = std::collections::HashMap::new();
        for (label, verdict) in RATING_LABELS.iter() {
            if let Some(other) = seen.insert(label, *verdict) {
                assert_eq!(other, *verdict, "{label}");
            }
        }
        assert!(RATING_LABELS.len() > 200);
    }

    #[test]
    fn relative_urls_resolve_against_the_page() {
        assert_eq!(
            resolve_url(
                "/fact-check/123",
                Some("https://checker.example/es/noticias/")
            )
            .unwrap(),
            "https://checker.example/fact-check/123"
        );
        assert_eq!(
            resolve_url("nota-7", Some("https://checker.example/es/noticias/")).unwrap(),
            "https://checker.example/es/noticias/nota-7"
        );
        assert!(resolve_url("/fact-check/123", None).is_err());
        assert!(resolve_url("https://checker.example/a", None).is_ok());
        assert_eq!(
            resolve_url("HTTPS://Checker.Example/roundup#claim-3", None).unwrap(),
            "https://checker.example/roundup#claim-3"
        );
    }

    #[test]
    fn items_come_from_objects_arrays_and_feeds() {
        let one = json!({ "@type": "ClaimReview", "claimReviewed": "a" });
        assert_eq!(items(&one).len(), 1);
        assert_eq!(items(&json!([one, one])).len(), 2);
        let feed = json!({ "@type": "DataFeed", "dataFeedElement": [
            { "@type": "DataFeedItem", "item": [one, one] }, { "@type": "DataFeedItem", "item": one } ] });
        assert_eq!(items(&feed).len(), 3);
    }

    #[test]
    fn every_verdict_round_trips_through_its_rating() {
        for v in Verdict::ALL {
            let (value, name) = v.rating();
            let rating = match value {
                Some(n) => {
                    json!({ "ratingValue": n, "bestRating": 5, "worstRating": 1, "alternateName": name })
                }
                None => json!({ "alternateName": name }),
            };
            assert_eq!(verdict(rating), Some(*v), "{v}");
        }
    }
}
