//! The audit log: one event per mutation, written in the mutation's transaction.

use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::NewAuditEvent;
use super::schema::audit_events;
use super::{Page, PageRequest, keyset};
use crate::error::AppResult;

/// Who is making a change, and under which request.
#[derive(Debug, Clone)]
pub struct AuditContext {
    pub actor: String,
    pub request_id: Option<String>,
}

impl AuditContext {
    pub fn system(actor: &str) -> Self {
        AuditContext {
            actor: actor.to_owned(),
            request_id: None,
        }
    }
}

/// What happened to which subject.
pub struct EventRecord<'a> {
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: i64,
    pub story_id: Option<i64>,
    pub before_revision: Option<i32>,
    pub after_revision: Option<i32>,
    pub details: serde_json::Value,
}

pub async fn record(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    event: EventRecord<'_>,
) -> AppResult<()> {
    diesel::insert_into(audit_events::table)
        .values(NewAuditEvent {
            actor: &ctx.actor,
            action: event.action,
            subject_type: event.subject_type,
            subject_id: event.subject_id,
            story_id: event.story_id,
            before_revision: event.before_revision,
            after_revision: event.after_revision,
            request_id: ctx.request_id.as_deref(),
            details: event.details,
        })
        .execute(conn)
        .await?;
    Ok(())
}

/// An audit event as the API lists it.
#[derive(
    Debug, Clone, diesel::Queryable, diesel::Selectable, serde::Serialize, utoipa::ToSchema,
)]
#[diesel(table_name = audit_events, check_for_backend(diesel::pg::Pg))]
pub struct EventView {
    pub id: i64,
    /// Position in the hash chain (commit order).
    pub chain_seq: i64,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    pub action: String,
    pub subject_type: String,
    pub subject_id: i64,
    pub story_id: Option<i64>,
    pub before_revision: Option<i32>,
    pub after_revision: Option<i32>,
    pub request_id: Option<String>,
    pub details: serde_json::Value,
    #[serde(serialize_with = "super::hex_bytes")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub hash: Vec<u8>,
}

#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    pub story_id: Option<i64>,
    pub subject_type: Option<String>,
    pub subject_id: Option<i64>,
    pub actor: Option<String>,
    pub action: Option<String>,
    /// Any of these actions.
    pub actions: Option<Vec<&'static str>>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

/// Events in chain order, keyset-paginated on their chain position.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: EventFilter,
    page: PageRequest,
) -> AppResult<Page<EventView>> {
    use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
    let mut query = audit_events::table
        .select(EventView::as_select())
        .into_boxed();
    if let Some(id) = filter.story_id {
        query = query.filter(audit_events::story_id.eq(id));
    }
    if let Some(t) = filter.subject_type {
        query = query.filter(audit_events::subject_type.eq(t));
    }
    if let Some(id) = filter.subject_id {
        query = query.filter(audit_events::subject_id.eq(id));
    }
    if let Some(a) = filter.actor {
        query = query.filter(audit_events::actor.eq(a));
    }
    if let Some(a) = filter.action {
        query = query.filter(audit_events::action.eq(a));
    }
    if let Some(list) = filter.actions {
        query = query.filter(audit_events::action.eq_any(list));
    }
    if let Some(t) = filter.since {
        query = query.filter(audit_events::occurred_at.ge(t));
    }
    if let Some(t) = filter.until {
        query = query.filter(audit_events::occurred_at.lt(t));
    }
    let rows: Vec<EventView> = keyset!(query, audit_events::chain_seq, page)
        .load(conn)
        .await?;
    Ok(Page::from_rows(rows, page.limit, |e| e.chain_seq))
}

