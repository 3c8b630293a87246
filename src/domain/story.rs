//! Stories: running news topics that collect articles and claims.

use serde::Deserialize;

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
}

impl NewStory {
    pub fn validate(self) -> AppResult<ValidStory> {
        let mut v = Validator::new();
        let title = v.required_text("title", &self.title, MAX_SHORT_TEXT);
        let description = v.optional_text("description", self.description.as_deref(), 20_000);
        let slug = match self.slug.as_deref().map(str::trim) {
            Some(given) => {
                v.check(
                    is_valid_slug(given),
                    "slug",
                    "must be lowercase letters or digits in words joined by single hyphens",
                );
                given.to_owned()
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
        v.finish()?;
        Ok(ValidStory {
            title,
            slug,
            description,
        })
    }
}

/// Lowercases the title and joins its runs of letters and digits with hyphens:
/// "Japan–North Korea abduction talks" → "japan-north-korea-abduction-talks".
/// Letters outside ASCII are kept, so titles in any script get a slug.
pub fn slugify(title: &str) -> String {
    let mut slug = String::with_capacity(title.len());
    let mut pending_hyphen = false;
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if pending_hyphen && !slug.is_empty() {
                slug.push('-');
            }
            pending_hyphen = false;
            slug.push(c);
        } else {
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

pub fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.split('-').all(|word| {
            !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_alphanumeric() && !c.is_uppercase())
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
    fn given_slugs_are_checked() {
        assert!(is_valid_slug("flood-relief-2026"));
        assert!(!is_valid_slug("Flood"));
        assert!(!is_valid_slug("a--b"));
        assert!(!is_valid_slug("-a"));
        assert!(!is_valid_slug("a b"));
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
