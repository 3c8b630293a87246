//! Request handlers: decode, call storage, encode. Rules live in `domain`.

pub mod articles;
pub mod audit;
pub mod claimreview;
pub mod claims;
pub mod diffs;
pub mod events;
pub mod health;
pub mod import;
pub mod reviews;
pub mod search;
pub mod speakers;
pub mod stories;
pub mod timeline;
pub mod users;
pub mod watches;