/// One stored event with everything its hash covers.
#[derive(Debug, diesel::QueryableByName)]
struct ChainedEvent {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    chain_seq: i64,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    occurred_at: chrono::DateTime<chrono::Utc>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    actor: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    action: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    subject_type: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    subject_id: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    story_id: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
    before_revision: Option<i32>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
    after_revision: Option<i32>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    request_id: Option<String>,
    /// jsonb's own text form, which the hash covers.
    #[diesel(sql_type = diesel::sql_types::Text)]
    details: String,
    #[diesel(sql_type = diesel::sql_types::Binary)]
    prev_hash: Vec<u8>,
    #[diesel(sql_type = diesel::sql_types::Binary)]
    hash: Vec<u8>,
}

impl ChainedEvent {
    fn canonical(&self) -> crate::domain::audit::CanonicalEvent<'_> {
        crate::domain::audit::CanonicalEvent {
            chain_seq: self.chain_seq,
            id: self.id,
            occurred_at_micros: self.occurred_at.timestamp_micros(),
            actor: &self.actor,
            action: &self.action,
            subject_type: &self.subject_type,
            subject_id: self.subject_id,
            story_id: self.story_id,
            before_revision: self.before_revision,
            after_revision: self.after_revision,
            request_id: self.request_id.as_deref(),
            details: &self.details,
        }
    }
}

/// The result of re-computing the audit chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainReport {
    Intact {
        events: u64,
    },
    Broken {
        event_id: Option<i64>,
        chain_seq: i64,
        reason: String,
    },
}

/// Recomputes every hash of the audit chain, in chain order, and checks the
/// chain head; names the first event where stored and recomputed disagree.
pub async fn verify_chain(conn: &mut AsyncPgConnection) -> AppResult<ChainReport> {
    use crate::domain::audit::{GENESIS, chain_hash};
    const BATCH: i64 = 5_000;
    let mut prev: Vec<u8> = GENESIS.to_vec();
    let mut expected_seq = 1i64;
    loop {
        let batch: Vec<ChainedEvent> = diesel::sql_query(
            "SELECT id, chain_seq, occurred_at, actor, action, subject_type, subject_id, story_id, \
             before_revision, after_revision, request_id, details::text AS details, prev_hash, hash \
             FROM audit_events WHERE chain_seq >= $1 ORDER BY chain_seq LIMIT $2",
        )
        .bind::<diesel::sql_types::BigInt, _>(expected_seq)
        .bind::<diesel::sql_types::BigInt, _>(BATCH)
        .load(conn)
        .await?;
        let done = (batch.len() as i64) < BATCH;
        for event in &batch {
            let broken = |reason: String| ChainReport::Broken {
                event_id: Some(event.id),
                chain_seq: event.chain_seq,
                reason,
            };
            if event.chain_seq != expected_seq {
                return Ok(ChainReport::Broken {
                    event_id: Some(event.id),
                    chain_seq: expected_seq,
                    reason: format!(
                        "event at chain position {expected_seq} is missing (next is {})",
                        event.chain_seq
                    ),
                });
            }
            if event.prev_hash != prev {
                return Ok(broken(
                    "its previous-hash does not match the event before it".into(),
                ));
            }
            let recomputed = chain_hash(&prev, &event.canonical());
            if event.hash != recomputed {
                return Ok(broken(
                    "its content does not match its hash (the event was altered)".into(),
                ));
            }
            prev = recomputed;
            expected_seq += 1;
        }
        if done {
            break;
        }
    }
    #[derive(diesel::QueryableByName)]
    struct Head {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        last_seq: i64,
        #[diesel(sql_type = diesel::sql_types::Binary)]
        last_hash: Vec<u8>,
    }
    let head: Head = diesel::sql_query("SELECT last_seq, last_hash FROM audit_chain_head")
        .get_result(conn)
        .await?;
    let events = expected_seq - 1;
    if head.last_seq != events || head.last_hash != prev {
        return Ok(ChainReport::Broken {
            event_id: None,
            chain_seq: head.last_seq,
            reason: format!(
                "the chain head records {} events but {events} were found: events at the end were removed",
                head.last_seq
            ),
        });
    }
    Ok(ChainReport::Intact {
        events: events as u64,
    })
}
