//! Waiting until a request is really in flight: blocked on a row lock that
//! the test holds, seen in `pg_stat_activity` (a request still in the listen
//! backlog or on its way would not be). Shared by the API tests and the
//! tests of the real binary.

use std::time::{Duration, Instant};

use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Returns once some session of `conn`'s database waits on a lock.
pub async fn until_a_session_waits_on_a_lock(conn: &mut AsyncPgConnection) {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let waiting: Count = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity
              WHERE wait_event_type = 'Lock' AND datname = current_database()",
        )
        .get_result(conn)
        .await
        .unwrap();
        if waiting.n > 0 {
            return;
        }
        assert!(Instant::now() < deadline, "no request reached the lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
