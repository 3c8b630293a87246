//! API tests: the real app on a random port against a real PostgreSQL.

mod append_only;
mod audit_log;
mod auth;
mod bad_input;
mod browser;
mod claimreview;
mod diffs;
mod distribution;
mod errors;
mod example_story;
mod extract;
mod hardening;
mod helpers;
mod history;
mod import;
mod instances;
#[path = "../common/lock_wait.rs"]
mod lock_wait;
mod openapi;
mod pages;
mod pagination;
mod pool;
mod queries;
mod replicas;
mod revisions;
mod search;
mod speakers;
mod unicode;
mod watches;
mod workflow;
