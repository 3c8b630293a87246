//! Claim proposals for an article's current revision, with their speakers
//! resolved against the ledger, and applying them as `proposed` claims.
//!
//! Extraction itself is pure ([`crate::domain::attribution::propose`]); this
//! module adds what needs the database: which speaker each source phrase
//! names, which proposals are already logged (a claim appears on exactly
//! that span of that revision), and the one transaction that stores the
//! accepted proposals with their new speakers.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::{BoolExpressionMethods, ExpressionMethods, JoinOnDsl, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::json;

use super::articles::{self, ArticleView};
use super::claims::SpanTargets;
use super::events::AuditContext;
use super::import::{self, ReadyClaim};
use super::models::SpeakerRef;
use super::schema::{claim_appearances, claims as claim_heads, speakers as speaker_rows};
use super::search::{self, LikelyDuplicate};
use super::speakers;
use crate::domain::attribution::model::Model;
use crate::domain::attribution::source::{Link, SourceReading};
use crate::domain::attribution::{AttributionKind, HedgeView, Proposal, ProposedTime, propose};
use crate::domain::claim::{AppearanceInput, ClaimKind, ClaimStatus, NewClaim};
use crate::domain::speaker::{NewSpeaker, SpeakerKind};
use crate::domain::validation::Validator;
use crate::domain::when::SaidWhenInput;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ProposalSpan)]
pub struct SpanText {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceView {
    pub text: String,
    pub start: usize,
    pub end: usize,
    #[serde(flatten)]
    pub reading: SourceReading,
}

// The flattened tagged enums are described by hand as one flat object: an
// `allOf` of a `oneOf` is valid OpenAPI 3.1, but client generators drop it
// (and every schema that uses it).
mod flat_schemas {
    pub use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
    use utoipa::openapi::{Ref, RefOr};

    pub fn string() -> ObjectBuilder {
        ObjectBuilder::new().schema_type(Type::String)
    }
    pub fn nullable_string() -> ObjectBuilder {
        ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
    }
    pub fn count() -> ObjectBuilder {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0))
    }
    pub fn tag(values: &[&str]) -> ObjectBuilder {
        string().enum_values(Some(values.iter().copied()))
    }
    pub fn named(schema: &str) -> RefOr<Schema> {
        RefOr::Ref(Ref::from_schema_name(schema))
    }
}

impl utoipa::PartialSchema for SourceView {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use flat_schemas::*;
        ObjectBuilder::new()
            .description(Some(
                "A source phrase and how it reads (`reading`); the other fields depend on the reading: \
                 `named` has `name`, `role`, `kind`; `anonymous` a `descriptor`; `pronoun` a `pronoun`; \
                 `description` a `description`.",
            ))
            .property("text", string())
            .property("start", count())
            .property("end", count())
            .property("reading", tag(&["named", "anonymous", "pronoun", "description"]))
            .property("name", string())
            .property("role", nullable_string())
            .property("kind", named("SpeakerKind"))
            .property("descriptor", string())
            .property("pronoun", string())
            .property("description", string())
            .required("text")
            .required("start")
            .required("end")
            .required("reading")
            .into()
    }
}

impl utoipa::ToSchema for SourceView {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push((SpeakerKind::name().into(), SpeakerKind::schema()));
    }
}

