//! Field checks shared by every request type. They collect all problems of a
//! request so that one 422 names every invalid field at once.

use chrono::{DateTime, Datelike, Utc};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::text::{clean_name, match_key};
use crate::error::{AppError, FieldError};

/// Longest text accepted for short fields (names, cues, headlines…).
pub const MAX_SHORT_TEXT: usize = 1_000;
/// Longest claim text; a claim is a statement, not an article.
pub const MAX_CLAIM_TEXT: usize = 20_000;

#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
    /// Fields stored in another form than sent ([`Validator::name`]).
    normalized: Vec<String>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    pub fn check(&mut self, ok: bool, field: &str, message: impl Into<String>) {
        if !ok {
            self.error(field, message);
        }
    }

    /// A required text, kept exactly as sent (a claim's words, a cue, a
    /// reason: what the source said, so that diffs rebuild it): not blank,
    /// at most `max` characters, no NUL.
    pub fn required_text(&mut self, field: &str, value: &str, max: usize) -> String {
        if value.trim().is_empty() {
            self.error(field, "must not be empty or only white space");
        } else {
            self.text_content(field, value, max);
        }
        value.to_owned()
    }

    /// An optional text, kept exactly as sent; a blank one is absent.
    pub fn optional_text(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
    ) -> Option<String> {
        let value = value.filter(|v| !v.trim().is_empty())?;
        self.text_content(field, value, max);
        Some(value.to_owned())
    }

    /// A name, title or alias in its stored form ([`clean_name`]: NFC, white
    /// space collapsed, invisible characters removed); it must keep at least
    /// one visible character.
    pub fn name(&mut self, field: &str, value: &str, max: usize) -> String {
        if value.contains('\0') {
            self.error(field, "must not contain NUL characters");
            return String::new();
        }
        let cleaned = clean_name(value);
        if cleaned != value {
            self.normalized.push(field.to_owned());
        }
        if match_key(&cleaned).is_empty() {
            self.error(field, "must not be empty (or only invisible characters)");
        } else {
            self.text_content(field, &cleaned, max);
        }
        cleaned
    }

    /// An optional name: absent when missing or blank.
    pub fn optional_name(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
    ) -> Option<String> {
        let value = value.filter(|v| !clean_name(v).is_empty())?;
        Some(self.name(field, value, max))
    }

    /// A list of names (aliases): each as [`Validator::name`], the ones
    /// that share a match key with an earlier one dropped, order kept.
    pub fn name_list(&mut self, field: &str, values: &[String], max_items: usize) -> Vec<String> {
        if values.len() > max_items {
            self.error(field, format!("must have at most {max_items} entries"));
        }
        let mut out: Vec<String> = Vec::with_capacity(values.len());
        let mut keys: Vec<String> = Vec::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            let name = self.name(&format!("{field}[{i}]"), v, MAX_SHORT_TEXT);
            let key = match_key(&name);
            if !key.is_empty() && !keys.contains(&key) {
                keys.push(key);
                out.push(name);
            }
        }
        out
    }

    /// A list of short texts (hedge cues): each kept exactly and not blank,
    /// exact duplicates dropped with their order kept.
    pub fn text_list(&mut self, field: &str, values: &[String], max_items: usize) -> Vec<String> {
        if values.len() > max_items {
            self.error(field, format!("must have at most {max_items} entries"));
        }
        let mut out: Vec<String> = Vec::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            let name = format!("{field}[{i}]");
            let t = self.required_text(&name, v, MAX_SHORT_TEXT);
            if !t.is_empty() && !out.contains(&t) {
                out.push(t);
            }
        }
        out
    }

    /// Checks the content of a text without trimming it (bodies keep their
    /// exact characters because spans point into them).
    pub fn text_content(&mut self, field: &str, value: &str, max: usize) {
        if value.contains('\0') {
            self.error(field, "must not contain NUL characters");
        }
        let chars = value.chars().count();
        if chars > max {
            self.error(
                field,
                format!("must be at most {max} characters (got {chars})"),
            );
        }
    }

    /// Timestamps must be plausible for news: from the year 1000 (archives
    /// quote history) to ten years ahead (embargoes, scheduled statements).
    /// Anything else is a typo or an attack, not a date.
    pub fn timestamp(&mut self, field: &str, value: &DateTime<Utc>) {
        if let Err(message) = plausible_time(value) {
            self.error(field, message);
        }
    }

    pub fn id(&mut self, field: &str, value: i64) {
        if value <= 0 {
            self.error(field, "must be a positive id");
        }
    }

    /// The fields whose stored form differs from what was sent, for the
    /// response to name (names are cleaned; everything else is kept).
    pub fn normalized(&self) -> Vec<String> {
        self.normalized.clone()
    }

    pub fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.errors))
        }
    }
}

/// Tells "absent" (keep the value) from `null` (clear it) in a PATCH body:
/// `#[serde(default, deserialize_with = "present")]` on an
/// `Option<Option<T>>` field.
pub fn present<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// `deserialize_with` helpers for structs nested in request bodies: serde's
/// derive reads a struct from a JSON array too (fields by position, so
/// `[1, null, 0, 5]` would pass for an appearance); these read one only
/// from a JSON object, as the API documents.
pub mod objects {
    use std::fmt;
    use std::marker::PhantomData;

