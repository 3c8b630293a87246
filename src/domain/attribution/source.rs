//! What a source phrase says about its speaker: a name (with a role), an
//! anonymous descriptor, a pronoun, or a description ("the minister").
//!
//! This is the part of speaker resolution that needs no ledger: the phrase
//! is read here, links inside the article (a pronoun to the nearest
//! compatible named source, "Kishida" to an earlier "Fumio Kishida", "the
//! prime minister" to an earlier "Prime Minister Fumio Kishida") are made by
//! [`link_sources`], and storage then looks the names up among the ledger's
//! speakers.

use serde::Serialize;

use crate::domain::speaker::SpeakerKind;

/// How a source phrase reads.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(tag = "reading", rename_all = "snake_case")]
pub enum SourceReading {
    /// A proper name, perhaps after a role: "Prime Minister Fumio Kishida",
    /// "The New York Post".
    Named {
        name: String,
        role: Option<String>,
        kind: SpeakerKind,
    },
    /// A source described only by a phrase: "sources close to the matter",
    /// "a Japanese diplomatic source", "officials".
    Anonymous { descriptor: String },
    /// "he", "she", "they", "it".
    Pronoun { pronoun: String },
    /// A definite description: "the minister", "the company".
    Description { description: String },
}

const PRONOUNS: &[&str] = &["he", "she", "they", "it", "we", "i"];

/// Head words of anonymous sources.
const ANONYMOUS_HEADS: &[&str] = &[
    "source",
    "sources",
    "official",
    "officials",
    "people",
    "person",
    "aide",
    "aides",
    "insider",
    "insiders",
    "diplomat",
    "diplomats",
    "analyst",
    "analysts",
    "expert",
    "experts",
    "observers",
    "witness",
    "witnesses",
    "residents",
    "staffers",
    "advisers",
    "advisors",
    "investigators",
    "critics",
    "supporters",
    "lawmakers",
    "economists",
    "authorities",
    "someone",
    "one",
];

/// Words of a role written before a name ("Prime Minister Fumio Kishida"):
/// capitalised there, but not part of the name.
const TITLES: &[&str] = &[
    "president",
    "vice",
    "prime",
    "minister",
    "secretary",
    "sen.",
    "senator",
    "rep.",
    "representative",
    "gov.",
    "governor",
    "mayor",
    "chancellor",
    "judge",
    "justice",
    "chief",
    "gen.",
    "general",
    "attorney",
    "speaker",
    "leader",
    "chairman",
    "chairwoman",
    "chair",
    "director",
    "spokesman",
    "spokeswoman",
    "spokesperson",
    "ambassador",
    "commissioner",
    "king",
    "queen",
    "pope",
    "candidate",
    "nominee",
    "professor",
    "prof.",
    "lt.",
    "col.",
    "sgt.",
    "adm.",
    "capt.",
    "former",
    "acting",
    "deputy",
];

/// Courtesy titles: dropped from the name, kept nowhere.
const HONORIFICS: &[&str] = &["mr.", "mrs.", "ms.", "dr.", "miss", "mr", "mrs", "ms", "dr"];

const DETERMINERS: &[&str] = &[
    "the", "a", "an", "this", "that", "his", "her", "their", "its",
];

/// Words marking a publication.
const PUBLICATION_WORDS: &[&str] = &[
    "post",
    "times",
    "journal",
    "news",
    "cnn",
    "reuters",
    "ap",
    "press",
    "bbc",
    "fox",
    "msnbc",
    "bloomberg",
    "tribune",
    "herald",
    "guardian",
    "gazette",
    "magazine",
    "newsweek",
    "politico",
    "axios",
    "nbc",
    "abc",
    "cbs",
    "npr",
    "telegraph",
    "economist",
    "newspaper",
    "wire",
    "agency",
];
const GOVERNMENT_WORDS: &[&str] = &[
    "department",
    "ministry",
    "government",
    "administration",
    "pentagon",
    "white",
    "kremlin",
    "congress",
    "senate",
    "parliament",
    "police",
    "commission",
    "bureau",
    "office",
    "council",
    "court",
    "army",
    "navy",
    "cabinet",
    "embassy",
    "state",
    "fbi",
    "cia",
    "fda",
    "epa",
    "irs",
];
const ORGANIZATION_WORDS: &[&str] = &[
    "party",
    "committee",
    "campaign",
    "inc.",
    "inc",
    "corp.",
    "corp",
    "company",
    "association",
    "union",
    "university",
    "group",
    "foundation",
    "institute",
    "bank",
    "organization",
    "center",
    "centre",
    "league",
    "coalition",
    "council",
    "fund",
    "network",
    "club",
    "federation",
];
const PLATFORM_WORDS: &[&str] = &[
    "twitter",
    "facebook",
    "youtube",
    "instagram",
    "tiktok",
    "x.com",
];