/// Who a proposal's claim would be attributed to.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(tag = "resolution", rename_all = "snake_case")]
pub enum Resolution {
    /// A speaker already in the ledger (by name, alias, or role and name).
    Existing {
        speaker_id: i64,
        name: String,
        kind: SpeakerKind,
    },
    /// A speaker to add: a name not in the ledger, or an anonymous source
    /// keeping its descriptor.
    New {
        name: String,
        kind: SpeakerKind,
        role: Option<String>,
    },
    /// No speaker can be named: no source phrase, or a pronoun with no
    /// named source before it. The proposal is shown but not applied.
    Unknown { reason: &'static str },
}

#[derive(Debug, Clone, Serialize)]
pub struct SpeakerProposal {
    #[serde(flatten)]
    pub resolution: Resolution,
    /// How the source phrase was tied to an earlier proposal's speaker.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub of_proposal: Option<usize>,
}

impl utoipa::PartialSchema for SpeakerProposal {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use flat_schemas::*;
        ObjectBuilder::new()
            .description(Some(
                "Who the claim would be attributed to (`resolution`): `existing` has `speaker_id`, \
                 `name`, `kind`; `new` has `name`, `kind`, `role`; `unknown` a `reason`. `via` and \
                 `of_proposal` say when it was taken from an earlier proposal.",
            ))
            .property("resolution", tag(&["existing", "new", "unknown"]))
            .property(
                "speaker_id",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1)),
            )
            .property("name", string())
            .property("kind", named("SpeakerKind"))
            .property("role", nullable_string())
            .property("reason", string())
            .property("via", named("Link"))
            .property("of_proposal", count())
            .required("resolution")
            .into()
    }
}

