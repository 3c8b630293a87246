//! The audit log: one event per mutation, written in the mutation's transaction.

use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::NewAuditEvent;
use super::schema::audit_events;
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
