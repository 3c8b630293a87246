//! Typed links between claims.

use serde::Deserialize;

use super::text_enum;
use super::validation::Validator;
use crate::error::AppResult;

text_enum! {
    /// How one claim bears on another: `contradicts` (they cannot both be
    /// true), `supports`, `updates` (supersedes it: a newer figure, a later
    /// statement), `duplicates` (the same claim reported elsewhere), `retracts`
    /// (the speaker withdrew it).
    RelationKind {
        Contradicts => "contradicts",
        Supports => "supports",
        Updates => "updates",
        Duplicates => "duplicates",
        Retracts => "retracts",
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRelation {
    pub kind: RelationKind,
    #[schema(minimum = 1)]
    pub target_id: i64,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ValidRelation {
    pub kind: RelationKind,
    pub target_id: i64,
    pub note: Option<String>,
}

impl NewRelation {
    pub fn validate(self, claim_id: i64) -> AppResult<ValidRelation> {
        let mut v = Validator::new();
        v.id("target_id", self.target_id);
        v.check(
            self.target_id != claim_id,
            "target_id",
            "a claim cannot be related to itself",
        );
        let note = v.optional_text("note", self.note.as_deref(), 5_000);
        v.finish()?;
        Ok(ValidRelation {
            kind: self.kind,
            target_id: self.target_id,
            note,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_cannot_relate_to_itself() {
        let r = NewRelation {
            kind: RelationKind::Contradicts,
            target_id: 4,
            note: None,
        };
        assert!(r.validate(4).is_err());
        let r = NewRelation {
            kind: RelationKind::Supports,
            target_id: 5,
            note: Some("  ".into()),
        };
        assert_eq!(r.validate(4).unwrap().note, None);
    }
}
