//! The article page: an article's revisions, and between two of them the
//! text on each side with what changed and where each claim's span sits,
//! with how every claim was carried to the newer revision.

use std::ops::Range;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use similar::DiffTag;

use super::page::{Chrome, UiError, list_page, next_cursor, render};
use super::session::Reviewer;
use crate::domain::diff::Alignment;
use crate::http::handlers::diffs::DiffQuery;
use crate::http::read_conn::ReadConn;
use crate::http::server::AppState;
use crate::storage::SortOrder;
use crate::storage::article_captures;
use crate::storage::articles::{self, ArticleRevisionSummary, ArticleView};
use crate::storage::claims;

/// A run of one side of an article diff: its text, whether it is kept,
/// deleted (old side) or inserted (new side), and the claim whose span
/// covers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    pub change: &'static str,
    pub claim: Option<i64>,
}

/// One side of a diff cut into pieces: `changed` are the character ranges
/// that differ on that side, `spans` the claims' spans `(start, end, claim)`.
pub fn pane(
    text: &str,
    changed: &[Range<usize>],
    spans: &[(usize, usize, i64)],
    mark: &'static str,
) -> Vec<Piece> {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let mut cuts: Vec<usize> = vec![0, n];
    for r in changed {
        cuts.extend([r.start.min(n), r.end.min(n)]);
    }
    for (s, e, _) in spans {
        cuts.extend([(*s).min(n), (*e).min(n)]);
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut pieces: Vec<Piece> = Vec::new();
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        if a == b {
            continue;
        }
        let change = if changed.iter().any(|r| r.start <= a && a < r.end) {
            mark
        } else {
            "same"
        };
        // The innermost (latest-starting) span holding this run.
        let claim = spans
            .iter()
            .filter(|(s, e, _)| *s <= a && a < *e)
            .max_by_key(|(s, _, _)| *s)
            .map(|(_, _, c)| *c);
        let run: String = chars[a..b].iter().collect();
        match pieces.last_mut() {
            Some(last) if last.change == change && last.claim == claim => last.text.push_str(&run),
            _ => pieces.push(Piece {
                text: run,
                change,
                claim,
            }),
        }
    }
    pieces
}

/// How a claim fared between the two revisions shown.
pub struct Carried {
    pub claim_id: i64,
    pub state: String,
    pub old_excerpt: Option<String>,
    pub new_excerpt: Option<String>,
}

#[derive(Template)]
#[template(path = "article.html")]
struct ArticlePage {
    chrome: Chrome,
    article: ArticleView,
    revisions: Vec<ArticleRevisionSummary>,
    /// The listed revisions a watch recorded, whose fetched page is kept.
    captured: Vec<i32>,
    older_revisions: Option<String>,
    from: i32,
    to: i32,
    old_pane: Vec<Piece>,
    new_pane: Vec<Piece>,
    headline_changed: Option<(String, String)>,
    carried: Vec<Carried>,
    timed_out: bool,
}

#[derive(Deserialize)]
pub struct ArticleQuery {
    from: Option<i32>,
    to: Option<i32>,
    /// Where the list of revisions starts (its "older" link's cursor).
    revisions: Option<String>,
}

