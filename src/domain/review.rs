//! Reviews: a reviewer's verdict on one claim revision, with evidence.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::claim::ClaimStatus;
use super::text_enum;
use super::validation::{MAX_SHORT_TEXT, Validator, objects};
use crate::error::AppResult;

text_enum! {
    /// The verdict vocabulary; each maps to a ClaimReview rating.
    Verdict {
        True => "true",
        MostlyTrue => "mostly_true",
        Mixed => "mixed",
        MostlyFalse => "mostly_false",
        False => "false",
        Misleading => "misleading",
        Unverifiable => "unverifiable",
    }
}

impl Verdict {
    /// The claim status a verdict puts the claim in.
    pub fn status(self) -> ClaimStatus {
        match self {
            Verdict::True | Verdict::MostlyTrue => ClaimStatus::Verified,
            Verdict::False | Verdict::MostlyFalse => ClaimStatus::False,
            Verdict::Mixed | Verdict::Misleading => ClaimStatus::Disputed,
            Verdict::Unverifiable => ClaimStatus::Unverifiable,
        }
    }

    /// schema.org ClaimReview rating on a 1 (false) – 5 (true) scale, with its
    /// name; misleading and unverifiable have no place on the scale.
    pub fn rating(self) -> (Option<u8>, &'static str) {
        match self {
            Verdict::True => (Some(5), "True"),
            Verdict::MostlyTrue => (Some(4), "Mostly true"),
            Verdict::Mixed => (Some(3), "Mixed"),
            Verdict::MostlyFalse => (Some(2), "Mostly false"),
            Verdict::False => (Some(1), "False"),
            Verdict::Misleading => (None, "Misleading"),
            Verdict::Unverifiable => (None, "Unverifiable"),
        }
    }
}

/// One piece of evidence: where it is, and what it says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    #[schema(pattern = "^[Hh][Tt][Tt][Pp][Ss]?://[^\\s]+$")]
    pub url: String,
    pub title: Option<String>,
    /// The quoted passage that supports the verdict.
    pub excerpt: Option<String>,
    pub accessed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReview {
    pub verdict: Verdict,
    #[schema(min_length = 1)]
    pub rationale: String,
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub reviewer_confidence: Option<f64>,
    #[serde(default, deserialize_with = "objects::vec")]
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone)]
pub struct ValidReview {
    pub verdict: Verdict,
    pub rationale: String,
    pub reviewer_confidence: Option<f64>,
    pub evidence: Vec<Evidence>,
    /// Where a review imported from a fact-checker came from; none for a
    /// review made in claimtrail.
    pub source: Option<ReviewSource>,
}

/// A fact-checker's review as published (schema.org ClaimReview), kept with
/// the review made from it: its URL identifies it on re-import, and its
/// export gives back `document`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewSource {
    /// Absolute and normalized (a relative one resolved against the page).
    pub url: String,
    /// `author` (or `publisher`) as given.
    pub author: Option<serde_json::Value>,
    /// `datePublished` as given.
    pub date_published: Option<String>,
    /// `reviewRating` as given: the words, the value and its scale.
    pub rating: serde_json::Value,
    /// `inLanguage`.
    pub language: Option<String>,
    /// The whole record as given (with its URL resolved).
    pub document: serde_json::Value,
}

impl NewReview {
    pub fn validate(self) -> AppResult<ValidReview> {
        let mut v = Validator::new();
        let rationale = v.required_text("rationale", &self.rationale, 20_000);
        if let Some(c) = self.reviewer_confidence {
            v.check(
                (0.0..=1.0).contains(&c),
                "reviewer_confidence",
                "must be between 0 and 1",
            );
        }
        if self.evidence.len() > 50 {
            v.error("evidence", "must have at most 50 entries");
        }
        let mut evidence = Vec::with_capacity(self.evidence.len());
        for (i, e) in self.evidence.into_iter().enumerate() {
            let url = match super::article::normalize_url(e.url.trim()) {
                Ok(url) => url,
                Err(message) => {
                    v.error(format!("evidence[{i}].url"), message);
                    continue;
                }
            };
            let title = v.optional_text(
                &format!("evidence[{i}].title"),
                e.title.as_deref(),
                MAX_SHORT_TEXT,
            );
            let excerpt = v.optional_text(
                &format!("evidence[{i}].excerpt"),
                e.excerpt.as_deref(),
                5_000,
            );
            if let Some(t) = &e.accessed_at {
                v.timestamp(&format!("evidence[{i}].accessed_at"), t);
            }
            evidence.push(Evidence {
                url,
                title,
                excerpt,
                accessed_at: e.accessed_at,
            });
        }
        v.finish()?;
        Ok(ValidReview {
            verdict: self.verdict,
            rationale,
            // -0 is 0 (it would come back as -0.0).
            reviewer_confidence: self.reviewer_confidence.map(|c| c + 0.0),
            evidence,
            source: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_map_to_statuses_and_ratings() {
        assert_eq!(Verdict::MostlyTrue.status(), ClaimStatus::Verified);
        assert_eq!(Verdict::Misleading.status(), ClaimStatus::Disputed);
        assert_eq!(Verdict::True.rating(), (Some(5), "True"));
        assert_eq!(Verdict::Unverifiable.rating().0, None);
    }

    #[test]
    fn evidence_needs_a_web_url() {
        let review: NewReview = serde_json::from_str(
            r#"{"verdict": "false", "rationale": "The ministry's list names 18.",
                "evidence": [{"url": "ftp://x.example/a"}]}"#,
        )
        .unwrap();
        let err = review.validate().unwrap_err();
        assert!(err.to_string().contains("evidence[0].url"), "{err}");
    }
}