fn is_capitalised(word: &str) -> bool {
    word.starts_with(|c: char| c.is_uppercase() || c.is_numeric())
}

/// Reads a source phrase (the words of the source span).
pub fn read(phrase: &str) -> SourceReading {
    let phrase = phrase.trim().trim_end_matches([',', ';', ':']).trim();
    let words: Vec<&str> = phrase.split_whitespace().collect();
    let lower: Vec<String> = words
        .iter()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric() && c != '.')
                .to_lowercase()
        })
        .collect();
    if words.len() == 1 && PRONOUNS.contains(&lower[0].as_str()) {
        return SourceReading::Pronoun {
            pronoun: lower[0].clone(),
        };
    }
    // "sources close to the matter", "a senior U.S. official", but not
    // "Trump aide Kellyanne Conway" (a name follows the head).
    if let Some(k) = lower
        .iter()
        .position(|w| ANONYMOUS_HEADS.contains(&w.as_str()))
    {
        let named_after = words.get(k + 1).is_some_and(|w| is_capitalised(w));
        if !named_after {
            return SourceReading::Anonymous {
                descriptor: phrase.to_owned(),
            };
        }
    }
    // The trailing run of capitalised words that are not titles is the name.
    let mut name_from = words.len();
    while name_from > 0 {
        let w = words[name_from - 1];
        let l = &lower[name_from - 1];
        let particle = matches!(
            l.as_str(),
            "de" | "van" | "von" | "bin" | "al" | "da" | "del" | "le"
        );
        if (is_capitalised(w) || particle) && !TITLES.contains(&l.as_str()) {
            name_from -= 1;
        } else {
            break;
        }
    }
    // Titles written capitalised before a name ("Prime Minister Fumio
    // Kishida") stopped the run; honorifics are dropped.
    let mut name_words: Vec<&str> = words[name_from..].to_vec();
    while name_words
        .first()
        .is_some_and(|w| HONORIFICS.contains(&w.to_lowercase().as_str()))
    {
        name_words.remove(0);
    }
    let mut role_words: Vec<&str> = words[..name_from].to_vec();
    while role_words
        .first()
        .is_some_and(|w| DETERMINERS.contains(&w.to_lowercase().as_str()))
    {
        role_words.remove(0);
    }
    role_words.retain(|w| !HONORIFICS.contains(&w.to_lowercase().as_str()));
    // The kind comes from the name's own words: "the State Department" is a
    // government body, "State Department spokesman Ned Price" a person.
    let name_lower: Vec<String> = name_words.iter().map(|w| w.to_lowercase()).collect();
    let has = |list: &[&str]| name_lower.iter().any(|w| list.contains(&w.as_str()));
    let kind = if has(PLATFORM_WORDS) {
        SpeakerKind::Platform
    } else if has(PUBLICATION_WORDS) {
        SpeakerKind::Publication
    } else if has(GOVERNMENT_WORDS) {
        SpeakerKind::Government
    } else if has(ORGANIZATION_WORDS) {
        SpeakerKind::Organization
    } else {
        SpeakerKind::Person
    };
    if kind != SpeakerKind::Person {
        // "The New York Post": the name without its article.
        if name_words
            .first()
            .is_some_and(|w| DETERMINERS.contains(&w.to_lowercase().as_str()))
        {
            name_words.remove(0);
        }
        let role = (!role_words.is_empty()).then(|| role_words.join(" "));
        return SourceReading::Named {
            name: name_words.join(" "),
            role,
            kind,
        };
    }
    if name_words.is_empty() {
        return SourceReading::Description {
            description: phrase.to_owned(),
        };
    }
    let role = (!role_words.is_empty()).then(|| role_words.join(" "));
    SourceReading::Named {
        name: name_words.join(" "),
        role,
        kind: SpeakerKind::Person,
    }
}

/// How a source is tied to another source of the same article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// A pronoun, to the nearest compatible named source before it.
    Pronoun,
    /// A surname or a shorter form of an earlier name ("Kishida").
    ShortName,
    /// A description matching an earlier named source's role ("the prime
    /// minister").
    Role,
}

