//! Structured logs with `tracing`. Request bodies and tokens are never logged.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// The filter of the service: its progress, requests and warnings.
pub const SERVICE_LOGS: &str = "info,actix_server=warn";
/// The filter of a one-shot command: warnings only (its result is its output).
pub const COMMAND_LOGS: &str = "warn";

/// Installs the global subscriber with `default_filter`; `RUST_LOG`
/// overrides it. Colours only on a terminal.
pub fn init(format: LogFormat, default_filter: &str) {
    use std::io::IsTerminal;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
