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
    config.custom_setup = Box::new(|url| {
        Box::pin(async move {
            let mut conn = AsyncPgConnection::establish(url).await?;
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
