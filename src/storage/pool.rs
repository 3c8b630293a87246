//! The async connection pool. Database calls never block an actix worker:
//! connections are diesel-async ones, handed out by deadpool.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::query_count::QueryCounter;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};

pub type DbPool = Pool<AsyncPgConnection>;
pub type DbConn = Object<AsyncPgConnection>;

#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_size: usize,
    /// How long a request waits for a free connection (or for a new one to be
    /// established) before it gets a 503.
    pub wait_timeout: Duration,
    /// Longest a statement may run (waiting on a lock included) before
    /// PostgreSQL cancels it and the request gets a 503; zero: no limit.
    pub statement_timeout: Duration,
}

impl PoolSettings {
    /// A pool size that suits the machine: enough connections to keep every
    /// core busy while others wait on I/O, never fewer than 4.
    pub fn default_size() -> usize {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        (cores * 4).clamp(4, 64)
    }
}

pub fn build_pool(database_url: &str, settings: &PoolSettings) -> anyhow::Result<DbPool> {
    let mut config = ManagerConfig::default();
    // A broken connection is detected by the failed query and dropped; checking
    // every checkout with a round trip would add latency to every request.
    config.recycling_method = RecyclingMethod::Fast;
    let statement_timeout_ms = settings.statement_timeout.as_millis();
    config.custom_setup = Box::new(move |url| {
        Box::pin(async move {
            // In the startup packet: no extra round trip per connection.
            let url = with_statement_timeout(url, statement_timeout_ms);
            let mut conn = AsyncPgConnection::establish(&url).await?;
            conn.set_instrumentation(QueryCounter);
            Ok(conn)
        })
    });
    let manager =
        AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(database_url, config);
    let pool = Pool::builder(manager)
        .max_size(settings.max_size)
        .wait_timeout(Some(settings.wait_timeout))
        .create_timeout(Some(settings.wait_timeout))
        .recycle_timeout(Some(settings.wait_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()?;
    Ok(pool)
}

/// The connection string with `statement_timeout` set as a connection
/// option, in URL form (`postgres://…?options=…`) or key=value form.
fn with_statement_timeout(url: &str, ms: u128) -> String {
    if ms == 0 {
        return url.to_owned();
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}options=-c%20statement_timeout%3D{ms}")
    } else {
        format!("{url} options='-c statement_timeout={ms}'")
    }
}

#[cfg(test)]
mod tests {
    use super::with_statement_timeout;

    #[test]
    fn the_statement_timeout_joins_either_form_of_connection_string() {
        assert_eq!(
            with_statement_timeout("postgres://u@h/db", 500),
            "postgres://u@h/db?options=-c%20statement_timeout%3D500"
        );
        assert_eq!(
            with_statement_timeout("postgres://u@h/db?sslmode=disable", 500),
            "postgres://u@h/db?sslmode=disable&options=-c%20statement_timeout%3D500"
        );
        assert_eq!(
            with_statement_timeout("host=/tmp dbname=db", 500),
            "host=/tmp dbname=db options='-c statement_timeout=500'"
        );
        assert_eq!(
            with_statement_timeout("postgres://u@h/db", 0),
            "postgres://u@h/db"
        );
    }
}
