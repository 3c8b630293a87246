//! Claims, their revisions and appearances.
//!
//! A claim is written as a head row (`claims`, the latest state) plus one
//! immutable `claim_revisions` row per change, plus `claim_appearances` rows
//! whenever its spans change, plus an audit event — all in one transaction.
//!
//! One file per job: [`views`] (what the API returns), [`spans`] (resolving
//! and checking appearances), [`create`] (the one writer of new claims, for
//! a POST, an import batch and extraction alike), [`write`] (next revisions),
//! [`read`], [`as_of`] (point-in-time reads) and [`carry`] (following spans
//! across article edits). Speakers are merged in `storage::speakers`.

mod as_of;
mod carry;
mod create;
mod read;
mod spans;
mod views;
mod write;

pub use as_of::*;
pub use carry::*;
pub use create::*;
pub use read::*;
pub use spans::*;
pub use views::*;
pub use write::*;
