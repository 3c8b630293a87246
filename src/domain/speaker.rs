//! Speakers: who a claim is attributed to.

use serde::Deserialize;

use super::text::match_key;
use super::text_enum;
use super::validation::{MAX_SHORT_TEXT, Validator, present};
use crate::error::AppResult;

text_enum! {
    /// What kind of source a speaker is. An `anonymous` speaker is known only
    /// by the phrase the article uses ("sources close to the matter").
    SpeakerKind {
        Person => "person",
        Organization => "organization",
        Government => "government",
        Publication => "publication",
        Platform => "platform",
        Anonymous => "anonymous",
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSpeaker {
    /// The name, or for an anonymous source the descriptive phrase.
    #[schema(min_length = 1)]
    pub name: String,
    pub kind: SpeakerKind,
    /// Role or title: "Prime Minister".
    pub role: Option<String>,
    pub affiliation: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValidSpeaker {
    pub name: String,
    pub kind: SpeakerKind,
    pub role: Option<String>,
    pub affiliation: Option<String>,
    pub aliases: Vec<String>,
    /// Fields stored in a cleaned form (NFC, white space, invisible
    /// characters), for the response to name.
    pub normalized: Vec<String>,
}

impl NewSpeaker {
    pub fn validate(self) -> AppResult<ValidSpeaker> {
        let mut v = Validator::new();
        let name = v.name("name", &self.name, MAX_SHORT_TEXT);
        let role = v.optional_name("role", self.role.as_deref(), MAX_SHORT_TEXT);
        let affiliation =
            v.optional_name("affiliation", self.affiliation.as_deref(), MAX_SHORT_TEXT);
        let aliases = distinct_aliases(&name, v.name_list("aliases", &self.aliases, 100));
        let normalized = v.normalized();
        v.finish()?;
        Ok(ValidSpeaker {
            name,
            kind: self.kind,
            role,
            affiliation,
            aliases,
            normalized,
        })
    }
}

/// What a speaker revision records: everything about the speaker that can
/// change. The name of a merged record's survivor is `merged_into`.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeakerFields {
    pub name: String,
    pub kind: SpeakerKind,
    pub role: Option<String>,
    pub affiliation: Option<String>,
    pub aliases: Vec<String>,
    pub merged_into: Option<i64>,
}

impl ValidSpeaker {
    pub fn fields(&self) -> SpeakerFields {
        SpeakerFields {
            name: self.name.clone(),
            kind: self.kind,
            role: self.role.clone(),
            affiliation: self.affiliation.clone(),
            aliases: self.aliases.clone(),
            merged_into: None,
        }
    }
}

/// A PATCH body: any field of a new speaker, plus the reason for the change.
/// Absent fields are kept; `null` clears `role` or `affiliation`; `aliases`
/// replaces the whole list.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpeakerPatch {
    #[schema(min_length = 1)]
    pub name: Option<String>,
    pub kind: Option<SpeakerKind>,
    #[serde(default, deserialize_with = "present")]
    pub role: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub affiliation: Option<Option<String>>,
    pub aliases: Option<Vec<String>>,
    /// Why the speaker changes ("appointed foreign minister in May").
    pub reason: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ValidSpeakerPatch {
    pub name: Option<String>,
    pub kind: Option<SpeakerKind>,
    pub role: Option<Option<String>>,
    pub affiliation: Option<Option<String>>,
    pub aliases: Option<Vec<String>>,
    pub reason: String,
    /// Fields stored in a cleaned form, for the response to name.
    pub normalized: Vec<String>,
}

impl SpeakerPatch {
    pub fn validate(self) -> AppResult<ValidSpeakerPatch> {
        let mut v = Validator::new();
        let name = self.name.map(|n| v.name("name", &n, MAX_SHORT_TEXT));
        let role = self
            .role
            .map(|r| v.optional_name("role", r.as_deref(), MAX_SHORT_TEXT));
        let affiliation = self
            .affiliation
            .map(|a| v.optional_name("affiliation", a.as_deref(), MAX_SHORT_TEXT));
        let aliases = self.aliases.map(|a| v.name_list("aliases", &a, 100));
        let reason = match self.reason.as_deref() {
            None => {
                v.error("reason", "is required: say why the speaker changes");
                String::new()
            }
            Some(r) => v.required_text("reason", r, MAX_SHORT_TEXT),
        };
        let normalized = v.normalized();
        v.finish()?;
        Ok(ValidSpeakerPatch {
            name,
            kind: self.kind,
            role,
            affiliation,
            aliases,
            reason,
            normalized,
        })
    }
}

/// A speaker after a patch, and what changed.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeakerChange {
    pub next: SpeakerFields,
    /// Names of the fields whose value differs, in a fixed order; empty
    /// means nothing changes and no revision is written.
    pub changed_fields: Vec<&'static str>,
}

impl SpeakerFields {
    /// Applies a validated patch. Aliases that repeat the (new) name, or
    /// each other, by match key are dropped.
    pub fn apply(&self, patch: &ValidSpeakerPatch) -> SpeakerChange {
        let mut next = self.clone();
        if let Some(name) = &patch.name {
            next.name = name.clone();
        }
        if let Some(kind) = patch.kind {
            next.kind = kind;
        }
        if let Some(role) = &patch.role {
            next.role = role.clone();
        }
        if let Some(affiliation) = &patch.affiliation {
            next.affiliation = affiliation.clone();
        }
        if let Some(aliases) = &patch.aliases {
            next.aliases = aliases.clone();
        }
        next.aliases = distinct_aliases(&next.name, std::mem::take(&mut next.aliases));
        let changed_fields = self.changed_fields(&next);
        SpeakerChange {
            next,
            changed_fields,
        }
    }

    /// The names of the fields that differ between two states.
    pub fn changed_fields(&self, next: &SpeakerFields) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.name != next.name {
            out.push("name");
        }
        if self.kind != next.kind {
            out.push("kind");
        }
        if self.role != next.role {
            out.push("role");
        }
        if self.affiliation != next.affiliation {
            out.push("affiliation");
        }
        if self.aliases != next.aliases {
            out.push("aliases");
        }
        if self.merged_into != next.merged_into {
            out.push("merged_into");
        }
        out
    }
}

