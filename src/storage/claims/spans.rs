//! Spans: resolving requested appearances to article revisions, checking
//! them, and writing appearance rows.

use std::collections::{HashMap, HashSet};

use diesel::{ExpressionMethods, JoinOnDsl, QueryDsl, SelectableHelper};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::domain::claim::{
    Appearance, AppearanceInput, AppearanceState, SpanTarget, check_span, normalize_appearances,
};
use crate::domain::validation::Validator;
use crate::error::AppResult;
use crate::storage::models::*;
use crate::storage::schema::{article_revisions, articles, claim_appearances};

/// Resolves requested spans to article revisions and checks each against its
/// body; problems are added to `v` under `appearances[i]`.
pub(super) async fn resolve_appearances(
    conn: &mut AsyncPgConnection,
    story_id: i64,
    inputs: &[AppearanceInput],
    v: &mut Validator,
) -> AppResult<Vec<Appearance>> {
    if inputs.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = inputs
        .iter()
        .map(|a| a.article_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let targets = SpanTargets::load(conn, &ids).await?;
    Ok(targets.resolve(story_id, inputs, v))
}

/// What span checks need to know about some articles: each one's current
/// revision, and the story and body length of each of its revisions.
#[derive(Debug, Default)]
pub struct SpanTargets {
    current: HashMap<i64, i32>,
    revisions: HashMap<(i64, i32), SpanTarget>,
}

impl SpanTargets {
    /// Loads the articles `ids` (one query); unknown ids are simply absent.
    pub async fn load(conn: &mut AsyncPgConnection, ids: &[i64]) -> AppResult<SpanTargets> {
        let mut targets = SpanTargets::default();
        targets.extend(conn, ids).await?;
        Ok(targets)
    }

    /// Adds the articles `ids` to what is known (one query).
    pub async fn extend(&mut self, conn: &mut AsyncPgConnection, ids: &[i64]) -> AppResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let found: Vec<(i64, i64, i32, i32, i32)> = articles::table
            .inner_join(article_revisions::table.on(article_revisions::article_id.eq(articles::id)))
            .filter(articles::id.eq_any(ids))
            .select((
                articles::id,
                articles::story_id,
                articles::current_revision,
                article_revisions::revision,
                article_revisions::body_chars,
            ))
            .load(conn)
            .await?;
        for (article_id, article_story, current_revision, revision, body_chars) in found {
            self.current.insert(article_id, current_revision);
            self.revisions.insert(
                (article_id, revision),
                SpanTarget {
                    article_id,
                    article_revision: revision,
                    story_id: article_story,
                    body_chars,
                },
            );
        }
        Ok(())
    }

    pub fn knows(&self, article_id: i64) -> bool {
        self.current.contains_key(&article_id)
    }

    /// Checks each requested span of a claim in `story_id`; problems are
    /// added to `v` under `appearances[i]`.
    pub fn resolve(
        &self,
        story_id: i64,
        inputs: &[AppearanceInput],
        v: &mut Validator,
    ) -> Vec<Appearance> {
        let mut resolved = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.iter().enumerate() {
            let field = format!("appearances[{i}]");
            let Some(&current_revision) = self.current.get(&input.article_id) else {
                v.error(
                    format!("{field}.article_id"),
                    format!("article {} does not exist", input.article_id),
                );
                continue;
            };
            let revision = input.article_revision.unwrap_or(current_revision);
            let Some(target) = self.revisions.get(&(input.article_id, revision)) else {
                v.error(
                    format!("{field}.article_revision"),
                    format!("article {} has no revision {revision}", input.article_id),
                );
                continue;
            };
            if let Some(appearance) = check_span(&field, input, target, story_id, v) {
                resolved.push(appearance);
            }
        }
        normalize_appearances(resolved)
    }
}

/// One appearance row to write: where, and what became of it.
#[derive(Debug, Clone)]
pub struct AppearanceWrite {
    pub appearance: Appearance,
    pub state: AppearanceState,
    pub previous_excerpt: Option<String>,
}

impl AppearanceWrite {
    pub(in crate::storage) fn present(appearance: Appearance) -> Self {
        AppearanceWrite {
            appearance,
            state: AppearanceState::Present,
            previous_excerpt: None,
        }
    }

    /// An existing row as it is, state and history included.
    pub(in crate::storage) fn kept(row: &AppearanceRow) -> Self {
        AppearanceWrite {
            appearance: row.appearance(),
            state: row.state,
            previous_excerpt: row.previous_excerpt.clone(),
        }
    }
}

pub(super) async fn insert_appearances(
    conn: &mut AsyncPgConnection,
    claim_id: i64,
    claim_revision: i32,
    list: &[AppearanceWrite],
) -> AppResult<Vec<AppearanceRow>> {
    if list.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<NewAppearanceRow> = list
        .iter()
        .map(|w| NewAppearanceRow {
            claim_id,
            claim_revision,
            article_id: w.appearance.article_id,
            article_revision: w.appearance.article_revision,
            span_start: w.appearance.start,
            span_end: w.appearance.end,
            state: w.state,
            previous_excerpt: w.previous_excerpt.clone(),
        })
        .collect();
    let mut inserted: Vec<AppearanceRow> = diesel::insert_into(claim_appearances::table)
        .values(&rows)
        .returning(AppearanceRow::as_returning())
        .get_results(conn)
        .await?;
    sort_appearances(&mut inserted);
    Ok(inserted)
}

pub(super) fn sort_appearances(rows: &mut [AppearanceRow]) {
    rows.sort_by_key(|r| (r.article_id, r.article_revision, r.span_start, r.span_end));
}
