//! Created records that say which fields were stored in another form than
//! sent: names, titles, roles and aliases are cleaned (NFC, white space
//! collapsed, invisible characters removed; see `domain::text`), and a
//! client comparing what it sent with what came back learns why.

use serde::Serialize;

/// A record as stored, with `normalized` naming the cleaned fields (left
/// out when none was).
#[derive(Debug, Serialize)]
pub struct WithNormalized<'a, T> {
    #[serde(flatten)]
    pub record: &'a T,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub normalized: &'a [String],
}
