//! schema.org ClaimReview: the verdict mapping, reading items from the
//! shapes fact-checkers publish (one ClaimReview, an array, a DataFeed).

use serde_json::Value;

use super::review::Verdict;
use super::speaker::SpeakerKind;

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

/// A verdict from a review rating: the rating's name when it is one of the
/// usual ones, else its value placed on the 1–5 scale between worst and best.
pub fn verdict_of(rating: &Value) -> Option<Verdict> {
    if let Some(name) = rating.get("alternateName").and_then(Value::as_str) {
        let name: String = name
            .to_lowercase()
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .collect();
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        let by_name = match name.as_str() {
            "true" | "correct" | "accurate" => Some(Verdict::True),
            "mostly true" | "mostly correct" | "largely accurate" => Some(Verdict::MostlyTrue),
            "mixed" | "half true" | "half truth" | "mixture" | "partly true" | "partly false" => {
                Some(Verdict::Mixed)
            }
            "mostly false" | "barely true" | "largely inaccurate" => Some(Verdict::MostlyFalse),
            "false" | "pants on fire" | "pants fire" | "incorrect" | "fake" | "wrong" => {
                Some(Verdict::False)
            }
            "misleading" | "missing context" | "out of context" | "distorts the facts" => {
                Some(Verdict::Misleading)
            }
            "unverifiable" | "unproven" | "unsupported" | "no evidence" => {
                Some(Verdict::Unverifiable)
            }
            _ => None,
        };
        if by_name.is_some() {
            return by_name;
        }
    }
    let number = |key: &str| {
        rating.get(key).and_then(|v| {
            v.as_f64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        })
    };
    let value = number("ratingValue")?;
    let best = number("bestRating").unwrap_or(5.0);
    let worst = number("worstRating").unwrap_or(1.0);
    if best <= worst || value < worst || value > best {
        return None;
    }
    let scaled = 1.0 + 4.0 * (value - worst) / (best - worst);
    Some(match scaled.round() as i64 {
        5 => Verdict::True,
        4 => Verdict::MostlyTrue,
        3 => Verdict::Mixed,
        2 => Verdict::MostlyFalse,
        _ => Verdict::False,
    })
}

/// The ClaimReview objects in a document: one, an array, or a DataFeed whose
/// `dataFeedElement` items hold them (directly or under `item`).
pub fn items(document: &Value) -> Vec<Value> {
    fn collect(v: &Value, out: &mut Vec<Value>) {
        match v {
            Value::Array(list) => list.iter().for_each(|x| collect(x, out)),
            Value::Object(map) => {
                let kind = map.get("@type").and_then(Value::as_str).unwrap_or("");
                if kind == "DataFeed" {
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

    #[test]
    fn ratings_map_by_name_or_by_scale() {
        assert_eq!(
            verdict_of(&json!({ "alternateName": "Pants on Fire!" })),
            Some(Verdict::False)
        );
        assert_eq!(
            verdict_of(&json!({ "alternateName": "Half-True" })),
            Some(Verdict::Mixed)
        );
        assert_eq!(
            verdict_of(&json!({ "ratingValue": 1, "bestRating": 5, "worstRating": 1 })),
            Some(Verdict::False)
        );
        assert_eq!(
            verdict_of(&json!({ "ratingValue": "4", "bestRating": "5", "worstRating": "1" })),
            Some(Verdict::MostlyTrue)
        );
        assert_eq!(
            verdict_of(&json!({ "ratingValue": 10, "bestRating": 10, "worstRating": 0 })),
            Some(Verdict::True)
        );
        assert_eq!(
            verdict_of(&json!({ "ratingValue": 9, "bestRating": 5 })),
            None
        );
        assert_eq!(verdict_of(&json!({})), None);
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
            assert_eq!(verdict_of(&rating), Some(*v), "{v}");
        }
    }
}
