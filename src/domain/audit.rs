//! The audit log's leaves, tree and checkpoints: exactly what is hashed and
//! signed (docs/audit-log.md gives it byte for byte).
//!
//! - A **leaf** is `claimtrail-audit-v2\n` followed by the event as canonical
//!   JSON (keys sorted, no white space; see [`canonical_json`]).
//! - The **tree** is RFC 6962's Merkle tree: a leaf hashes as
//!   SHA-256(0x00 ‖ leaf), a node as SHA-256(0x01 ‖ left ‖ right); its
//!   hashes are stored and proved by `tlog_tiles` (a port of Go's
//!   `sumdb/tlog`).
//! - A **checkpoint** is c2sp.org/tlog-checkpoint text (origin, tree size,
//!   base64 root) in a c2sp.org/signed-note with an Ed25519 signature.

use chrono::{DateTime, Utc};

use super::text_enum;
use serde_json::Value;
use signed_note::{Note, Signer, StandardSigner, StandardVerifier, VerifierList};
use tlog_tiles::checkpoint::Checkpoint;
use tlog_tiles::tlog::{Hash, record_hash};

text_enum! {
    /// What an audit event records: the one list of actions, used by every
    /// writer, the event filters and the timeline.
    AuditAction {
        ArticleCreated => "article.created",
        ArticleRevised => "article.revised",
        ClaimAppearancesCarried => "claim.appearances_carried",
        ClaimAssigned => "claim.assigned",
        ClaimCreated => "claim.created",
        ClaimRevised => "claim.revised",
        ClaimStatusChanged => "claim.status_changed",
        CommentCreated => "comment.created",
        RelationAdded => "relation.added",
        ReviewCreated => "review.created",
        SpeakerCreated => "speaker.created",
        SpeakerMerged => "speaker.merged",
        SpeakerRevised => "speaker.revised",
        StoryCreated => "story.created",
        TokenCreated => "token.created",
        TokenRevoked => "token.revoked",
        UserCreated => "user.created",
        WatchCreated => "watch.created",
        WatchDeleted => "watch.deleted",
        WatchItemFiled => "watch.item_filed",
        WatchItemHeld => "watch.item_held",
        WatchPaused => "watch.paused",
        WatchResumed => "watch.resumed",
    }
}

/// The first line of every leaf: the encoding's name and version.
pub const LEAF_PREFIX: &[u8] = b"claimtrail-audit-v2\n";

/// An audit event as its leaf records it.
#[derive(Debug, Clone, Copy)]
pub struct LeafEvent<'a> {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor: &'a str,
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: i64,
    pub story_id: Option<i64>,
    /// The event's number among its story's events in the log (1, 2, 3…).
    pub story_seq: Option<i64>,
    pub before_revision: Option<i32>,
    pub after_revision: Option<i32>,
    pub request_id: Option<&'a str>,
    pub details: &'a Value,
}

impl LeafEvent<'_> {
    /// The leaf's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let object = serde_json::json!({
            "action": self.action,
            "actor": self.actor,
            "after_revision": self.after_revision,
            "before_revision": self.before_revision,
            "details": self.details,
            "id": self.id,
            "occurred_at": timestamp_text(&self.occurred_at),
            "request_id": self.request_id,
            "story_id": self.story_id,
            "story_seq": self.story_seq,
            "subject_id": self.subject_id,
            "subject_type": self.subject_type,
        });
        let mut out = LEAF_PREFIX.to_vec();
        canonical_json(&object, &mut out);
        out
    }

    /// SHA-256(0x00 ‖ leaf).
    pub fn hash(&self) -> Hash {
        record_hash(&self.encode())
    }
}

