//! Stories: running news topics that collect articles and claims.

use serde::Deserialize;

use super::text::{self, nfc};
use super::validation::{MAX_SHORT_TEXT, Validator};
use crate::error::AppResult;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStory {
    #[schema(min_length = 1)]
    pub title: String,
    /// URL-friendly key; derived from the title when absent.
    pub slug: Option<String>,
    pub description: Option<String>,
}

/// A story that passed validation, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidStory {
    pub title: String,
    pub slug: String,
    pub description: Option<String>,
    /// Fields stored in a cleaned form, for the response to name.
    pub normalized: Vec<String>,
}

impl NewStory {
    pub fn validate(self) -> AppResult<ValidStory> {
        let mut v = Validator::new();
        let title = v.name("title", &self.title, MAX_SHORT_TEXT);
        let description = v.optional_text("description", self.description.as_deref(), 20_000);
        let slug = match self.slug.as_deref().map(|s| nfc(s.trim()).into_owned()) {
            Some(given) => {
                v.check(
                    is_valid_slug(&given),
                    "slug",
                    "must be lowercase letters or digits (of any script) in words joined by single hyphens",
                );
                given
            }
            None => {
                let derived = slugify(&title);
                v.check(
                    !derived.is_empty() || title.is_empty(),
                    "title",
                    "must contain at least one letter or digit to derive a slug",
                );
                derived
            }
        };
        v.check(
            slug.chars().count() <= 200,
            "slug",
            "must be at most 200 characters",
        );
        let normalized = v.normalized();
        v.finish()?;
        Ok(ValidStory {
            title,
            slug,
            description,
            normalized,
        })
    }
}

/// Lowercases the title (Unicode's rules) and joins its runs of letters and
/// digits with hyphens: "Japan–North Korea abduction talks" →
/// "japan-north-korea-abduction-talks". Letters of every script are kept,
/// with their combining marks (Devanagari vowel signs, Arabic harakat), so
/// titles in any script get a readable slug; zero-width joiners are left out.
pub fn slugify(title: &str) -> String {
    let lower = text::lowercase(&nfc(title)).into_owned();
    let mut slug = String::with_capacity(lower.len());
    let mut pending_hyphen = false;
    for c in lower.chars() {
        if c.is_alphanumeric() || (text::is_mark(c) && !pending_hyphen && !slug.is_empty()) {
            if pending_hyphen && !slug.is_empty() {
                slug.push('-');
            }
            pending_hyphen = false;
            slug.push(c);
        } else if c != '\u{200C}' && c != '\u{200D}' {
            pending_hyphen = true;
        }
    }
    // Bound the derived slug without cutting a word in half where possible.
    if slug.chars().count() > 120 {
        let cut: String = slug.chars().take(120).collect();
        slug = match cut.rfind('-') {
            Some(i) if i > 40 => cut[..i].to_owned(),
            _ => cut,
        };
    }
    slug
}

/// Words of lowercase letters and digits of any script (a word may carry
/// combining marks after its first letter) joined by single hyphens, in NFC.
pub fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && text::is_nfc(slug)
        && slug.split('-').all(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .is_some_and(|c| c.is_alphanumeric() && !c.is_uppercase())
                && chars.all(|c| (c.is_alphanumeric() && !c.is_uppercase()) || text::is_mark(c))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_is_derived_from_the_title() {
        assert_eq!(
            slugify("Japan–North Korea abduction talks"),
            "japan-north-korea-abduction-talks"
        );
        assert_eq!(
            slugify("  Élections 2026: Round 2!  "),
            "élections-2026-round-2"
        );
        assert_eq!(slugify("日本 北朝鮮"), "日本-北朝鮮");
        assert_eq!(slugify("!!!"), "");
    }

    #[test]
    fn titles_in_every_script_make_slugs() {
        assert_eq!(slugify("Café Zürich"), "café-zürich");
        assert_eq!(slugify("Cafe\u{301} Zu\u{308}rich"), "café-zürich");
        assert_eq!(slugify("日本・北朝鮮"), "日本-北朝鮮");
        assert_eq!(slugify("Ελληνικά ΝΈΑ"), "ελληνικά-νέα");
        assert_eq!(slugify("straße"), "straße");
        assert_eq!(slugify("هيئة الانتخابات"), "هيئة-الانتخابات");
        assert_eq!(slugify("हिन्दी समाचार"), "हिन्दी-समाचार");
        assert_eq!(slugify("İstanbul Işık"), "i̇stanbul-işık");
        for title in [
            "Café Zürich",
            "日本・北朝鮮",
            "Ελληνικά",
            "straße",
            "هيئة الانتخابات",
            "हिन्दी समाचार",
            "İstanbul",
        ] {
            assert!(is_valid_slug(&slugify(title)), "{title}");
        }
    }

    #[test]
    fn given_slugs_are_checked() {
        assert!(is_valid_slug("flood-relief-2026"));
        assert!(!is_valid_slug("Flood"));
        assert!(!is_valid_slug("a--b"));
        assert!(!is_valid_slug("-a"));
        assert!(!is_valid_slug("a b"));
        assert!(is_valid_slug("ελληνικά-νέα"));
        assert!(!is_valid_slug("Ελληνικά"));
        // Decomposed: the same slug, but not in NFC.
        assert!(!is_valid_slug("cafe\u{301}"));
        // A word cannot start with a combining mark.
        assert!(!is_valid_slug("\u{301}a"));
    }

    #[test]
    fn a_title_without_letters_cannot_make_a_slug() {
        let story = NewStory {
            title: "???".into(),
            slug: None,
            description: None,
        };
        assert!(story.validate().is_err());
    }
}
