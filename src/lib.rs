//! claimtrail: a fact-claim ledger for newsrooms and fact-checkers.
//!
//! - [`domain`]: claims, speakers, articles, revisions and their rules;
//! - [`storage`]: PostgreSQL through diesel, migrations, the embedded cluster;
//! - [`fetcher`]: fetching outlets' pages and feeds, politely and safely;
//! - [`http`]: the REST API (routes, extractors, problem+json errors);
//! - [`http::server`]: wiring the pieces into a running server;
//! - [`shutdown`]: how `serve` stops on SIGTERM and Ctrl-C.

pub mod config;
pub mod domain;
pub mod error;
pub mod fetcher;
pub mod http;
pub mod sequencer;
pub mod shutdown;
pub mod storage;
pub mod telemetry;
pub mod watcher;
