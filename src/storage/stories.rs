//! Stories.

use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;

use super::events::{self, AuditContext, EventRecord};
use super::models::{NewStoryRow, Story};
use super::schema::stories;
use super::{Page, PageRequest, keyset};
use crate::domain::audit::AuditAction;
use crate::domain::story::ValidStory;
use crate::error::{AppError, AppResult};

pub async fn create(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    story: ValidStory,
) -> AppResult<Story> {
    conn.transaction(async |conn| {
        let existing: Option<i64> = stories::table
            .filter(stories::slug.eq(&story.slug))
            .select(stories::id)
            .first(conn)
            .await
            .optional()?;
        if let Some(id) = existing {
            return Err(AppError::Conflict {
                detail: format!("story {id} already has the slug {:?}", story.slug),
                existing_id: Some(id),
            });
        }
        let created: Story = diesel::insert_into(stories::table)
            .values(NewStoryRow {
                slug: &story.slug,
                title: &story.title,
                description: story.description.as_deref(),
            })
            .returning(Story::as_returning())
            .get_result(conn)
            .await?;
        events::record(
            conn,
            ctx,
            EventRecord {
                action: AuditAction::StoryCreated,
                subject_type: "story",
                subject_id: created.id,
                story_id: Some(created.id),
                before_revision: None,
                after_revision: None,
                details: json!({ "slug": created.slug, "title": created.title }),
            },
        )
        .await?;
        Ok(created)
    })
    .await
}

pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> AppResult<Story> {
    stories::table
        .find(id)
        .select(Story::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("story {id}")))
}

pub async fn exists(conn: &mut AsyncPgConnection, id: i64) -> AppResult<bool> {
    Ok(stories::table
        .find(id)
        .select(stories::id)
        .first::<i64>(conn)
        .await
        .optional()?
        .is_some())
}

pub async fn list(conn: &mut AsyncPgConnection, page: PageRequest) -> AppResult<Page<Story>> {
    let query = keyset!(
        stories::table.select(Story::as_select()).into_boxed(),
        stories::id,
        page
    );
    let rows: Vec<Story> = query.load(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |s| s.id))
}