pub async fn page(
    state: web::Data<AppState>,
    reviewer: Reviewer,
    id: web::Path<i64>,
    query: web::Query<ArticleQuery>,
    mut conn: ReadConn,
) -> Result<HttpResponse, UiError> {
    let id = id.into_inner();
    DiffQuery::check_revisions(query.from, query.to)?;
    let article = articles::get(&mut conn, id).await?;
    let to = query.to.unwrap_or(article.revision);
    let from = query.from.unwrap_or((to - 1).max(1));
    let (old, new) = articles::revision_pair(&mut conn, id, Some(from), Some(to)).await?;
    let revisions = articles::revisions(
        &mut conn,
        id,
        list_page(query.revisions.clone(), SortOrder::Desc)?,
    )
    .await?;
    let older_revisions = next_cursor(SortOrder::Desc, revisions.next_after).map(|cursor| {
        format!("/ui/articles/{id}?from={from}&to={to}&revisions={cursor}#revisions-heading")
    });
    let revisions = revisions.items;
    let numbers: Vec<i32> = revisions.iter().map(|r| r.revision).collect();
    let captured = article_captures::captured_among(&mut conn, id, &numbers).await?;
    let old_spans = claims::appearances_in_article_revision(&mut conn, id, old.revision).await?;
    let new_spans = claims::appearances_in_article_revision(&mut conn, id, new.revision).await?;
    drop(conn);

    let alignment = Alignment::sentences(&old.body, &new.body, state.limits.diff_timeout);
    let (mut old_changed, mut new_changed) = (Vec::new(), Vec::new());
    for s in &alignment.segments {
        if s.tag != DiffTag::Equal {
            old_changed.push(s.old_chars.clone());
            new_changed.push(s.new_chars.clone());
        }
    }
    let spans = |rows: &[crate::storage::models::AppearanceRow]| -> Vec<(usize, usize, i64)> {
        rows.iter()
            .filter(|r| r.span_end > r.span_start)
            .map(|r| {
                (
                    r.span_start.max(0) as usize,
                    r.span_end.max(0) as usize,
                    r.claim_id,
                )
            })
            .collect()
    };
    let old_pane = pane(&old.body, &old_changed, &spans(&old_spans), "del");
    let new_pane = pane(&new.body, &new_changed, &spans(&new_spans), "ins");

    let mut carried: Vec<Carried> = Vec::new();
    for r in &new_spans {
        let before = old_spans.iter().find(|o| o.claim_id == r.claim_id);
        carried.push(Carried {
            claim_id: r.claim_id,
            state: if old.revision == new.revision {
                "same revision".into()
            } else {
                r.state.as_str().into()
            },
            old_excerpt: before.map(|o| o.excerpt.clone()),
            new_excerpt: (r.span_end > r.span_start).then(|| r.excerpt.clone()),
        });
    }
    for o in &old_spans {
        if !new_spans.iter().any(|r| r.claim_id == o.claim_id) {
            carried.push(Carried {
                claim_id: o.claim_id,
                state: "not carried to this revision".into(),
                old_excerpt: Some(o.excerpt.clone()),
                new_excerpt: None,
            });
        }
    }
    carried.sort_by_key(|c| c.claim_id);
    render(
        StatusCode::OK,
        &ArticlePage {
            chrome: reviewer.chrome(),
            headline_changed: (old.headline != new.headline)
                .then(|| (old.headline.clone(), new.headline.clone())),
            from: old.revision,
            to: new.revision,
            timed_out: alignment.timed_out,
            article,
            revisions,
            captured,
            older_revisions,
            old_pane,
            new_pane,
            carried,
        },
    )
}

impl ArticlePage {
    fn has_page(&self, revision: &i32) -> bool {
        self.captured.contains(revision)
    }
}

/// The page a watched revision was read from, as an attachment.
pub async fn captured_page(
    _reviewer: Reviewer,
    path: web::Path<(i64, i32)>,
    mut conn: ReadConn,
) -> Result<HttpResponse, UiError> {
    let (id, n) = path.into_inner();
    let capture = article_captures::get(&mut conn, id, n).await?;
    Ok(crate::http::handlers::articles::captured_page_response(
        &capture,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pane_cuts_at_changes_and_spans_in_code_points() {
        let text = "Ο υπουργός είπε ότι 17 πολίτες. Τέλος.";
        let start = text.chars().position(|c| c == '1').unwrap();
        let changed: Vec<Range<usize>> = std::iter::once(start..start + 2).collect();
        let pieces = pane(text, &changed, &[(start, start + 10, 7)], "del");
        let rebuilt: String = pieces.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(rebuilt, text);
        assert_eq!(
            pieces[1],
            Piece {
                text: "17".into(),
                change: "del",
                claim: Some(7)
            }
        );
        assert_eq!(pieces[2].text, " πολίτες");
        assert_eq!((pieces[2].change, pieces[2].claim), ("same", Some(7)));
        assert_eq!(pieces[3].claim, None);
    }

    #[test]
    fn ranges_past_the_end_are_clamped() {
        let changed: Vec<Range<usize>> = std::iter::once(1..99).collect();
        let pieces = pane("abc", &changed, &[(2, 50, 1)], "ins");
        let rebuilt: String = pieces.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(rebuilt, "abc");
        assert_eq!(pieces.last().unwrap().claim, Some(1));
    }
}
