//! Claims: attributed statements, their state, and how a change produces the
//! next revision.

use serde::Deserialize;

pub use super::status::ClaimStatus;
use super::text_enum;
use super::validation::{MAX_CLAIM_TEXT, MAX_SHORT_TEXT, Validator, objects};
use super::when::{SaidWhen, SaidWhenInput};
use crate::error::{AppError, AppResult};

/// Most appearances one claim revision may list.
pub const MAX_APPEARANCES: usize = 200;
/// Most hedge cues one claim may carry.
pub const MAX_HEDGES: usize = 50;

text_enum! {
    /// How the article attributes the statement.
    ClaimKind {
        DirectQuote => "direct_quote",
        Paraphrase => "paraphrase",
        Assertion => "assertion",
    }
}

text_enum! {
    /// What became of an appearance when its article was revised.
    AppearanceState {
        Present => "present",
        Altered => "altered",
        Removed => "removed",
        Restored => "restored",
    }
}

/// Warnings for a direct quote whose spans do not hold its words (offsets
/// off by a few characters, or the wrong copy): the claim is stored, since
/// a reporter may quote a translation or an abridged sentence, but the
/// answer says which appearance to check. Compared by match key (case,
/// quote marks and spacing aside); other kinds paraphrase and get none.
pub fn quote_warnings(kind: ClaimKind, text: &str, excerpts: &[&str]) -> Vec<String> {
    if kind != ClaimKind::DirectQuote {
        return Vec::new();
    }
    let quoted = crate::domain::text::match_key(text);
    let quoted = quoted.trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace());
    excerpts
        .iter()
        .enumerate()
        .filter(|(_, excerpt)| !crate::domain::text::match_key(excerpt).contains(quoted))
        .map(|(i, excerpt)| {
            format!(
                "appearances[{i}]: the excerpt {excerpt:?} does not contain the quoted words; check the span"
            )
        })
        .collect()
}

/// A span named by a request: an article, optionally one of its revisions
/// (the current one when absent), and code-point offsets, end exclusive.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppearanceInput {
    #[schema(minimum = 1)]
    pub article_id: i64,
    #[schema(minimum = 1)]
    pub article_revision: Option<i32>,
    #[schema(minimum = 0)]
    pub start: i64,
    #[schema(minimum = 0)]
    pub end: i64,
}

/// A span resolved to a concrete article revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Appearance {
    pub article_id: i64,
    pub article_revision: i32,
    pub start: i32,
    pub end: i32,
}

/// What storage knows about the article revision a span points into.
#[derive(Debug, Clone, Copy)]
pub struct SpanTarget {
    pub article_id: i64,
    pub article_revision: i32,
    pub story_id: i64,
    pub body_chars: i32,
}

/// Checks a span against the body it points into. Offsets count code points.
pub fn check_span(
    field: &str,
    input: &AppearanceInput,
    target: &SpanTarget,
    claim_story_id: i64,
    v: &mut Validator,
) -> Option<Appearance> {
    let mut ok = true;
    if target.story_id != claim_story_id {
        v.error(
            format!("{field}.article_id"),
            format!(
                "article {} belongs to story {}, not to the claim's story {claim_story_id}",
                target.article_id, target.story_id
            ),
        );
        ok = false;
    }
    if input.start < 0 {
        v.error(format!("{field}.start"), "must not be negative");
        ok = false;
    }
    if input.end <= input.start {
        v.error(
            format!("{field}.end"),
            "must be greater than start (end is exclusive)",
        );
        ok = false;
    }
    if input.end > i64::from(target.body_chars) || input.start >= i64::from(target.body_chars) {
        v.error(
            format!("{field}.end"),
            format!(
                "span [{}, {}) lies outside revision {} of article {}, whose body has {} characters",
                input.start, input.end, target.article_revision, target.article_id, target.body_chars
            ),
        );
        ok = false;
    }
    ok.then_some(Appearance {
        article_id: target.article_id,
        article_revision: target.article_revision,
        // Both fit: they were compared with an i32 body length above.
        start: input.start as i32,
        end: input.end as i32,
    })
}

/// Every field of a claim that a revision snapshots, except its appearances.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimFields {
    pub story_id: i64,
    pub speaker_id: i64,
    pub text: String,
    pub kind: ClaimKind,
    pub cue: Option<String>,
    pub when: Option<SaidWhen>,
    pub confidence: Option<f64>,
    pub hedges: Vec<String>,
    pub status: ClaimStatus,
    /// Set when an article edit altered or removed the claim's supporting text.
    pub needs_review: bool,
}

/// A claim as of one revision: its fields and where it appears.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimState {
    pub fields: ClaimFields,
    /// Sorted and without duplicates, so that equal sets compare equal.
    pub appearances: Vec<Appearance>,
}

