//! The transparency log: its signed checkpoint, public key and proofs. Any
//! role may read them (and anyone, when public reads are on): they are what
//! an outside auditor checks the log with.

use actix_web::{HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::http::auth::Caller;
use crate::http::read_conn::ReadConn;
use crate::http::server::AppState;
use crate::storage::audit_log::{self, InclusionProof};

const TEXT: &str = "text/plain; charset=utf-8";

#[utoipa::path(
    get,
    path = "/v1/audit/checkpoint",
    tag = "audit",
    responses(
        (status = 200, description = "The latest signed checkpoint: a c2sp.org/tlog-checkpoint (origin, tree size, base64 root hash) in a c2sp.org/signed-note with the log's Ed25519 signature", content((String = "text/plain"))),
    ),
)]
pub async fn checkpoint(caller: Caller, mut conn: ReadConn) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let latest = audit_log::latest_checkpoint(&mut conn)
        .await?
        .ok_or_else(|| {
            AppError::Unavailable("the log has no checkpoint yet; retry shortly".into())
        })?;
    Ok(HttpResponse::Ok()
        .content_type(TEXT)
        .insert_header(("cache-control", "no-cache"))
        .body(latest.signed_note))
}

#[utoipa::path(
    get,
    path = "/v1/audit/public-key",
    tag = "audit",
    responses(
        (status = 200, description = "The log's verifier key (c2sp.org/signed-note: `<origin>+<key id>+<base64 Ed25519 key>`)", content((String = "text/plain"))),
    ),
)]
pub async fn public_key(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    Ok(HttpResponse::Ok()
        .content_type(TEXT)
        .body(format!("{}\n", state.log_verifier_key)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProofQuery {
    /// The tree size to prove against (a checkpoint's); the latest
    /// checkpoint's when left out.
    #[param(minimum = 1)]
    tree_size: Option<u64>,
}

/// An RFC 6962 inclusion proof.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InclusionProofBody {
    pub event_id: i64,
    pub leaf_index: u64,
    pub tree_size: u64,
    /// The leaf's bytes (base64): `claimtrail-audit-v2\n` and the event as
    /// canonical JSON.
    pub leaf: String,
    /// The audit path, base64 SHA-256 hashes, from the leaf's sibling up.
    pub hashes: Vec<String>,
}

impl InclusionProofBody {
    fn new(proof: InclusionProof) -> Self {
        InclusionProofBody {
            event_id: proof.event_id,
            leaf_index: proof.leaf_index,
            tree_size: proof.tree_size,
            leaf: STANDARD.encode(&proof.leaf),
            hashes: proof.hashes.iter().map(|h| STANDARD.encode(h.0)).collect(),
        }
    }
}

#[utoipa::path(
    get,
    path = "/v1/audit/events/{id}/proof",
    tag = "audit",
    params(("id" = i64, Path, minimum = 1, description = "The event's id"), ProofQuery),
    responses(
        (status = 200, description = "The event's leaf and its inclusion proof", body = InclusionProofBody),
        (status = 409, description = "The event is not in the log yet (within the merge delay)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn event_proof(
    caller: Caller,
    id: web::Path<i64>,
    query: web::Query<ProofQuery>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let id = id.into_inner();
    let proof = audit_log::inclusion_proof(&mut conn, id, query.tree_size).await?;
    Ok(HttpResponse::Ok().json(InclusionProofBody::new(proof)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    /// The earlier tree size (a checkpoint you saved).
    #[param(minimum = 0)]
    from: u64,
    /// The later tree size; the latest checkpoint's when left out.
    #[param(minimum = 1)]
    to: Option<u64>,
}

/// An RFC 6962 consistency proof.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConsistencyProofBody {
    pub from: u64,
    pub to: u64,
    /// Base64 SHA-256 hashes.
    pub hashes: Vec<String>,
}

#[utoipa::path(
    get,
    path = "/v1/audit/consistency",
    tag = "audit",
    params(ConsistencyQuery),
    responses(
        (status = 200, description = "The proof that the tree of `from` leaves is a prefix of the tree of `to`", body = ConsistencyProofBody),
    ),
)]
pub async fn consistency(
    caller: Caller,
    query: web::Query<ConsistencyQuery>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let (to, hashes) = audit_log::consistency_proof(&mut conn, query.from, query.to).await?;
    Ok(HttpResponse::Ok().json(ConsistencyProofBody {
        from: query.from,
        to,
        hashes: hashes.iter().map(|h| STANDARD.encode(h.0)).collect(),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StoryProofQuery {
    /// The tree size to prove against; the latest checkpoint's when left out.
    #[param(minimum = 1)]
    tree_size: Option<u64>,
    /// Continue after this story sequence number.
    #[param(minimum = 0)]
    after: Option<i64>,
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// One event of a story with its place and proof.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StoryLeafBody {
    /// The event's number among the story's events in the log (1, 2, 3…).
    pub story_seq: i64,
    #[serde(flatten)]
    pub proof: InclusionProofBody,
}

/// A story's events in the log, each with an inclusion proof.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StoryProofsBody {
    pub story_id: i64,
    pub tree_size: u64,
    pub items: Vec<StoryLeafBody>,
    /// The `after` that continues the list, when more follow.
    pub next_after: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/v1/audit/stories/{id}/proofs",
    tag = "audit",
    params(("id" = i64, Path, minimum = 1, description = "The story's id"), StoryProofQuery),
    responses(
        (status = 200, description = "The story's events in the log, in story order, each with its leaf and inclusion proof", body = StoryProofsBody),
    ),
)]
pub async fn story_proofs(
    caller: Caller,
    id: web::Path<i64>,
    query: web::Query<StoryProofQuery>,
    mut conn: ReadConn,
) -> Result<HttpResponse, AppError> {
    caller.allow_read()?;
    let story_id = id.into_inner();
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(AppError::invalid("limit", "must be between 1 and 500"));
    }
    let after = query.after.unwrap_or(0);
    if after < 0 {
        return Err(AppError::invalid("after", "must be at least 0"));
    }
    if !crate::storage::stories::exists(&mut conn, story_id).await? {
        return Err(AppError::not_found(format!("story {story_id}")));
    }
    let (tree_size, found) =
        audit_log::story_proofs(&mut conn, story_id, query.tree_size, after, limit + 1).await?;
    let more = found.len() as i64 > limit;
    let items: Vec<StoryLeafBody> = found
        .into_iter()
        .take(limit as usize)
        .map(|(story_seq, proof)| StoryLeafBody {
            story_seq,
            proof: InclusionProofBody::new(proof),
        })
        .collect();
    let next_after = if more {
        items.last().map(|i| i.story_seq)
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(StoryProofsBody {
        story_id,
        tree_size,
        items,
        next_after,
    }))
}