/// A time as leaves and the API write it: RFC 3339 in UTC with exactly six
/// fractional digits (PostgreSQL keeps microseconds), so that the text in an
/// event's JSON is the text its leaf hashed.
pub fn timestamp_text(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// JSON with object keys in code-point order at every depth and no white
/// space (RFC 8785's canonical form for the values events hold: their keys
/// are ASCII, their numbers integers or shortest round-trip decimals).
/// Sorting here, not relying on the map type, keeps the bytes the same
/// whichever way serde_json was built.
pub fn canonical_json(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(
                    serde_json::to_string(key)
                        .expect("a string serializes")
                        .as_bytes(),
                );
                out.push(b':');
                canonical_json(value, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical_json(item, out);
            }
            out.push(b']');
        }
        scalar => out.extend_from_slice(
            serde_json::to_string(scalar)
                .expect("a scalar serializes")
                .as_bytes(),
        ),
    }
}

/// The log's signing key, with the name (the log's origin) it signs as.
pub struct LogSigner {
    signer: StandardSigner,
    verifier_key: String,
}

impl LogSigner {
    /// From a signer key in Go's `note` format
    /// (`PRIVATE+KEY+<name>+<key id>+<base64 key>`).
    pub fn from_key(skey: &str) -> anyhow::Result<Self> {
        let signer = StandardSigner::new(skey.trim())
            .map_err(|e| anyhow::anyhow!("the log signing key is not valid: {e}"))?;
        let verifier_key = verifier_key_of(skey.trim())?;
        Ok(LogSigner {
            signer,
            verifier_key,
        })
    }

    /// A new random key for a log named `origin`; returns the signer key
    /// text to keep secret.
    pub fn generate(origin: &str) -> anyhow::Result<String> {
        anyhow::ensure!(
            signed_note::is_key_name_valid(origin),
            "a log origin must be non-empty, without spaces or '+': {origin:?}"
        );
        let (skey, _) = signed_note::generate_key(&mut rand_core::OsRng, origin);
        Ok(skey)
    }

    /// The origin line of the log's checkpoints.
    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// The verifier key (`<name>+<key id>+<base64 key>`), which anyone may
    /// hold to check checkpoints.
    pub fn verifier_key(&self) -> &str {
        &self.verifier_key
    }

    /// The signed checkpoint of a tree of `size` leaves with this root.
    pub fn sign_checkpoint(&self, size: u64, root: Hash) -> anyhow::Result<String> {
        let body = Checkpoint::new(self.origin(), size, root, "")
            .map_err(|e| anyhow::anyhow!("cannot make a checkpoint: {e}"))?;
        let mut note = Note::new(&body.to_bytes(), &[])
            .map_err(|e| anyhow::anyhow!("cannot make a checkpoint note: {e}"))?;
        note.add_sigs(&[&self.signer])
            .map_err(|e| anyhow::anyhow!("cannot sign a checkpoint: {e}"))?;
        String::from_utf8(note.to_bytes()).map_err(Into::into)
    }
}

/// The verifier key that goes with a signer key.
fn verifier_key_of(skey: &str) -> anyhow::Result<String> {
    // PRIVATE+KEY+<name>+<id>+<base64>: the base64 may hold '+' itself.
    let parts: Vec<&str> = skey.splitn(5, '+').collect();
    let [_, _, name, _, encoded] = parts[..] else {
        anyhow::bail!("the log signing key is not valid");
    };
    let key = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded)
        .map_err(|_| anyhow::anyhow!("the log signing key is not valid base64"))?;
    let seed: [u8; 32] = key
        .get(1..)
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| anyhow::anyhow!("the log signing key is not an Ed25519 key"))?;
    let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
    Ok(signed_note::new_ed25519_verifier_key(
        name,
        &signing.verifying_key(),
    ))
}

/// A checkpoint whose signature was checked.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedCheckpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

