//! Counting the SQL statements each request sends, so that tests can prove
//! that list and timeline endpoints do not issue one query per row (N+1),
//! and operators can see it in `Server-Timing`.
//!
//! Every pooled connection carries [`QueryCounter`]; it adds one to the
//! counter of the task that runs the statement, if that task has one (see
//! [`counting`]). Statements run outside a counted task are not counted.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use diesel::connection::{Instrumentation, InstrumentationEvent};

tokio::task_local! {
    static QUERIES: Rc<Cell<u32>>;
}

/// Diesel instrumentation that counts started statements (BEGIN and COMMIT
/// included: each is a round trip).
#[derive(Debug, Default, Clone, Copy)]
pub struct QueryCounter;

impl Instrumentation for QueryCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { .. } = event {
            let _ = QUERIES.try_with(|n| n.set(n.get() + 1));
        }
    }
}

/// Runs `fut`, counting the statements it sends; returns its output and the count.
pub async fn counting<F: Future>(fut: F) -> (F::Output, u32) {
    let counter = Rc::new(Cell::new(0));
    let output = QUERIES.scope(counter.clone(), fut).await;
    (output, counter.get())
}