impl utoipa::ToSchema for SpeakerProposal {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::{PartialSchema, ToSchema};
        schemas.push((SpeakerKind::name().into(), SpeakerKind::schema()));
        schemas.push((Link::name().into(), Link::schema()));
        <Link as ToSchema>::schemas(schemas);
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProposalView {
    pub index: usize,
    /// The claim text a reporter would log.
    pub text: String,
    pub kind: ClaimKind,
    pub attribution_kind: AttributionKind,
    pub cue: SpanText,
    pub source: Option<SourceView>,
    /// The supporting text: the appearance the claim would get.
    pub content: SpanText,
    pub speaker: SpeakerProposal,
    pub hedges: Vec<HedgeView>,
    /// How firmly the claim is put (from its hedges and an anonymous
    /// source), what the claim would record.
    pub confidence: f64,
    /// How likely the extractor read this relation right: the model's
    /// probability that its cue is an attribution cue, calibrated on
    /// held-out annotated articles (three decimals, 0.001 to 0.999). Absent
    /// when the rules found it alone.
    /// `?order=extraction_confidence` lists the surest first.
    #[schema(minimum = 0.001, maximum = 0.999)]
    pub extraction_confidence: Option<f64>,
    pub when: Option<ProposedTime>,
    pub content_times: Vec<ProposedTime>,
    /// The claim that already appears on exactly this span, if any.
    pub logged_as: Option<i64>,
}

/// A stored proposal: the new claim (revision 1, status `proposed`) and
/// the claims already in the ledger that read like it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppliedClaim {
    pub proposal: usize,
    pub claim_id: i64,
    pub speaker_id: i64,
    pub text: String,
    pub likely_duplicates: Vec<LikelyDuplicate>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Skipped {
    pub proposal: usize,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Applied {
    pub claims: Vec<AppliedClaim>,
    pub speakers_created: Vec<SpeakerRef>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Extraction {
    pub article_id: i64,
    pub article_revision: i32,
    pub published_at: DateTime<Utc>,
    pub proposals: Vec<ProposalView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied: Option<Applied>,
}

impl Extraction {
    /// Lists the proposals the extractor is surest of first (each keeps its
    /// index, which `accept` names); proposals without a probability last,
    /// in text order.
    pub fn surest_first(&mut self) {
        self.proposals.sort_by(|a, b| {
            let key = |p: &ProposalView| p.extraction_confidence.unwrap_or(-1.0);
            key(b).total_cmp(&key(a)).then(a.index.cmp(&b.index))
        });
    }
}

/// The proposals for an article's current revision (nothing is written).
pub async fn preview(conn: &mut AsyncPgConnection, article_id: i64) -> AppResult<Extraction> {
    let article = articles::get(conn, article_id).await?;
    extract(conn, &article).await
}

/// Which proposals to store.
#[derive(Debug, Clone, Default)]
pub struct ApplyRequest {
    /// The revision the caller reviewed; a newer one is a conflict.
    pub revision: Option<i32>,
    /// Indices of the proposals to store; all of them when absent.
    pub accept: Option<Vec<usize>>,
}

/// Stores the accepted proposals of the article's current revision as
/// `proposed` claims with their appearances, adding the new speakers they
/// name, in one transaction. Proposals already logged on the same span, or
/// whose speaker is unknown, are skipped and reported.
pub async fn apply(
    conn: &mut AsyncPgConnection,
    ctx: &AuditContext,
    article_id: i64,
    request: ApplyRequest,
    duplicate_threshold: f64,
) -> AppResult<Extraction> {
    conn.transaction(async |conn| {
        let article = articles::get_locked(conn, article_id).await?;
        if let Some(expected) = request.revision
            && expected != article.revision {
                return Err(AppError::Conflict {
                    detail: format!(
                        "article {article_id} is at revision {}, not {expected}: extract again and review the new proposals",
                        article.revision
                    ),
                    existing_id: None,
                });
            }
        let mut extraction = extract(conn, &article).await?;
        let count = extraction.proposals.len();
        let accepted: Vec<usize> = match request.accept {
            Some(list) => {
                if let Some(bad) = list.iter().find(|&&i| i >= count) {
                    return Err(AppError::invalid(
                        "accept",
                        format!("proposal {bad} does not exist: this revision has {count} proposals"),
                    ));
                }
                let mut list = list;
                list.sort_unstable();
                list.dedup();
                list
            }
            None => (0..count).collect(),
        };
        let mut applied = Applied::default();
        let targets = SpanTargets::load(conn, &[article_id]).await?;
        let mut ready: Vec<(usize, ReadyClaim)> = Vec::new();
        let mut new_speakers: HashMap<(SpeakerKind, String), i64> = HashMap::new();
        for i in accepted {
            let p = &extraction.proposals[i];
            if let Some(id) = p.logged_as {
                applied.skipped.push(Skipped {
                    proposal: i,
                    reason: format!("already logged as claim {id}"),
                });
                continue;
            }
            let speaker_id = match &p.speaker.resolution {
                Resolution::Existing { speaker_id, .. } => *speaker_id,
                Resolution::Unknown { reason } => {
                    applied.skipped.push(Skipped {
                        proposal: i,
                        reason: format!("speaker unknown: {reason}"),
                    });
                    continue;
                }
                Resolution::New { name, kind, role } => {
                    let key = (*kind, name.to_lowercase());
                    match new_speakers.get(&key) {
                        Some(&id) => id,
                        None => {
                            let speaker = NewSpeaker {
                                name: name.clone(),
                                kind: *kind,
                                role: role.clone(),
                                affiliation: None,
                                aliases: Vec::new(),
                            };
                            let valid = match speaker.validate() {
                                Ok(valid) => valid,
                                Err(e) => {
                                    applied.skipped.push(Skipped {
                                        proposal: i,
                                        reason: format!("speaker {name:?} cannot be added: {e}"),
                                    });
                                    continue;
                                }
                            };
                            let created = speakers::create(conn, ctx, valid).await?;
                            applied.speakers_created.push(SpeakerRef {
                                id: created.id,
                                name: created.name.clone(),
                                kind: created.kind,
                            });
                            new_speakers.insert(key, created.id);
                            created.id
                        }
                    }
                }
            };
            let claim = NewClaim {
                story_id: article.story_id,
                speaker_id: Some(speaker_id),
                speaker: None,
                text: p.text.clone(),
                kind: p.kind,
                cue: Some(p.cue.text.clone()),
                when: p.when.as_ref().map(|t| SaidWhenInput {
                    at: None,
                    start: Some(t.start.to_rfc3339()),
                    end: Some(t.end.to_rfc3339()),
                    precision: Some(t.precision),
                    expression: Some(t.expression.clone()),
                }),
                confidence: Some(p.confidence),
                hedges: p.hedges.iter().map(|h| h.text.clone()).collect(),
                appearances: vec![AppearanceInput {
                    article_id,
                    article_revision: Some(article.revision),
                    start: p.content.start as i64,
                    end: p.content.end as i64,
                }],
            };
            let mut valid = match claim.validate() {
                Ok(valid) => valid,
                Err(e) => {
                    applied.skipped.push(Skipped {
                        proposal: i,
                        reason: format!("not a valid claim: {e}"),
                    });
                    continue;
                }
            };
            valid.fields.status = ClaimStatus::Proposed;
            let mut v = Validator::new();
            let appearances = targets.resolve(article.story_id, &valid.appearances, &mut v);
            if let Err(e) = v.finish() {
                applied.skipped.push(Skipped {
                    proposal: i,
                    reason: format!("not a valid claim: {e}"),
                });
                continue;
            }
            // Which extractor proposed it, and how sure it was: the model's
            // digest (retraining changes it) or "rules".
            let extractor = match p.extraction_confidence {
                Some(_) => Model::shipped_id(),
                None => "rules",
            };
            let origin = json!({
                "article_id": article_id,
                "article_revision": article.revision,
                "proposal": i,
                "extractor": extractor,
                "extraction_confidence": p.extraction_confidence,
            });
            ready.push((i, ReadyClaim {
                fields: valid.fields,
                appearances,
                origin: ("extracted_from", origin),
            }));
        }
        // All claims in four statements, their duplicates in one more.
        let (indices, ready): (Vec<usize>, Vec<ReadyClaim>) = ready.into_iter().unzip();
        let ids = if ready.is_empty() {
            Vec::new()
        } else {
            import::write_batch(conn, ctx, &ready).await?
        };
        let texts: Vec<(i64, &str)> = ids
            .iter()
            .zip(&ready)
            .map(|(&id, c)| (id, c.fields.text.as_str()))
            .collect();
        let mut duplicates = search::likely_duplicates_many(conn, &texts, duplicate_threshold).await?;
        for ((i, id), claim) in indices.into_iter().zip(ids).zip(&ready) {
            extraction.proposals[i].logged_as = Some(id);
            applied.claims.push(AppliedClaim {
                proposal: i,
                claim_id: id,
                speaker_id: claim.fields.speaker_id,
                text: claim.fields.text.clone(),
                likely_duplicates: duplicates.remove(&id).unwrap_or_default(),
            });
        }
        extraction.applied = Some(applied);
        Ok(extraction)
    })
    .await
}

async fn extract(conn: &mut AsyncPgConnection, article: &ArticleView) -> AppResult<Extraction> {
    // The taggers read a 1 MB body in about half a second: off the async
    // workers.
    let body = article.body.clone();
    let published = article.published_at;
    let proposals = tokio::task::spawn_blocking(move || propose(&body, published))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("extraction failed: {e}")))?;
    let resolutions = resolve_speakers(conn, &proposals).await?;
    let logged = logged_spans(conn, article.id, article.revision).await?;
    let views =
        proposals
            .into_iter()
            .zip(resolutions)
            .enumerate()
            .map(|(index, (p, speaker))| {
                let span = |s: crate::domain::attribution::Span, text: String| SpanText {
                    text,
                    start: s.start,
                    end: s.end,
                };
                let a = &p.attribution;
                ProposalView {
                    index,
                    text: p.claim_text,
                    kind: p.claim_kind,
                    attribution_kind: a.kind,
                    cue: span(a.cue, p.cue_text),
                    source: a.source.zip(p.source_text).zip(p.source).map(
                        |((s, text), reading)| SourceView {
                            text,
                            start: s.start,
                            end: s.end,
                            reading,
                        },
                    ),
                    content: span(a.content, p.content_text),
                    speaker,
                    hedges: p.hedges,
                    confidence: p.confidence,
                    extraction_confidence: a.confidence,
                    when: p.when,
                    content_times: p.content_times,
                    logged_as: logged
                        .get(&(a.content.start as i32, a.content.end as i32))
                        .copied(),
                }
            })
            .collect();
    Ok(Extraction {
        article_id: article.id,
        article_revision: article.revision,
        published_at: article.published_at,
        proposals: views,
        applied: None,
    })
}

/// Each proposal's speaker: a linked source takes its target's; a name is
/// looked up (as written, with its role, and as the whole phrase) among the
/// ledger's speakers in one query.
async fn resolve_speakers(
    conn: &mut AsyncPgConnection,
    proposals: &[Proposal],
) -> AppResult<Vec<SpeakerProposal>> {
    let keys = |p: &Proposal| -> Vec<String> {
        match &p.source {
            Some(SourceReading::Named { name, role, .. }) => {
                let mut k = vec![name.clone()];
                if let Some(role) = role {
                    k.push(format!("{role} {name}"));
                }
                k.extend(p.source_text.clone());
                k
            }
            // "the coast guard" names the speaker "Coast Guard" when the
            // ledger has it.
            Some(SourceReading::Description { description }) => {
                let bare = description
                    .split_once(' ')
                    .filter(|(first, _)| {
                        matches!(first.to_lowercase().as_str(), "the" | "a" | "an")
                    })
                    .map(|(_, rest)| rest.to_owned());
                std::iter::once(description.clone()).chain(bare).collect()
            }
            _ => Vec::new(),
        }
    };
    let names: Vec<String> = proposals.iter().flat_map(keys).collect();
    let found = speakers::find_ids_by_names(conn, &names).await?;
    let ids: Vec<i64> = found.values().copied().collect();
    let known: HashMap<i64, SpeakerRef> = if ids.is_empty() {
        HashMap::new()
    } else {
        speaker_rows::table
            .filter(speaker_rows::id.eq_any(&ids))
            .select(SpeakerRef::as_select())
            .load::<SpeakerRef>(conn)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect()
    };
    // The first of a proposal's lookup keys that names a ledger speaker.
    let in_ledger = |p: &Proposal| -> Option<&SpeakerRef> {
        keys(p)
            .iter()
            .find_map(|k| found.get(k).and_then(|id| known.get(id)))
    };
    let existing = |s: &SpeakerRef| Resolution::Existing {
        speaker_id: s.id,
        name: s.name.clone(),
        kind: s.kind,
    };
    let mut out: Vec<SpeakerProposal> = Vec::with_capacity(proposals.len());
    for p in proposals {
        let resolution = if let Some((target, via)) = p.source_link {
            SpeakerProposal {
                resolution: out[target].resolution.clone(),
                via: Some(via),
                of_proposal: Some(target),
            }
        } else {
            let resolution = match &p.source {
                None => Resolution::Unknown {
                    reason: "the text names no source",
                },
                Some(SourceReading::Pronoun { .. }) => Resolution::Unknown {
                    reason: "a pronoun with no named source before it",
                },
                Some(SourceReading::Named { name, role, kind }) => in_ledger(p).map_or_else(
                    || Resolution::New {
                        name: name.clone(),
                        kind: *kind,
                        role: role.clone(),
                    },
                    existing,
                ),
                Some(SourceReading::Anonymous { descriptor }) => Resolution::New {
                    name: descriptor.clone(),
                    kind: SpeakerKind::Anonymous,
                    role: None,
                },
                // "the company", "the minister" with no earlier name to
                // match and no speaker of that name: a source known only by
                // that phrase.
                Some(SourceReading::Description { description }) => in_ledger(p).map_or_else(
                    || Resolution::New {
                        name: description.clone(),
                        kind: SpeakerKind::Anonymous,
                        role: None,
                    },
                    existing,
                ),
            };
            SpeakerProposal {
                resolution,
                via: None,
                of_proposal: None,
            }
        };
        out.push(resolution);
    }
    Ok(out)
}

/// The current claims appearing on the revision, by span.
async fn logged_spans(
    conn: &mut AsyncPgConnection,
    article_id: i64,
    revision: i32,
) -> AppResult<HashMap<(i32, i32), i64>> {
    let rows: Vec<(i64, i32, i32)> = claim_appearances::table
        .inner_join(
            claim_heads::table.on(claim_heads::id
                .eq(claim_appearances::claim_id)
                .and(claim_heads::appearances_revision.eq(claim_appearances::claim_revision))),
        )
        .filter(claim_appearances::article_id.eq(article_id))
        .filter(claim_appearances::article_revision.eq(revision))
        .select((
            claim_appearances::claim_id,
            claim_appearances::span_start,
            claim_appearances::span_end,
        ))
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|(id, s, e)| ((s, e), id)).collect())
}
