//! Revision numbering and the ETag that names a revision.
//!
//! Revisions of a claim (and of an article body) are numbered 1, 2, 3… with no
//! gaps. The number is the resource's version: it is the ETag of the current
//! state, and a write that names an older one in If-Match is refused.

use crate::error::AppError;

/// A revision number: 1 for the first snapshot, then one more per change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RevisionNumber(i32);

impl RevisionNumber {
    pub const FIRST: RevisionNumber = RevisionNumber(1);

    pub fn new(n: i32) -> Option<Self> {
        (n >= 1).then_some(RevisionNumber(n))
    }

    pub fn get(self) -> i32 {
        self.0
    }

    /// The number of the revision that follows this one.
    pub fn next(self) -> Result<Self, AppError> {
        self.0
            .checked_add(1)
            .map(RevisionNumber)
            .ok_or_else(|| AppError::Conflict {
                detail: "this record has reached the maximum number of revisions".into(),
                existing_id: None,
            })
    }
}

/// Which revisions a diff compares when the request leaves them out: `to`
/// defaults to the current revision, `from` to the one before `to`.
pub fn diff_range(current: i32, from: Option<i32>, to: Option<i32>) -> (i32, i32) {
    let to = to.unwrap_or(current);
    (from.unwrap_or_else(|| (to - 1).max(1)), to)
}

/// The strong ETag for a revision: `"3"`.
pub fn etag(revision: i32) -> String {
    format!("\"{revision}\"")
}

/// What an If-Match header asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// Whatever the current revision is: only for writes the service makes
    /// itself (a ClaimReview import reviewing the claim it just matched).
    /// Clients cannot send it: `If-Match: *` is refused.
    Any,
    /// One or more revisions; the write proceeds if the current one is listed.
    Revisions(Vec<i32>),
}

impl IfMatch {
    /// Parses an If-Match value such as `"3"` or `"2", "3"`. A change must
    /// name the revision it was based on, exactly: `*` names none (428:
    /// 32 writers sending it would each overwrite the others unseen), and a
    /// weak tag (`W/"3"`) is not an exact match (400).
    pub fn parse(header: &str) -> Result<Self, AppError> {
        let header = header.trim();
        if header == "*" {
            return Err(AppError::PreconditionRequired(
                "If-Match: * does not name the revision your change is based on; send the ETag you read \
                 (GET the resource, then If-Match: \"<its revision>\")"
                    .into(),
            ));
        }
        let mut revisions = Vec::new();
        for part in header.split(',') {
            let tag = part.trim();
            if tag.starts_with("W/") {
                return Err(AppError::BadRequest(format!(
                    "If-Match {tag} is a weak entity tag; writes need the strong ETag of the revision they are based on, such as \"3\""
                )));
            }
            let inner = tag
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "If-Match must hold quoted entity tags such as \"3\"; got {part:?}"
                    ))
                })?;
            let revision = inner.parse::<i32>().map_err(|_| {
                AppError::BadRequest(format!(
                    "If-Match entity tag {tag} does not name a revision of this resource"
                ))
            })?;
            revisions.push(revision);
        }
        Ok(IfMatch::Revisions(revisions))
    }

    /// Refuses the write when the current revision is not the one the client saw.
    pub fn check(&self, current: i32) -> Result<(), AppError> {
        match self {
            IfMatch::Any => Ok(()),
            IfMatch::Revisions(list) if list.contains(&current) => Ok(()),
            IfMatch::Revisions(list) => Err(AppError::PreconditionFailed {
                detail: format!(
                    "the resource is at revision {current}, not {}; fetch it again and reapply your change",
                    list.iter()
                        .map(i32::to_string)
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
                current_revision: current,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_starts_at_one_and_has_no_gaps() {
        let first = RevisionNumber::FIRST;
        assert_eq!(first.get(), 1);
        assert_eq!(first.next().unwrap().get(), 2);
        assert_eq!(first.next().unwrap().next().unwrap().get(), 3);
        assert!(RevisionNumber::new(0).is_none());
        assert!(RevisionNumber::new(i32::MAX).unwrap().next().is_err());
    }

    #[test]
    fn diffs_default_to_the_previous_and_current_revisions() {
        assert_eq!(diff_range(5, None, None), (4, 5));
        assert_eq!(diff_range(5, Some(1), None), (1, 5));
        assert_eq!(diff_range(5, None, Some(3)), (2, 3));
        assert_eq!(diff_range(1, None, None), (1, 1));
    }

    #[test]
    fn if_match_takes_strong_tags_and_lists_only() {
        assert_eq!(
            IfMatch::parse("\"3\"").unwrap(),
            IfMatch::Revisions(vec![3])
        );
        assert_eq!(
            IfMatch::parse("\"2\", \"3\"").unwrap(),
            IfMatch::Revisions(vec![2, 3])
        );
        assert!(matches!(
            IfMatch::parse("*"),
            Err(AppError::PreconditionRequired(_))
        ));
        assert!(matches!(
            IfMatch::parse("W/\"3\""),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(
            IfMatch::parse("\"2\", W/\"3\""),
            Err(AppError::BadRequest(_))
        ));
        assert!(IfMatch::parse("3").is_err());
        assert!(IfMatch::parse("\"abc\"").is_err());
    }

    #[test]
    fn stale_if_match_is_a_failed_precondition_naming_the_current_revision() {
        let stale = IfMatch::parse("\"2\"").unwrap();
        match stale.check(3) {
            Err(AppError::PreconditionFailed {
                current_revision, ..
            }) => {
                assert_eq!(current_revision, 3)
            }
            other => panic!("expected 412, got {other:?}"),
        }
        assert!(IfMatch::parse("\"3\"").unwrap().check(3).is_ok());
        assert_eq!(etag(3), "\"3\"");
    }
}