pub fn normalize_appearances(mut list: Vec<Appearance>) -> Vec<Appearance> {
    list.sort();
    list.dedup();
    list
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClaim {
    #[schema(minimum = 1)]
    pub story_id: i64,
    /// The speaker by id, or by `speaker`: a name, alias, or role and name
    /// ("Prime Minister Fumio Kishida"), resolved before validation.
    #[schema(minimum = 1)]
    pub speaker_id: Option<i64>,
    pub speaker: Option<String>,
    #[schema(min_length = 1)]
    pub text: String,
    pub kind: ClaimKind,
    pub cue: Option<String>,
    #[serde(default, deserialize_with = "objects::option")]
    pub when: Option<SaidWhenInput>,
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub confidence: Option<f64>,
    #[serde(default)]
    pub hedges: Vec<String>,
    #[serde(default, deserialize_with = "objects::vec")]
    pub appearances: Vec<AppearanceInput>,
}

/// A new claim whose own fields are valid; its appearances still need the
/// articles they point into.
#[derive(Debug, Clone)]
pub struct ValidNewClaim {
    pub fields: ClaimFields,
    pub appearances: Vec<AppearanceInput>,
}

/// A confidence between 0 and 1; `-0` is 0 (JSON can write it, and it
/// would come back as `-0.0`).
fn check_confidence(v: &mut Validator, value: Option<f64>) -> Option<f64> {
    let c = value?;
    v.check(
        c.is_finite() && (0.0..=1.0).contains(&c),
        "confidence",
        format!("must be between 0 and 1 (got {c})"),
    );
    Some(c + 0.0)
}

fn check_appearance_count(v: &mut Validator, list: &[AppearanceInput]) {
    if list.len() > MAX_APPEARANCES {
        v.error(
            "appearances",
            format!("must have at most {MAX_APPEARANCES} entries"),
        );
    }
    for (i, a) in list.iter().enumerate() {
        v.id(&format!("appearances[{i}].article_id"), a.article_id);
    }
}

impl NewClaim {
    /// The speaker's name to look up, when the claim names its speaker by
    /// name rather than by id. Naming it both ways is refused: which one
    /// would win is a guess.
    pub fn speaker_name_to_resolve(&self) -> AppResult<Option<&str>> {
        match (self.speaker_id, self.speaker.as_deref()) {
            (Some(_), Some(_)) => Err(AppError::invalid(
                "speaker",
                "name the speaker either by `speaker_id` or by `speaker`, not both",
            )),
            (None, Some(name)) => Ok(Some(name.trim())),
            _ => Ok(None),
        }
    }

    pub fn validate(self) -> AppResult<ValidNewClaim> {
        let mut v = Validator::new();
        v.id("story_id", self.story_id);
        let speaker_id = match self.speaker_id {
            Some(id) => {
                v.id("speaker_id", id);
                id
            }
            None => {
                v.error(
                    "speaker_id",
                    "is required (or name the speaker in `speaker`)",
                );
                0
            }
        };
        let text = v.required_text("text", &self.text, MAX_CLAIM_TEXT);
        let cue = v.optional_text("cue", self.cue.as_deref(), MAX_SHORT_TEXT);
        let when = self.when.and_then(|w| w.validate("when", &mut v));
        let confidence = check_confidence(&mut v, self.confidence);
        let hedges = v.text_list("hedges", &self.hedges, MAX_HEDGES);
        check_appearance_count(&mut v, &self.appearances);
        v.finish()?;
        Ok(ValidNewClaim {
            fields: ClaimFields {
                story_id: self.story_id,
                speaker_id,
                text,
                kind: self.kind,
                cue,
                when,
                confidence,
                hedges,
                status: ClaimStatus::LOGGED,
                needs_review: false,
            },
            appearances: self.appearances,
        })
    }
}

/// A PATCH body: any field of a new claim, plus the reason for the change.
/// Absent fields are kept; `null` clears an optional field.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimPatch {
    #[schema(minimum = 1)]
    pub story_id: Option<i64>,
    #[schema(minimum = 1)]
    pub speaker_id: Option<i64>,
    #[schema(min_length = 1)]
    pub text: Option<String>,
    pub kind: Option<ClaimKind>,
    #[serde(default, deserialize_with = "super::validation::present")]
    pub cue: Option<Option<String>>,
    #[serde(default, deserialize_with = "objects::present_option")]
    pub when: Option<Option<SaidWhenInput>>,
    #[serde(default, deserialize_with = "super::validation::present")]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub confidence: Option<Option<f64>>,
    pub hedges: Option<Vec<String>>,
    /// Replaces the whole set of appearances.
    #[serde(default, deserialize_with = "objects::option_vec")]
    pub appearances: Option<Vec<AppearanceInput>>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ValidClaimPatch {
    pub story_id: Option<i64>,
    pub speaker_id: Option<i64>,
    pub text: Option<String>,
    pub kind: Option<ClaimKind>,
    pub cue: Option<Option<String>>,
    pub when: Option<Option<SaidWhen>>,
    pub confidence: Option<Option<f64>>,
    pub hedges: Option<Vec<String>>,
    pub appearances: Option<Vec<AppearanceInput>>,
    pub reason: String,
}

impl ClaimPatch {
    pub fn validate(self) -> AppResult<ValidClaimPatch> {
        let mut v = Validator::new();
        if let Some(id) = self.story_id {
            v.id("story_id", id);
        }
        if let Some(id) = self.speaker_id {
            v.id("speaker_id", id);
        }
        let text = self
            .text
            .map(|t| v.required_text("text", &t, MAX_CLAIM_TEXT));
        let cue = self
            .cue
            .map(|c| v.optional_text("cue", c.as_deref(), MAX_SHORT_TEXT));
        let when = self
            .when
            .map(|w| w.and_then(|w| w.validate("when", &mut v)));
        let confidence = self.confidence.map(|c| check_confidence(&mut v, c));
        let hedges = self.hedges.map(|h| v.text_list("hedges", &h, MAX_HEDGES));
        if let Some(list) = &self.appearances {
            check_appearance_count(&mut v, list);
        }
        // Every revision says why it exists; a correction without a reason
        // cannot be audited later.
        let reason = match self.reason.as_deref() {
            None => {
                v.error("reason", "is required: say why the claim changes");
                String::new()
            }
            Some(r) => v.required_text("reason", r, MAX_SHORT_TEXT),
        };
        v.finish()?;
        Ok(ValidClaimPatch {
            story_id: self.story_id,
            speaker_id: self.speaker_id,
            text,
            kind: self.kind,
            cue,
            when,
            confidence,
            hedges,
            appearances: self.appearances,
            reason,
        })
    }
}

/// The result of applying a change to a claim.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimChange {
    pub next: ClaimState,
    /// Names of the fields whose value differs, in a fixed order. Empty means
    /// the change is a no-op and no revision is written.
    pub changed_fields: Vec<&'static str>,
}

