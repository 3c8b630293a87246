//! Speakers: who a claim is attributed to.

use serde::Deserialize;

use super::text::match_key;
use super::text_enum;
use super::validation::{MAX_SHORT_TEXT, Validator};
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
        let mut aliases = v.name_list("aliases", &self.aliases, 100);
        let name_key = match_key(&name);
        aliases.retain(|a| match_key(a) != name_key);
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
