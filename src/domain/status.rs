//! The claim status workflow: which moves are allowed, in one table.
//!
//! ```text
//! proposed ──▶ unverified ──▶ in_review ──▶ verified | disputed | false | unverifiable
//!                  ▲               │  ▲                     │
//!                  └───────────────┘  └──── re-open ─────────┘
//! any state ──▶ retracted (editors only; final)
//! ```
//!
//! An edit of a claim's text or of where it appears re-opens a judged claim
//! (back to unverified, flagged for review): the verdict was on other words.

use super::auth::{Action, Role};
use super::text_enum;
use crate::error::AppError;

use ClaimStatus::*;

text_enum! {
    /// Where a claim stands in review.
    ClaimStatus {
        Proposed => "proposed",
        Unverified => "unverified",
        InReview => "in_review",
        Verified => "verified",
        Disputed => "disputed",
        False => "false",
        Unverifiable => "unverifiable",
        Retracted => "retracted",
    }
}

impl ClaimStatus {
    /// A claim logged by hand starts unverified: a reporter has recorded it,
    /// nobody has checked it yet. (`proposed` is for machine suggestions.)
    pub const LOGGED: ClaimStatus = ClaimStatus::Unverified;
}

/// Reporters edit only their own drafts: claims they logged that nobody has
/// started reviewing yet. Editors and admins edit any claim.
pub fn may_edit_claim(
    role: Role,
    caller: &str,
    created_by: &str,
    status: ClaimStatus,
) -> Result<(), AppError> {
    role.require(Action::EditClaim)?;
    if role != Role::Reporter {
        return Ok(());
    }
    if created_by != caller {
        return Err(AppError::Forbidden(format!(
            "reporters edit only the claims they logged; this one was logged by {created_by}"
        )));
    }
    if !matches!(status, ClaimStatus::Proposed | ClaimStatus::Unverified) {
        return Err(AppError::Forbidden(format!(
            "the claim is {status}: once review has started only an editor can change it"
        )));
    }
    Ok(())
}

/// The statuses a claim may move to from `from`.
pub fn allowed_targets(from: ClaimStatus) -> &'static [ClaimStatus] {
    match from {
        Proposed => &[Unverified, Retracted],
        Unverified => &[InReview, Retracted],
        InReview => &[
            Verified,
            Disputed,
            False,
            Unverifiable,
            Unverified,
            Retracted,
        ],
        Verified | Disputed | False | Unverifiable => &[InReview, Retracted],
        Retracted => &[],
    }
}

/// A requested status change, checked against the table and the role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusTransition {
    pub from: ClaimStatus,
    pub to: ClaimStatus,
}

impl StatusTransition {
    pub fn check(from: ClaimStatus, to: ClaimStatus, role: Role) -> Result<Self, AppError> {
        role.require(if to == Retracted {
            Action::Retract
        } else {
            Action::ChangeStatus
        })?;
        if !allowed_targets(from).contains(&to) {
            let allowed: Vec<&str> = allowed_targets(from).iter().map(|s| s.as_str()).collect();
            return Err(AppError::Conflict {
                detail: if allowed.is_empty() {
                    format!("a {from} claim cannot change status")
                } else {
                    format!(
                        "a {from} claim cannot move to {to}; allowed: {}",
                        allowed.join(", ")
                    )
                },
                existing_id: None,
            });
        }
        Ok(StatusTransition { from, to })
    }
}

/// True for the statuses that record a verdict.
pub fn is_judged(status: ClaimStatus) -> bool {
    matches!(status, Verified | Disputed | False | Unverifiable)
}

/// The status after an edit of the claim's text or appearances: a judged
/// claim goes back to unverified.
pub fn reopened(status: ClaimStatus) -> ClaimStatus {
    if is_judged(status) {
        Unverified
    } else {
        status
    }
}

/// Statuses in which a claim can be reviewed.
pub fn reviewable(status: ClaimStatus) -> bool {
    matches!(status, Unverified | InReview) || is_judged(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reporters_edit_only_their_own_drafts() {
        assert!(may_edit_claim(Role::Reporter, "ana", "ana", ClaimStatus::Unverified).is_ok());
        assert!(may_edit_claim(Role::Reporter, "ana", "luis", ClaimStatus::Unverified).is_err());
        assert!(may_edit_claim(Role::Reporter, "ana", "ana", ClaimStatus::Verified).is_err());
        assert!(may_edit_claim(Role::Editor, "eva", "ana", ClaimStatus::Verified).is_ok());
        assert!(may_edit_claim(Role::Reviewer, "rev", "rev", ClaimStatus::Unverified).is_err());
    }

    const ALL: [ClaimStatus; 8] = [
        Proposed,
        Unverified,
        InReview,
        Verified,
        Disputed,
        False,
        Unverifiable,
        Retracted,
    ];

    #[test]
    fn every_move_outside_the_table_is_refused_naming_the_allowed_ones() {
        for from in ALL {
            for to in ALL {
                let result = StatusTransition::check(from, to, Role::Editor);
                if allowed_targets(from).contains(&to) {
                    assert!(result.is_ok(), "{from} -> {to}");
                } else {
                    let Err(AppError::Conflict { detail, .. }) = result else {
                        panic!("{from} -> {to} should be a conflict");
                    };
                    for allowed in allowed_targets(from) {
                        assert!(detail.contains(allowed.as_str()), "{detail}");
                    }
                }
            }
        }
    }

    #[test]
    fn only_editors_retract_and_reporters_never_change_status() {
        assert!(matches!(
            StatusTransition::check(InReview, Retracted, Role::Reviewer),
            Err(AppError::Forbidden(_))
        ));
        assert!(StatusTransition::check(InReview, Retracted, Role::Editor).is_ok());
        assert!(matches!(
            StatusTransition::check(Unverified, InReview, Role::Reporter),
            Err(AppError::Forbidden(_))
        ));
    }

    #[test]
    fn edits_reopen_judged_claims() {
        assert_eq!(reopened(Verified), Unverified);
        assert_eq!(reopened(False), Unverified);
        assert_eq!(reopened(InReview), InReview);
        assert!(!reviewable(Retracted));
        assert!(!reviewable(Proposed));
    }
}