/// For each reading, the earlier reading it refers to, if any: the index of
/// a `Named` reading and how the two are tied. One pass: the latest named
/// source of each kind, and every earlier name's shorter forms and role,
/// are kept in maps, so a long article costs no more per source than a
/// short one.
pub fn link_sources(readings: &[Option<SourceReading>]) -> Vec<Option<(usize, Link)>> {
    use std::collections::HashMap;

    let mut links: Vec<Option<(usize, Link)>> = vec![None; readings.len()];
    let mut last_person: Option<usize> = None;
    let mut last_body: Option<usize> = None;
    // (kind, "kishida") → the latest named source whose name ends so.
    let mut short_names: HashMap<(SpeakerKind, String), usize> = HashMap::new();
    // "prime minister", "minister" → the latest named source with that role.
    let mut roles: HashMap<String, usize> = HashMap::new();
    for (i, reading) in readings.iter().enumerate() {
        let Some(reading) = reading else { continue };
        links[i] = match reading {
            SourceReading::Pronoun { pronoun } => match pronoun.as_str() {
                "he" | "she" | "i" => last_person,
                "it" | "they" => last_body,
                "we" => last_person.max(last_body),
                _ => None,
            }
            .map(|t| (t, Link::Pronoun)),
            SourceReading::Named { name, kind, .. } => short_names
                .get(&(*kind, name.to_lowercase()))
                .filter(|&&t| named(&readings[t]).is_some_and(|(n, _, _)| n.len() > name.len()))
                .map(|&t| (t, Link::ShortName)),
            SourceReading::Description { description } => {
                let lower = description.to_lowercase();
                let head = lower
                    .split_whitespace()
                    .filter(|w| !DETERMINERS.contains(w))
                    .collect::<Vec<_>>()
                    .join(" ");
                roles.get(&head).map(|&t| (t, Link::Role))
            }
            SourceReading::Anonymous { .. } => None,
        };
        // What later sources may refer to: the named source this one is or
        // refers to.
        let target = links[i].map_or(i, |(t, _)| t);
        let Some((name, role, kind)) = named(&readings[target]) else {
            continue;
        };
        if kind == SpeakerKind::Person {
            last_person = Some(target);
        } else {
            last_body = Some(target);
        }
        if target == i {
            let words: Vec<String> = name.split_whitespace().map(str::to_lowercase).collect();
            for k in 1..words.len() {
                short_names.insert((kind, words[k..].join(" ")), i);
            }
            if let Some(role) = role {
                let words: Vec<String> = role.split_whitespace().map(str::to_lowercase).collect();
                for k in 0..words.len() {
                    roles.insert(words[k..].join(" "), i);
                }
            }
        }
    }
    links
}

fn named(reading: &Option<SourceReading>) -> Option<(&str, Option<&str>, SpeakerKind)> {
    match reading {
        Some(SourceReading::Named { name, role, kind }) => Some((name, role.as_deref(), *kind)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str, role: Option<&str>, kind: SpeakerKind) -> SourceReading {
        SourceReading::Named {
            name: name.into(),
            role: role.map(Into::into),
            kind,
        }
    }

    #[test]
    fn names_roles_and_kinds() {
        assert_eq!(
            read("Prime Minister Fumio Kishida"),
            named("Fumio Kishida", Some("Prime Minister"), SpeakerKind::Person)
        );
        assert_eq!(
            read("White House press secretary Sean Spicer"),
            named(
                "Sean Spicer",
                Some("White House press secretary"),
                SpeakerKind::Person
            )
        );
        assert_eq!(
            read("Mr. Kishida"),
            named("Kishida", None, SpeakerKind::Person)
        );
        assert_eq!(
            read("The New York Post"),
            named("New York Post", None, SpeakerKind::Publication)
        );
        assert_eq!(
            read("the State Department"),
            named("State Department", None, SpeakerKind::Government)
        );
        assert_eq!(
            read("Trump aide Kellyanne Conway"),
            named("Kellyanne Conway", Some("Trump aide"), SpeakerKind::Person)
        );
    }

    #[test]
    fn anonymous_descriptors_pronouns_and_descriptions() {
        for phrase in [
            "sources close to the matter",
            "a Japanese diplomatic source",
            "officials",
            "two senior U.S. officials",
            "people familiar with the talks",
        ] {
            assert_eq!(
                read(phrase),
                SourceReading::Anonymous {
                    descriptor: phrase.into()
                },
                "{phrase}"
            );
        }
        assert_eq!(
            read("He"),
            SourceReading::Pronoun {
                pronoun: "he".into()
            }
        );
        assert_eq!(
            read("the prime minister"),
            SourceReading::Description {
                description: "the prime minister".into()
            }
        );
    }

    #[test]
    fn pronouns_short_names_and_roles_link_to_earlier_named_sources() {
        let readings: Vec<Option<SourceReading>> = [
            "Prime Minister Fumio Kishida",
            "the State Department",
            "he",
            "it",
            "Kishida",
            "the prime minister",
            "sources close to the matter",
            "she",
        ]
        .iter()
        .map(|p| Some(read(p)))
        .collect();
        let links = link_sources(&readings);
        assert_eq!(links[0], None);
        assert_eq!(links[1], None);
        // "he" skips the department: it is no person.
        assert_eq!(links[2], Some((0, Link::Pronoun)));
        assert_eq!(links[3], Some((1, Link::Pronoun)));
        assert_eq!(links[4], Some((0, Link::ShortName)));
        assert_eq!(links[5], Some((0, Link::Role)));
        assert_eq!(links[6], None);
        // The nearest compatible named source, through the links.
        assert_eq!(links[7], Some((0, Link::Pronoun)));
    }
}