/// Checks a signed checkpoint against a verifier key: the note's signature
/// by that key, then its text as a checkpoint of a log named as the key is.
pub fn verify_checkpoint(note: &[u8], verifier_key: &str) -> Result<VerifiedCheckpoint, String> {
    let verifier = StandardVerifier::new(verifier_key.trim())
        .map_err(|e| format!("the verifier key is not valid: {e}"))?;
    let name = signed_note::Verifier::name(&verifier).to_owned();
    let parsed = Note::from_bytes(note).map_err(|e| format!("not a signed note: {e}"))?;
    parsed
        .verify(&VerifierList::new(vec![Box::new(verifier)]))
        .map_err(|e| format!("the signature does not verify with the log's key: {e}"))?;
    let checkpoint = Checkpoint::from_bytes(parsed.text())
        .map_err(|_| "the signed text is not a checkpoint".to_owned())?;
    if checkpoint.origin() != name {
        return Err(format!(
            "the checkpoint is for the log {:?}, not {name:?}",
            checkpoint.origin()
        ));
    }
    Ok(VerifiedCheckpoint {
        origin: checkpoint.origin().to_owned(),
        size: checkpoint.size(),
        root: *checkpoint.hash(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(details: &Value) -> LeafEvent<'_> {
        LeafEvent {
            id: 7,
            occurred_at: DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
            actor: "ana",
            action: "claim.created",
            subject_type: "claim",
            subject_id: 3,
            story_id: Some(2),
            story_seq: Some(1),
            before_revision: None,
            after_revision: Some(1),
            request_id: None,
            details,
        }
    }

    #[test]
    fn a_leaf_is_the_prefix_and_the_event_as_canonical_json() {
        let details = json!({ "z": [1, {"b": "é", "a": null}], "a": 0.5 });
        let leaf = String::from_utf8(event(&details).encode()).unwrap();
        assert_eq!(
            leaf,
            "claimtrail-audit-v2\n{\"action\":\"claim.created\",\"actor\":\"ana\",\"after_revision\":1,\
             \"before_revision\":null,\"details\":{\"a\":0.5,\"z\":[1,{\"a\":null,\"b\":\"é\"}]},\"id\":7,\
             \"occurred_at\":\"2023-11-14T22:13:20.123456Z\",\"request_id\":null,\"story_id\":2,\
             \"story_seq\":1,\"subject_id\":3,\"subject_type\":\"claim\"}"
        );
    }

    #[test]
    fn any_field_changes_the_leaf_hash() {
        let details = json!({});
        let base = event(&details);
        let other_details = json!({ "x": 1 });
        let variants = [
            LeafEvent {
                actor: "eva",
                ..base
            },
            LeafEvent { id: 8, ..base },
            LeafEvent {
                story_seq: Some(2),
                ..base
            },
            LeafEvent {
                details: &other_details,
                ..base
            },
            LeafEvent {
                occurred_at: base.occurred_at + chrono::Duration::microseconds(1),
                ..base
            },
        ];
        for v in variants {
            assert_ne!(v.hash(), base.hash());
        }
    }

    #[test]
    fn checkpoints_verify_only_with_their_key() {
        let skey = LogSigner::generate("claimtrail.test/log").unwrap();
        let signer = LogSigner::from_key(&skey).unwrap();
        let note = signer.sign_checkpoint(5, record_hash(b"x")).unwrap();
        let text = String::from_utf8(note.as_bytes().to_vec()).unwrap();
        assert!(text.starts_with("claimtrail.test/log\n5\n"), "{text}");
        assert!(text.contains("\n\n\u{2014} claimtrail.test/log "), "{text}");
        let checked = verify_checkpoint(note.as_bytes(), signer.verifier_key()).unwrap();
        assert_eq!((checked.size, checked.root), (5, record_hash(b"x")));

        let other =
            LogSigner::from_key(&LogSigner::generate("claimtrail.test/log").unwrap()).unwrap();
        assert!(verify_checkpoint(note.as_bytes(), other.verifier_key()).is_err());
        let forged = text.replacen("\n5\n", "\n6\n", 1);
        assert!(verify_checkpoint(forged.as_bytes(), signer.verifier_key()).is_err());
    }

    #[test]
    fn an_origin_with_spaces_is_refused() {
        assert!(LogSigner::generate("my log").is_err());
    }
}
