//! The audit chain's canonical encoding and hash.
//!
//! Each event's hash is SHA-256 over the previous event's hash followed by
//! the event's canonical encoding (version 1): the line `claimtrail-audit-v1`,
//! then each field as `<byte length>:<text>` or `-` for an absent one, one
//! per line, in a fixed order. Timestamps are microseconds since the epoch;
//! `details` is PostgreSQL's text form of the jsonb value. The database
//! computes the same encoding when it writes an event (migration
//! `chain_audit_events`); `claimtrail audit verify` recomputes it here,
//! independently of the database's functions.

use sha2::{Digest, Sha256};

/// The "previous hash" of the first event.
pub const GENESIS: [u8; 32] = [0; 32];

pub struct CanonicalEvent<'a> {
    pub chain_seq: i64,
    pub id: i64,
    pub occurred_at_micros: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: i64,
    pub story_id: Option<i64>,
    pub before_revision: Option<i32>,
    pub after_revision: Option<i32>,
    pub request_id: Option<&'a str>,
    pub details: &'a str,
}

fn field(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(v) => {
            out.extend_from_slice(v.len().to_string().as_bytes());
            out.push(b':');
            out.extend_from_slice(v.as_bytes());
        }
        None => out.push(b'-'),
    }
    out.push(b'\n');
}

impl CanonicalEvent<'_> {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = b"claimtrail-audit-v1\n".to_vec();
        field(&mut out, Some(&self.chain_seq.to_string()));
        field(&mut out, Some(&self.id.to_string()));
        field(&mut out, Some(&self.occurred_at_micros.to_string()));
        field(&mut out, Some(self.actor));
        field(&mut out, Some(self.action));
        field(&mut out, Some(self.subject_type));
        field(&mut out, Some(&self.subject_id.to_string()));
        field(&mut out, self.story_id.map(|v| v.to_string()).as_deref());
        field(
            &mut out,
            self.before_revision.map(|v| v.to_string()).as_deref(),
        );
        field(
            &mut out,
            self.after_revision.map(|v| v.to_string()).as_deref(),
        );
        field(&mut out, self.request_id);
        field(&mut out, Some(self.details));
        out
    }
}

/// The hash of an event that follows `prev`.
pub fn chain_hash(prev: &[u8], event: &CanonicalEvent<'_>) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(prev);
    hasher.update(event.encode());
    hasher.finalize().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(actor: &str) -> CanonicalEvent<'_> {
        CanonicalEvent {
            chain_seq: 1,
            id: 1,
            occurred_at_micros: 1_700_000_000_000_000,
            actor,
            action: "claim.created",
            subject_type: "claim",
            subject_id: 7,
            story_id: Some(3),
            before_revision: None,
            after_revision: Some(1),
            request_id: None,
            details: "{}",
        }
    }

    #[test]
    fn encoding_is_length_prefixed_and_marks_absent_fields() {
        let text = String::from_utf8(event("ana").encode()).unwrap();
        assert_eq!(
            text,
            "claimtrail-audit-v1\n1:1\n1:1\n16:1700000000000000\n3:ana\n13:claim.created\n5:claim\n1:7\n1:3\n-\n1:1\n-\n2:{}\n"
        );
    }

    #[test]
    fn any_change_changes_the_hash() {
        let a = chain_hash(&GENESIS, &event("ana"));
        assert_ne!(a, chain_hash(&GENESIS, &event("eva")));
        assert_ne!(a, chain_hash(&[1; 32], &event("ana")));
    }
}