    use serde::de::value::MapAccessDeserializer;
    use serde::de::{MapAccess, Visitor};
    use serde::{Deserialize, Deserializer};

    /// A `T` that was a JSON object.
    struct Object<T>(T);

    impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct ObjectVisitor<T>(PhantomData<T>);
            impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
                type Value = T;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                    T::deserialize(MapAccessDeserializer::new(map))
                }
            }
            d.deserialize_map(ObjectVisitor(PhantomData)).map(Object)
        }
    }

    pub fn option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        Ok(Option::<Object<T>>::deserialize(d)?.map(|o| o.0))
    }

    /// For PATCH: absent is `None`, `null` is `Some(None)`.
    pub fn present_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        option(d).map(Some)
    }

    pub fn vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
        Ok(Vec::<Object<T>>::deserialize(d)?
            .into_iter()
            .map(|o| o.0)
            .collect())
    }

    pub fn option_vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Vec<T>>, D::Error> {
        Ok(Option::<Vec<Object<T>>>::deserialize(d)?.map(|v| v.into_iter().map(|o| o.0).collect()))
    }
}

/// Decodes JSON, telling malformed input (400), unknown fields (400) and
/// invalid values (422, naming the field) apart.
pub fn decode_json<T: DeserializeOwned + 'static>(bytes: &[u8]) -> Result<T, AppError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::BadRequest(
            "the request body is empty; expected a JSON object".into(),
        ));
    }
    // serde reads a struct from an array too, field by field in order
    // (`["a label"]` as `{"label": "a label"}`); a body is an object unless
    // the route takes any JSON value.
    let any_value = std::any::TypeId::of::<T>() == std::any::TypeId::of::<serde_json::Value>();
    if !any_value && bytes.trim_ascii_start().starts_with(b"[") {
        return Err(AppError::Validation(vec![FieldError::new(
            "body",
            "must be a JSON object, not an array",
        )]));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(classify_json_error)?;
    de.end()
        .map_err(|e| AppError::BadRequest(format!("malformed JSON: {e}")))?;
    Ok(value)
}

fn classify_json_error(err: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    use serde_json::error::Category;
    let path = err.path().to_string();
    let inner = err.into_inner();
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            AppError::BadRequest(format!("malformed JSON: {inner}"))
        }
        Category::Data => {
            let message = strip_position(&inner.to_string());
            if message.starts_with("unknown field") {
                let at = if path == "." {
                    String::new()
                } else {
                    format!(" in {path}")
                };
                AppError::BadRequest(format!("{message}{at}"))
            } else if let Some(field) = missing_field(&message) {
                let field = if path == "." {
                    field
                } else {
                    format!("{path}.{field}")
                };
                AppError::Validation(vec![FieldError::new(field, "is required")])
            } else {
                let field = if path == "." { "body".to_owned() } else { path };
                AppError::Validation(vec![FieldError::new(field, message)])
            }
        }
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_owned())
}

/// The window of [`Validator::timestamp`].
pub fn plausible_time(value: &DateTime<Utc>) -> Result<(), String> {
    let latest = Utc::now().year() + 10;
    let year = value.year();
    if (1000..=latest).contains(&year) {
        Ok(())
    } else {
        Err(format!(
            "year {year} is outside the plausible range 1000–{latest}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_invalid_field() {
        let mut v = Validator::new();
        v.required_text("title", "  ", 10);
        v.required_text("name", "a\0b", 10);
        v.required_text("cue", "abcdefghijk", 10);
        let Err(AppError::Validation(errors)) = v.finish() else {
            panic!("expected validation errors");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "name", "cue"]);
    }

    #[test]
    fn lists_keep_their_entries_exactly_and_drop_repeats() {
        let mut v = Validator::new();
        let list = v.text_list(
            "hedges",
            &[
                " apparently ".into(),
                " apparently ".into(),
                "reportedly".into(),
            ],
            5,
        );
        assert!(v.finish().is_ok());
        assert_eq!(list, [" apparently ", "reportedly"]);
        let mut v = Validator::new();
        v.text_list("hedges", &["  ".into()], 5);
        assert!(v.finish().is_err(), "a blank entry is refused");
    }

    #[test]
    fn texts_are_kept_exactly_and_blank_ones_refused() {
        let mut v = Validator::new();
        assert_eq!(v.optional_text("cue", Some("   "), 10), None);
        assert_eq!(
            v.optional_text("cue", Some(" said "), 10).as_deref(),
            Some(" said ")
        );
        assert_eq!(
            v.required_text("text", "\u{a0}We will.\n", 50),
            "\u{a0}We will.\n"
        );
        assert!(v.finish().is_ok());
        let mut v = Validator::new();
        v.required_text("text", " \t\u{3000}", 50);
        assert!(v.finish().is_err());
    }
}
