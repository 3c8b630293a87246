//! The audit log: one event per mutation, written in the mutation's transaction.

use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::NewAuditEvent;
use super::prepared::Dynamic;
use super::schema::audit_events;
use super::{Page, PageRequest};
use crate::domain::audit::AuditAction;
use crate::error::AppResult;
use diesel::sql_types::{Array, BigInt, Integer, Jsonb, Nullable, Text, Timestamptz};

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
    pub action: AuditAction,
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
    // bench/audit measures the log's cost against a build without events.
    if cfg!(feature = "bench-unaudited") {
        return Ok(());
    }
    diesel::insert_into(audit_events::table)
        .values(NewAuditEvent {
            actor: &ctx.actor,
            action: event.action.as_str(),
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
#[derive(Debug, Clone, diesel::QueryableByName, serde::Serialize, utoipa::ToSchema)]
pub struct EventView {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// The event's place in the transparency log: null until the sequencer
    /// has integrated it (within the log's merge delay).
    #[diesel(sql_type = Nullable<BigInt>)]
    pub leaf_index: Option<i64>,
    /// Its number among its story's events in the log (1, 2, 3…), once
    /// integrated.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub story_seq: Option<i64>,
    /// RFC 3339 with microseconds, as the event's leaf records it.
    #[diesel(sql_type = Timestamptz)]
    #[serde(serialize_with = "serialize_timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    #[diesel(sql_type = Text)]
    pub actor: String,
    #[diesel(sql_type = Text)]
    pub action: String,
    #[diesel(sql_type = Text)]
    pub subject_type: String,
    #[diesel(sql_type = BigInt)]
    pub subject_id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub story_id: Option<i64>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub before_revision: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub after_revision: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    pub request_id: Option<String>,
    #[diesel(sql_type = Jsonb)]
    pub details: serde_json::Value,
}

impl EventView {
    /// The event as its leaf in the transparency log records it.
    pub fn leaf_event(&self) -> crate::domain::audit::LeafEvent<'_> {
        crate::domain::audit::LeafEvent {
            id: self.id,
            occurred_at: self.occurred_at,
            actor: &self.actor,
            action: &self.action,
            subject_type: &self.subject_type,
            subject_id: self.subject_id,
            story_id: self.story_id,
            story_seq: self.story_seq,
            before_revision: self.before_revision,
            after_revision: self.after_revision,
            request_id: self.request_id.as_deref(),
            details: &self.details,
        }
    }
}

fn serialize_timestamp<S: serde::Serializer>(
    t: &chrono::DateTime<chrono::Utc>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::domain::audit::timestamp_text(t))
}

#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    pub story_id: Option<i64>,
    pub subject_type: Option<String>,
    pub subject_id: Option<i64>,
    pub actor: Option<String>,
    pub action: Option<AuditAction>,
    /// Any of these actions.
    pub actions: Option<Vec<AuditAction>>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

/// The columns of [`EventView`], from `audit_events e` left-joined (or
/// joined) with `audit_log_leaves l`.
pub const VIEW_COLUMNS: &str = "e.id, l.leaf_index, l.story_seq, e.occurred_at, e.actor, e.action, \
     e.subject_type, e.subject_id, e.story_id, e.before_revision, e.after_revision, e.request_id, e.details";

/// Events in the order they were written (event id), keyset-paginated on
/// the id. An event written by a transaction that commits late can appear
/// behind events already listed; the log's order (`after_leaf`) has no such
/// gaps.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: EventFilter,
    page: PageRequest,
) -> AppResult<Page<EventView>> {
    // Only the filters given become conditions, so that each combination
    // is planned for what it asks (and prepared once per connection).
    // Each event's leaf is looked up by its id (`OFFSET 0` keeps the
    // subquery a per-row look-up): as a plain join, a later page was merged
    // with every leaf from the first (41 ms at a million events, not 1).
    let mut query = Dynamic::new(format!(
        "SELECT {VIEW_COLUMNS} FROM audit_events e LEFT JOIN LATERAL \
           (SELECT leaf_index, story_seq FROM audit_log_leaves WHERE event_id = e.id OFFSET 0) l ON true"
    ));
    if let Some(v) = filter.story_id {
        query = query.condition("e.story_id = ").bind::<BigInt, _>(v);
    }
    if let Some(v) = filter.subject_type {
        query = query.condition("e.subject_type = ").bind::<Text, _>(v);
    }
    if let Some(v) = filter.subject_id {
        query = query.condition("e.subject_id = ").bind::<BigInt, _>(v);
    }
    if let Some(v) = filter.actor {
        query = query.condition("e.actor = ").bind::<Text, _>(v);
    }
    if let Some(v) = filter.action {
        query = query.condition("e.action = ").bind::<Text, _>(v.as_str());
    }
    if let Some(v) = filter.actions {
        let actions: Vec<&'static str> = v.iter().map(|a| a.as_str()).collect();
        query = query
            .condition("e.action = ANY(")
            .bind::<Array<Text>, _>(actions)
            .sql(")");
    }
    if let Some(v) = filter.since {
        query = query
            .condition("e.occurred_at >= ")
            .bind::<Timestamptz, _>(v);
    }
    if let Some(v) = filter.until {
        query = query
            .condition("e.occurred_at < ")
            .bind::<Timestamptz, _>(v);
    }
    let descending = page.order == super::SortOrder::Desc;
    if let Some(v) = page.after {
        query = query
            .condition(if descending { "e.id < " } else { "e.id > " })
            .bind::<BigInt, _>(v);
    }
    let query = query
        .sql(if descending {
            " ORDER BY e.id DESC LIMIT "
        } else {
            " ORDER BY e.id ASC LIMIT "
        })
        .bind::<BigInt, _>(page.limit + 1);
    let rows: Vec<EventView> = query.load(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |e| e.id))
}

/// Events in the log after leaf `after` (exclusive), in log order: what a
/// stream that resumes by leaf index delivers, with no event ever skipped.
pub async fn after_leaf(
    conn: &mut AsyncPgConnection,
    story_id: Option<i64>,
    after: i64,
    limit: i64,
) -> AppResult<Vec<EventView>> {
    Ok(diesel::sql_query(format!(
        "SELECT {VIEW_COLUMNS} FROM audit_log_leaves l JOIN audit_events e ON e.id = l.event_id \
          WHERE l.leaf_index > $1 AND ($2::int8 IS NULL OR l.story_id = $2) \
            AND l.leaf_index < (SELECT coalesce(max(tree_size), 0) FROM audit_log_checkpoints) \
          ORDER BY l.leaf_index LIMIT $3"
    ))
    .bind::<BigInt, _>(after)
    .bind::<Nullable<BigInt>, _>(story_id)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}
