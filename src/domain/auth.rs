//! Who may do what: roles, the actions they allow, and bearer tokens.
//!
//! The permission table lives here and nowhere else; handlers name the action
//! they perform and ask.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::text_enum;
use crate::error::AppError;

text_enum! {
    /// A user's role. Each role can do what the one before it can, except
    /// that reviewers do not log content and reporters do not review.
    Role {
        Reporter => "reporter",
        Reviewer => "reviewer",
        Editor => "editor",
        Admin => "admin",
    }
}

/// Everything the API lets a caller do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    /// Create stories, speakers and articles, and log claims.
    LogContent,
    /// Change a claim's fields (reporters only their own drafts).
    EditClaim,
    ChangeStatus,
    Retract,
    Review,
    Comment,
    Assign,
    /// Link claims (contradicts, supports, …) and merge speakers.
    Curate,
    /// Add, pause, resume, delete and poll watches of outlets.
    ManageWatches,
    ManageUsers,
}

impl Role {
    pub fn may(self, action: Action) -> bool {
        use Action::*;
        use Role::*;
        match action {
            Read => true,
            LogContent | EditClaim => matches!(self, Reporter | Editor | Admin),
            ChangeStatus | Review | Comment | Assign => matches!(self, Reviewer | Editor | Admin),
            Retract | Curate | ManageWatches => matches!(self, Editor | Admin),
            ManageUsers => matches!(self, Admin),
        }
    }

    pub fn require(self, action: Action) -> Result<(), AppError> {
        if self.may(action) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "the {self} role may not {}",
                describe(action)
            )))
        }
    }
}

fn describe(action: Action) -> &'static str {
    match action {
        Action::Read => "read the ledger",
        Action::LogContent => "log stories, speakers, articles or claims",
        Action::EditClaim => "edit claims",
        Action::ChangeStatus => "change a claim's status",
        Action::Retract => "retract claims",
        Action::Review => "review claims",
        Action::Comment => "comment on claims",
        Action::Assign => "assign claims",
        Action::Curate => "link claims or merge speakers",
        Action::ManageWatches => "manage watches of outlets",
        Action::ManageUsers => "manage users and tokens",
    }
}

/// A user name: letters, digits and `._@-`, starting with a letter or digit.
pub fn is_valid_user_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() <= 100
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-'))
}

/// Prefix that makes claimtrail tokens recognizable (for secret scanners).
pub const TOKEN_PREFIX: &str = "ct_";

/// A new bearer token (256 random bits) and the SHA-256 that is stored.
pub fn generate_token() -> Result<(String, [u8; 32]), AppError> {
    let token = format!("{TOKEN_PREFIX}{}", random_secret()?);
    let hash = hash_token(&token);
    Ok((token, hash))
}

/// 256 random bits, URL-safe: a session id or a CSRF token.
pub fn random_secret() -> Result<String, AppError> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(secret))
}

pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_permission_table() {
        use Action::*;
        let table = [
            (
                Role::Reporter,
                [
                    true, true, true, false, false, false, false, false, false, false, false,
                ],
            ),
            (
                Role::Reviewer,
                [
                    true, false, false, true, false, true, true, true, false, false, false,
                ],
            ),
            (
                Role::Editor,
                [
                    true, true, true, true, true, true, true, true, true, true, false,
                ],
            ),
            (
                Role::Admin,
                [
                    true, true, true, true, true, true, true, true, true, true, true,
                ],
            ),
        ];
        let actions = [
            Read,
            LogContent,
            EditClaim,
            ChangeStatus,
            Retract,
            Review,
            Comment,
            Assign,
            Curate,
            ManageWatches,
            ManageUsers,
        ];
        for (role, allowed) in table {
            for (action, expected) in actions.iter().zip(allowed) {
                assert_eq!(role.may(*action), expected, "{role} {action:?}");
            }
        }
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, hash_a) = generate_token().unwrap();
        let (b, _) = generate_token().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 43);
        assert_eq!(hash_token(&a), hash_a);
    }

    #[test]
    fn user_names() {
        assert!(is_valid_user_name("ana.robles@harborwire"));
        assert!(!is_valid_user_name("-ana"));
        assert!(!is_valid_user_name("ana robles"));
        assert!(!is_valid_user_name(""));
    }
}