/// Aliases without the name or repeats, by match key, in their order.
pub fn distinct_aliases(name: &str, aliases: Vec<String>) -> Vec<String> {
    let mut seen = vec![match_key(name)];
    let mut kept = Vec::with_capacity(aliases.len());
    for alias in aliases {
        let key = match_key(&alias);
        if !seen.contains(&key) {
            seen.push(key);
            kept.push(alias);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_as_text() {
        for kind in SpeakerKind::ALL {
            assert_eq!(kind.as_str().parse::<SpeakerKind>().unwrap(), *kind);
        }
        assert!("wizard".parse::<SpeakerKind>().is_err());
    }

    #[test]
    fn the_name_is_not_repeated_among_aliases() {
        let speaker = NewSpeaker {
            name: "Fumio Kishida".into(),
            kind: SpeakerKind::Person,
            role: Some("Prime Minister".into()),
            affiliation: None,
            aliases: vec!["Kishida".into(), "Fumio Kishida".into()],
        }
        .validate()
        .unwrap();
        assert_eq!(speaker.aliases, ["Kishida"]);
    }

    #[test]
    fn names_are_stored_in_one_form() {
        let speaker = NewSpeaker {
            name: "Jose\u{301} Nu\u{301}n\u{303}ez\u{a0}".into(),
            kind: SpeakerKind::Person,
            role: Some(" \u{200b} ".into()),
            affiliation: Some("Ministerio\u{200b} del Interior".into()),
            aliases: vec!["NÚÑEZ".into(), "núñez".into(), "JOSÉ NÚÑEZ".into()],
        }
        .validate()
        .unwrap();
        assert_eq!(speaker.name, "José Núñez");
        assert_eq!(speaker.normalized, ["name", "affiliation"]);
        assert_eq!(speaker.role, None);
        assert_eq!(
            speaker.affiliation.as_deref(),
            Some("Ministerio del Interior")
        );
        // Aliases that only differ by case, or repeat the name, are dropped.
        assert_eq!(speaker.aliases, ["NÚÑEZ"]);
    }

    fn fields() -> SpeakerFields {
        SpeakerFields {
            name: "Fumio Kishida".into(),
            kind: SpeakerKind::Person,
            role: Some("Foreign Minister".into()),
            affiliation: None,
            aliases: vec!["Kishida".into()],
            merged_into: None,
        }
    }

    fn patch(json: &str) -> ValidSpeakerPatch {
        serde_json::from_str::<SpeakerPatch>(json)
            .unwrap()
            .validate()
            .unwrap()
    }

    #[test]
    fn a_patch_names_what_it_changes_and_null_clears() {
        let change = fields().apply(&patch(
            r#"{"role": "Prime Minister", "affiliation": "LDP", "reason": "took office"}"#,
        ));
        assert_eq!(change.changed_fields, ["role", "affiliation"]);
        assert_eq!(change.next.role.as_deref(), Some("Prime Minister"));
        let cleared = change
            .next
            .apply(&patch(r#"{"role": null, "reason": "left office"}"#));
        assert_eq!(cleared.changed_fields, ["role"]);
        assert_eq!(cleared.next.role, None);
    }

    #[test]
    fn the_same_values_change_nothing() {
        let change = fields().apply(&patch(
            r#"{"name": "Fumio  Kishida", "aliases": ["KISHIDA", "Kishida"], "reason": "again"}"#,
        ));
        // The name is the same once cleaned; the alias list is not.
        assert_eq!(change.changed_fields, ["aliases"]);
        let same = fields().apply(&patch(r#"{"name": "Fumio Kishida", "reason": "again"}"#));
        assert!(same.changed_fields.is_empty());
    }

    #[test]
    fn a_patch_needs_a_reason() {
        let body: SpeakerPatch = serde_json::from_str(r#"{"role": "PM"}"#).unwrap();
        assert!(body.validate().is_err());
    }

    #[test]
    fn a_name_of_invisible_characters_is_refused() {
        let speaker = NewSpeaker {
            name: "\u{200b}\u{feff}".into(),
            kind: SpeakerKind::Person,
            role: None,
            affiliation: None,
            aliases: vec![],
        };
        assert!(speaker.validate().is_err());
    }
}