impl ClaimChange {
    pub fn is_noop(&self) -> bool {
        self.changed_fields.is_empty()
    }

    pub fn appearances_changed(&self) -> bool {
        self.changed_fields.contains(&"appearances")
    }
}

impl ClaimState {
    /// Applies a validated patch. `appearances` is the patch's appearance list
    /// already resolved against the articles (None when the patch has none).
    pub fn apply(
        &self,
        patch: &ValidClaimPatch,
        appearances: Option<Vec<Appearance>>,
    ) -> AppResult<ClaimChange> {
        if let Some(story_id) = patch.story_id
            && story_id != self.fields.story_id
        {
            return Err(AppError::invalid(
                "story_id",
                format!(
                    "a claim cannot move from story {} to story {story_id}; log it in that story instead",
                    self.fields.story_id
                ),
            ));
        }
        let mut next = self.clone();
        let mut changed = Vec::new();
        macro_rules! set {
            ($name:literal, $target:expr, $value:expr) => {
                if let Some(value) = $value {
                    if $target != value {
                        $target = value;
                        changed.push($name);
                    }
                }
            };
        }
        set!("speaker_id", next.fields.speaker_id, patch.speaker_id);
        set!("text", next.fields.text, patch.text.clone());
        set!("kind", next.fields.kind, patch.kind);
        set!("cue", next.fields.cue, patch.cue.clone());
        set!("when", next.fields.when, patch.when.clone());
        set!("confidence", next.fields.confidence, patch.confidence);
        set!("hedges", next.fields.hedges, patch.hedges.clone());
        set!(
            "appearances",
            next.appearances,
            appearances.map(normalize_appearances)
        );
        // A verdict was given on other words: changing them re-opens the claim.
        if changed.iter().any(|f| matches!(*f, "text" | "appearances"))
            && super::status::is_judged(next.fields.status)
        {
            let reopened = super::status::reopened(next.fields.status);
            set!("status", next.fields.status, Some(reopened));
            set!("needs_review", next.fields.needs_review, Some(true));
        }
        Ok(ClaimChange {
            next,
            changed_fields: changed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_direct_quote_whose_span_misses_its_words_is_flagged() {
        let text = "“We will rebuild the bridge”";
        assert!(
            quote_warnings(
                ClaimKind::DirectQuote,
                text,
                &["we will rebuild the  bridge"]
            )
            .is_empty()
        );
        let warnings = quote_warnings(
            ClaimKind::DirectQuote,
            text,
            &["We will rebuild the bridge", "e will rebuild the brid"],
        );
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("appearances[1]:"), "{warnings:?}");
        assert!(quote_warnings(ClaimKind::Paraphrase, text, &["something else"]).is_empty());
    }

    fn state() -> ClaimState {
        ClaimState {
            fields: ClaimFields {
                story_id: 1,
                speaker_id: 7,
                text: "Japan held several informal contacts this spring".into(),
                kind: ClaimKind::Paraphrase,
                cue: Some("said".into()),
                when: None,
                confidence: Some(0.6),
                hedges: vec!["sources said".into()],
                status: ClaimStatus::Unverified,
                needs_review: false,
            },
            appearances: vec![Appearance {
                article_id: 3,
                article_revision: 1,
                start: 0,
                end: 40,
            }],
        }
    }

    fn patch(json: &str) -> ValidClaimPatch {
        serde_json::from_str::<ClaimPatch>(json)
            .unwrap()
            .validate()
            .unwrap()
    }

    #[test]
    fn a_patch_that_repeats_current_values_is_a_noop() {
        let change = state()
            .apply(
                &patch(r#"{"speaker_id": 7, "cue": "said", "reason": "re-check"}"#),
                None,
            )
            .unwrap();
        assert!(change.is_noop());
        assert_eq!(change.next, state());
    }

    #[test]
    fn changed_fields_are_named_and_null_clears() {
        let change = state()
            .apply(
                &patch(r#"{"speaker_id": 8, "confidence": null, "reason": "wrong speaker"}"#),
                None,
            )
            .unwrap();
        assert_eq!(change.changed_fields, ["speaker_id", "confidence"]);
        assert_eq!(change.next.fields.speaker_id, 8);
        assert_eq!(change.next.fields.confidence, None);
        assert_eq!(change.next.fields.cue.as_deref(), Some("said"));
    }

    #[test]
    fn appearance_order_does_not_make_a_change() {
        let mut s = state();
        s.appearances.push(Appearance {
            article_id: 4,
            article_revision: 2,
            start: 5,
            end: 9,
        });
        s.appearances = normalize_appearances(s.appearances);
        let reversed: Vec<_> = s.appearances.iter().rev().copied().collect();
        let change = s
            .apply(&patch(r#"{"reason": "same spans"}"#), Some(reversed))
            .unwrap();
        assert!(change.is_noop());
    }

    #[test]
    fn editing_the_text_of_a_judged_claim_reopens_it() {
        let mut judged = state();
        judged.fields.status = ClaimStatus::Verified;
        let change = judged
            .apply(&patch(r#"{"text": "Other words", "reason": "r"}"#), None)
            .unwrap();
        assert_eq!(change.changed_fields, ["text", "status", "needs_review"]);
        assert_eq!(change.next.fields.status, ClaimStatus::Unverified);
        let cue_only = judged
            .apply(&patch(r#"{"cue": "told reporters", "reason": "r"}"#), None)
            .unwrap();
        assert_eq!(cue_only.next.fields.status, ClaimStatus::Verified);
        let unjudged = state()
            .apply(&patch(r#"{"text": "Other words", "reason": "r"}"#), None)
            .unwrap();
        assert_eq!(unjudged.changed_fields, ["text"]);
    }

    #[test]
    fn a_claim_cannot_change_story() {
        assert!(
            state()
                .apply(&patch(r#"{"story_id": 2, "reason": "move"}"#), None)
                .is_err()
        );
    }

    #[test]
    fn a_patch_needs_a_reason_and_valid_values() {
        let err = serde_json::from_str::<ClaimPatch>(r#"{"text": " "}"#)
            .unwrap()
            .validate()
            .unwrap_err();
        let AppError::Validation(errors) = err else {
            panic!()
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["text", "reason"]);
        let err = serde_json::from_str::<ClaimPatch>(r#"{"confidence": 1.7, "reason": "x"}"#)
            .unwrap()
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("confidence"));
    }

    #[test]
    fn spans_must_lie_inside_the_body_and_the_story() {
        let target = SpanTarget {
            article_id: 3,
            article_revision: 1,
            story_id: 1,
            body_chars: 100,
        };
        let span = |start, end| AppearanceInput {
            article_id: 3,
            article_revision: None,
            start,
            end,
        };
        let mut v = Validator::new();
        assert!(check_span("a", &span(0, 100), &target, 1, &mut v).is_some());
        assert!(v.finish().is_ok());
        for (start, end) in [(0, 101), (-1, 5), (10, 10), (20, 10), (100, 101)] {
            let mut v = Validator::new();
            assert!(
                check_span("a", &span(start, end), &target, 1, &mut v).is_none(),
                "{start}..{end}"
            );
            assert!(v.finish().is_err());
        }
        let mut v = Validator::new();
        assert!(check_span("a", &span(0, 5), &target, 2, &mut v).is_none());
    }
}
