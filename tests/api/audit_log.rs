//! The transparency log: events join it after they commit, proofs verify
//! with an independent implementation of RFC 9162 (a few lines of SHA-256
//! below, not the code under test), and `claimtrail audit verify` catches
//! every kind of tampering by the database's superuser against a checkpoint
//! saved before it.

use std::process::{Command, Output};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, assert_problem, spawn_app};

// ---- An independent verifier: RFC 9162 §2.1 and c2sp.org/signed-note ----

type Hash = [u8; 32];

fn leaf_hash(leaf: &[u8]) -> Hash {
    Sha256::new()
        .chain_update([0u8])
        .chain_update(leaf)
        .finalize()
        .into()
}

fn node(left: &Hash, right: &Hash) -> Hash {
    Sha256::new()
        .chain_update([1u8])
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

/// RFC 9162 §2.1.3.2.
fn verify_inclusion(index: u64, size: u64, leaf: Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s, mut r) = (index, size - 1, leaf);
    for p in proof {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && &r == root
}

/// RFC 9162 §2.1.4.2.
fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> bool {
    if first == second {
        return proof.is_empty() && first_root == second_root;
    }
    if first == 0 || first > second || proof.is_empty() {
        return false;
    }
    let mut path = proof.to_vec();
    if first.is_power_of_two() {
        path.insert(0, *first_root);
    }
    let (mut f, mut s) = (first - 1, second - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node(c, &fr);
            sr = node(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    &fr == first_root && &sr == second_root && s == 0
}

fn b64_hash(text: &str) -> Hash {
    STANDARD.decode(text).unwrap().try_into().unwrap()
}

/// A checkpoint note checked by hand: the Ed25519 signature over the text
/// with the key from `/v1/audit/public-key`, then origin, size and root.
fn read_checkpoint(note: &str, verifier_key: &str) -> (String, u64, Hash) {
    let (name, rest) = verifier_key.trim().split_once('+').unwrap();
    let key = STANDARD.decode(rest.split_once('+').unwrap().1).unwrap();
    assert_eq!(key[0], 1, "an Ed25519 key");
    let key = ed25519_dalek::VerifyingKey::from_bytes(&key[1..].try_into().unwrap()).unwrap();
    let (text, signatures) = note.split_once("\n\n").unwrap();
    let text = format!("{text}\n");
    let line = signatures
        .lines()
        .find(|l| l.starts_with(&format!("\u{2014} {name} ")))
        .expect("a signature by the log's key");
    let sig = STANDARD.decode(line.rsplit(' ').next().unwrap()).unwrap();
    let signature = ed25519_dalek::Signature::from_bytes(&sig[4..].try_into().unwrap());
    key.verify_strict(text.as_bytes(), &signature)
        .expect("the checkpoint's signature verifies");
    let mut lines = text.lines();
    let origin = lines.next().unwrap().to_owned();
    let size = lines.next().unwrap().parse().unwrap();
    let root = b64_hash(lines.next().unwrap());
    assert_eq!(origin, name);
    (origin, size, root)
}

/// The leaf of an event as the API lists it, made by hand (docs/audit-log.md):
/// the version line, then the leaf's fields as JSON with sorted keys.
fn leaf_of(event: &Value) -> Vec<u8> {
    fn canonical(v: &Value, out: &mut String) {
        match v {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(k).unwrap());
                    out.push(':');
                    canonical(&map[k], out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    canonical(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&serde_json::to_string(other).unwrap()),
        }
    }
    let fields = [
        "action",
        "actor",
        "after_revision",
        "before_revision",
        "details",
        "id",
        "occurred_at",
        "request_id",
        "story_id",
        "story_seq",
        "subject_id",
        "subject_type",
    ];
    let mut picked = serde_json::Map::new();
    for f in fields {
        picked.insert(f.to_owned(), event[f].clone());
    }
    let mut out = String::from("claimtrail-audit-v2\n");
    canonical(&Value::Object(picked), &mut out);
    out.into_bytes()
}

// ---- Helpers ----

async fn public_key(app: &TestApp) -> String {
    let res = app.get("/v1/audit/public-key").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    res.text().await.unwrap().trim().to_owned()
}

async fn all_events(app: &TestApp) -> Vec<Value> {
    app.get_json("/v1/events?order=asc&limit=200").await["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// A small ledger: a story, a speaker, claims and a correction.
async fn some_history(app: &TestApp, claims: usize) -> i64 {
    let story = app.story("Ferry").await;
    let speaker = app.speaker("Ana Robles", "person").await;
    for i in 0..claims {
        let claim = app
            .claim(story, speaker, &format!("Claim number {i}"))
            .await;
        if i % 2 == 0 {
            let id = claim["id"].as_i64().unwrap();
            let res = app
                .patch_json(
                    &format!("/v1/claims/{id}"),
                    &json!({ "text": format!("Claim number {i}, corrected"), "reason": "typo" }),
                    Some("\"1\""),
                )
                .await;
            assert_eq!(res.status(), 200);
        }
    }
    story
}

async fn superuser_sql(app: &TestApp, statements: &[String]) {
    let mut conn = app.db().await;
    // Triggers off, as a superuser can: the append-only guards are gone.
    diesel::sql_query("SET session_replication_role = replica")
        .execute(&mut conn)
        .await
        .unwrap();
    for sql in statements {
        diesel::sql_query(sql)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

pub(crate) fn cli_verify(app: &TestApp, key: &str, checkpoint: Option<&std::path::Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_claimtrail"));
    cmd.args([
        "audit",
        "verify",
        "--database-url",
        &app.database_url,
        "--public-key",
        key,
    ]);
    if let Some(path) = checkpoint {
        cmd.arg("--checkpoint").arg(path);
    }
    cmd.env_remove("DATABASE_URL").output().unwrap()
}

pub(crate) fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

// ---- Tests ----

#[tokio::test]
async fn every_event_joins_the_log_and_its_proof_verifies_independently() {
    let app = spawn_app().await;
    some_history(&app, 5).await;
    let key = public_key(&app).await;
    let note = app.log_caught_up().await;
    let (_, size, root) = read_checkpoint(&note, &key);
    let served = app.get("/v1/audit/checkpoint").await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.text().await.unwrap(), note);

    let events = all_events(&app).await;
    assert_eq!(events.len() as u64, size);
    for event in &events {
        let id = event["id"].as_i64().unwrap();
        let proof = app.get_json(&format!("/v1/audit/events/{id}/proof")).await;
        let leaf = STANDARD.decode(proof["leaf"].as_str().unwrap()).unwrap();
        // The leaf is the event as listed: anyone can recompute it.
        assert_eq!(leaf, leaf_of(event), "event {id}");
        let hashes: Vec<Hash> = proof["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| b64_hash(h.as_str().unwrap()))
            .collect();
        let index = proof["leaf_index"].as_u64().unwrap();
        assert_eq!(Some(index), event["leaf_index"].as_u64());
        assert!(
            verify_inclusion(index, size, leaf_hash(&leaf), &hashes, &root),
            "event {id} at leaf {index} of {size}"
        );
        // A proof for another leaf's hash does not verify: the check can fail.
        assert!(!verify_inclusion(
            index,
            size,
            leaf_hash(b"forged"),
            &hashes,
            &root
        ));
    }
    // Leaves 0..n, each event once.
    let mut leaves: Vec<u64> = events
        .iter()
        .map(|e| e["leaf_index"].as_u64().unwrap())
        .collect();
    leaves.sort();
    assert_eq!(leaves, (0..size).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_saved_checkpoint_is_proved_a_prefix_of_every_later_one() {
    let app = spawn_app().await;
    let story = some_history(&app, 3).await;
    let key = public_key(&app).await;
    let (_, first, first_root) = read_checkpoint(&app.log_caught_up().await, &key);
    let speaker = app.speaker("Luis Ferrer", "person").await;
    for i in 0..7 {
        app.claim(story, speaker, &format!("Later claim {i}")).await;
    }
    let (_, second, second_root) = read_checkpoint(&app.log_caught_up().await, &key);
    assert!(second > first);
    let proof = app
        .get_json(&format!("/v1/audit/consistency?from={first}&to={second}"))
        .await;
    let hashes: Vec<Hash> = proof["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| b64_hash(h.as_str().unwrap()))
        .collect();
    assert!(verify_consistency(
        first,
        second,
        &first_root,
        &second_root,
        &hashes
    ));
    // The same proof does not tie another root to the later tree.
    assert!(!verify_consistency(
        first,
        second,
        &second_root,
        &second_root,
        &hashes
    ));
    let latest = app
        .get_json(&format!("/v1/audit/consistency?from={first}"))
        .await;
    assert_eq!(latest["to"], second);
    assert_problem(
        app.get(&format!("/v1/audit/consistency?from={}", second + 1))
            .await,
        422,
    )
    .await;
    assert_problem(
        app.get(&format!("/v1/audit/consistency?from=1&to={}", second + 5))
            .await,
        422,
    )
    .await;
}

#[tokio::test]
async fn an_event_committed_late_holds_back_later_ones_and_each_joins_once() {
    let app = spawn_app().await;
    app.log_caught_up().await;
    // A transaction takes its id and writes an event, then waits.
    let mut early = app.db().await;
    diesel::sql_query("BEGIN")
        .execute(&mut early)
        .await
        .unwrap();
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    let first: Id = diesel::sql_query(
        "INSERT INTO audit_events (actor, action, subject_type, subject_id) \
         VALUES ('early', 'test.early', 'test', 1) RETURNING id",
    )
    .get_result(&mut early)
    .await
    .unwrap();
    // Later transactions commit first, with higher ids.
    let story = app.story("Later").await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let listed = all_events(&app).await;
    let later = listed
        .iter()
        .find(|e| e["subject_id"] == story && e["action"] == "story.created")
        .unwrap();
    assert!(later["id"].as_i64().unwrap() > first.id);
    assert!(
        later["leaf_index"].is_null(),
        "integrated past a running transaction: {later}"
    );

    diesel::sql_query("COMMIT")
        .execute(&mut early)
        .await
        .unwrap();
    app.log_caught_up().await;
    let listed = all_events(&app).await;
    let leaf = |id: i64| {
        listed.iter().find(|e| e["id"] == id).unwrap()["leaf_index"]
            .as_i64()
            .unwrap()
    };
    assert!(leaf(first.id) < leaf(later["id"].as_i64().unwrap()));
    let mut leaves: Vec<i64> = listed
        .iter()
        .map(|e| e["leaf_index"].as_i64().unwrap())
        .collect();
    leaves.sort();
    assert_eq!(leaves, (0..listed.len() as i64).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_rolled_back_event_never_joins_the_log() {
    let app = spawn_app().await;
    app.log_caught_up().await;
    let mut ghost = diesel_async::AsyncPgConnection::establish(&app.database_url)
        .await
        .unwrap();
    diesel::sql_query("BEGIN")
        .execute(&mut ghost)
        .await
        .unwrap();
    diesel::sql_query(
        "INSERT INTO audit_events (actor, action, subject_type, subject_id) \
         VALUES ('ghost', 'test.ghost', 'test', 1)",
    )
    .execute(&mut ghost)
    .await
    .unwrap();
    app.story("While the ghost waits").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    diesel::sql_query("ROLLBACK")
        .execute(&mut ghost)
        .await
        .unwrap();
    app.story("After").await;
    let note = app.log_caught_up().await;
    let (_, size, _) = read_checkpoint(&note, &public_key(&app).await);
    let listed = all_events(&app).await;
    assert_eq!(listed.len() as u64, size);
    assert!(listed.iter().all(|e| e["actor"] != "ghost"));
    let out = cli_verify(&app, &public_key(&app).await, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[tokio::test]
async fn a_story_is_audited_from_its_own_events_and_proofs() {
    let app = spawn_app().await;
    let story = some_history(&app, 4).await;
    let other = app.story("Other").await;
    let key = public_key(&app).await;
    let (_, size, root) = read_checkpoint(&app.log_caught_up().await, &key);
    let mut seq = 0;
    let mut after = 0;
    loop {
        let page = app
            .get_json(&format!(
                "/v1/audit/stories/{story}/proofs?limit=3&after={after}"
            ))
            .await;
        assert_eq!(page["tree_size"], size);
        for item in page["items"].as_array().unwrap() {
            seq += 1;
            assert_eq!(item["story_seq"], seq, "no event of the story is missing");
            let leaf = STANDARD.decode(item["leaf"].as_str().unwrap()).unwrap();
            let leaf_json: Value =
                serde_json::from_slice(&leaf["claimtrail-audit-v2\n".len()..]).unwrap();
            assert_eq!(leaf_json["story_id"], story);
            assert_eq!(leaf_json["story_seq"], seq);
            let hashes: Vec<Hash> = item["hashes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| b64_hash(h.as_str().unwrap()))
                .collect();
            assert!(verify_inclusion(
                item["leaf_index"].as_u64().unwrap(),
                size,
                leaf_hash(&leaf),
                &hashes,
                &root
            ));
        }
        match page["next_after"].as_i64() {
            Some(n) => after = n,
            None => break,
        }
    }
    let story_events = all_events(&app)
        .await
        .into_iter()
        .filter(|e| e["story_id"] == story)
        .count();
    assert_eq!(seq as usize, story_events);
    let others = app
        .get_json(&format!("/v1/audit/stories/{other}/proofs"))
        .await;
    assert_eq!(others["items"].as_array().unwrap().len(), 1);
    assert_eq!(others["items"][0]["story_seq"], 1);
    assert_problem(app.get("/v1/audit/stories/999/proofs").await, 404).await;
}

/// A ledger whose checkpoint an auditor saved, with more events after it.
async fn audited_ledger() -> (TestApp, String, tempfile::NamedTempFile, u64) {
    let app = spawn_app().await;
    let story = some_history(&app, 4).await;
    let key = public_key(&app).await;
    let saved = app.log_caught_up().await;
    let (_, size, _) = read_checkpoint(&saved, &key);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &saved).unwrap();
    let speaker = app.speaker("Later Speaker", "person").await;
    app.claim(story, speaker, "After the checkpoint").await;
    app.log_caught_up().await;
    let out = cli_verify(&app, &key, Some(file.path()));
    assert_eq!(out.status.code(), Some(0), "untouched: {}", text(&out));
    assert!(text(&out).contains("intact"), "{}", text(&out));
    (app, key, file, size)
}

async fn leaf_event(app: &TestApp, leaf: i64) -> i64 {
    all_events(app)
        .await
        .iter()
        .find(|e| e["leaf_index"] == leaf)
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

async fn assert_tampered(app: &TestApp, key: &str, saved: &tempfile::NamedTempFile, expect: &str) {
    let out = cli_verify(app, key, Some(saved.path()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(expect),
        "expected {expect:?} in {}",
        text(&out)
    );
}

#[tokio::test]
async fn a_changed_event_is_caught_and_named() {
    let (app, key, saved, _) = audited_ledger().await;
    let id = leaf_event(&app, 3).await;
    superuser_sql(
        &app,
        &[format!(
            "UPDATE audit_events SET actor = 'mallory' WHERE id = {id}"
        )],
    )
    .await;
    assert_tampered(&app, &key, &saved, &format!("leaf 3 (event {id})")).await;
}

#[tokio::test]
async fn a_changed_event_with_every_hash_redone_is_caught() {
    let (app, key, saved, _) = audited_ledger().await;
    let id = leaf_event(&app, 2).await;
    // The attacker changes an event, then recomputes every stored hash of
    // the tree from the changed events (knowing the leaf encoding) and
    // records the new root; only the signature cannot be redone.
    superuser_sql(
        &app,
        &[format!(
            "UPDATE audit_events SET details = '{{\"rewritten\": true}}' WHERE id = {id}"
        )],
    )
    .await;
    let events = all_events(&app).await;
    let mut stored: Vec<tlog_tiles::tlog::Hash> = Vec::new();
    struct Reader<'a>(&'a [tlog_tiles::tlog::Hash]);
    impl tlog_tiles::tlog::HashReader for Reader<'_> {
        fn read_hashes(
            &self,
            indexes: &[u64],
        ) -> Result<Vec<tlog_tiles::tlog::Hash>, tlog_tiles::tlog::Error> {
            Ok(indexes.iter().map(|&i| self.0[i as usize]).collect())
        }
    }
    let mut by_leaf: Vec<&Value> = events.iter().collect();
    by_leaf.sort_by_key(|e| e["leaf_index"].as_i64());
    for (n, event) in by_leaf.iter().enumerate() {
        let new =
            tlog_tiles::tlog::stored_hashes(n as u64, &leaf_of(event), &Reader(&stored)).unwrap();
        stored.extend(new);
    }
    let root = tlog_tiles::tlog::tree_hash(by_leaf.len() as u64, &Reader(&stored)).unwrap();
    let mut sql = vec!["DELETE FROM audit_log_hashes".to_owned()];
    for (i, h) in stored.iter().enumerate() {
        sql.push(format!(
            "INSERT INTO audit_log_hashes VALUES ({i}, '\\x{}')",
            hex::encode(h.0)
        ));
    }
    superuser_sql(&app, &sql).await;
    assert_tampered(&app, &key, &saved, "saved checkpoint's root").await;
    // Recording the new root beside the latest checkpoint changes nothing:
    // its signed text still says the old one.
    superuser_sql(&app, &[format!(
        "UPDATE audit_log_checkpoints SET root_hash = '\\x{}' WHERE tree_size = (SELECT max(tree_size) FROM audit_log_checkpoints)",
        hex::encode(root.0)
    )])
    .await;
    assert_tampered(&app, &key, &saved, "disagree with its signed text").await;
}

#[tokio::test]
async fn a_removed_event_is_caught() {
    let (app, key, saved, _) = audited_ledger().await;
    let id = leaf_event(&app, 2).await;
    superuser_sql(
        &app,
        &[
            "DELETE FROM audit_log_leaves WHERE leaf_index = 2".to_owned(),
            format!("DELETE FROM audit_events WHERE id = {id}"),
        ],
    )
    .await;
    assert_tampered(&app, &key, &saved, "leaf 2 is missing").await;
}

#[tokio::test]
async fn a_removed_event_with_the_leaves_renumbered_is_caught() {
    let (app, key, saved, _) = audited_ledger().await;
    let id = leaf_event(&app, 2).await;
    superuser_sql(
        &app,
        &[
            "DELETE FROM audit_log_leaves WHERE leaf_index = 2".to_owned(),
            format!("DELETE FROM audit_events WHERE id = {id}"),
            "UPDATE audit_log_leaves SET leaf_index = leaf_index - 1 WHERE leaf_index > 2"
                .to_owned(),
        ],
    )
    .await;
    assert_tampered(
        &app,
        &key,
        &saved,
        "no longer hash to the saved checkpoint's root",
    )
    .await;
}

#[tokio::test]
async fn an_inserted_event_is_caught() {
    let (app, key, saved, _) = audited_ledger().await;
    superuser_sql(&app, &[
        "UPDATE audit_log_leaves SET leaf_index = leaf_index + 1000000 WHERE leaf_index >= 2".to_owned(),
        "UPDATE audit_log_leaves SET leaf_index = leaf_index - 1000000 + 1 WHERE leaf_index >= 1000000".to_owned(),
        "INSERT INTO audit_events (id, actor, action, subject_type, subject_id) VALUES (900001, 'mallory', 'claim.created', 'claim', 1)".to_owned(),
        "INSERT INTO audit_log_leaves (leaf_index, event_id) VALUES (2, 900001)".to_owned(),
    ])
    .await;
    assert_tampered(
        &app,
        &key,
        &saved,
        "no longer hash to the saved checkpoint's root",
    )
    .await;
}

#[tokio::test]
async fn reordered_events_are_caught() {
    let (app, key, saved, _) = audited_ledger().await;
    let a = leaf_event(&app, 1).await;
    let b = leaf_event(&app, 2).await;
    superuser_sql(
        &app,
        &[
            format!("UPDATE audit_log_leaves SET event_id = -1 WHERE event_id = {a}"),
            format!("UPDATE audit_log_leaves SET event_id = {a} WHERE event_id = {b}"),
            format!("UPDATE audit_log_leaves SET event_id = {b} WHERE event_id = -1"),
        ],
    )
    .await;
    assert_tampered(
        &app,
        &key,
        &saved,
        "no longer hash to the saved checkpoint's root",
    )
    .await;
}

#[tokio::test]
async fn a_truncated_tail_is_caught() {
    let (app, key, saved, size) = audited_ledger().await;
    let keep = size as i64 - 2;
    superuser_sql(&app, &[
        format!("DELETE FROM audit_events WHERE id IN (SELECT event_id FROM audit_log_leaves WHERE leaf_index >= {keep})"),
        format!("DELETE FROM audit_log_leaves WHERE leaf_index >= {keep}"),
        format!("DELETE FROM audit_log_checkpoints WHERE tree_size > {keep}"),
    ])
    .await;
    assert_tampered(&app, &key, &saved, "events at the end were removed").await;
}

#[tokio::test]
async fn a_forged_checkpoint_cannot_be_checked_against() {
    let (app, key, saved, size) = audited_ledger().await;
    let note = std::fs::read_to_string(saved.path()).unwrap();
    std::fs::write(
        saved.path(),
        note.replacen(&format!("\n{size}\n"), &format!("\n{}\n", size - 1), 1),
    )
    .unwrap();
    let out = cli_verify(&app, &key, Some(saved.path()));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // Nor with another log's key.
    let other = claimtrail::domain::audit::LogSigner::from_key(
        &claimtrail::domain::audit::LogSigner::generate("claimtrail.test/log").unwrap(),
    )
    .unwrap();
    let out = cli_verify(&app, other.verifier_key(), None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

#[tokio::test]
async fn an_event_not_yet_in_the_log_has_no_proof_yet() {
    let app = spawn_app().await;
    assert_problem(app.get("/v1/audit/events/424242/proof").await, 404).await;
    let mut conn = app.db().await;
    diesel::sql_query("BEGIN").execute(&mut conn).await.unwrap();
    // Holding the horizon back keeps the next event out of the log.
    diesel::sql_query("SELECT pg_current_xact_id()")
        .execute(&mut conn)
        .await
        .unwrap();
    let story = app.story("Pending").await;
    let event = all_events(&app)
        .await
        .into_iter()
        .find(|e| e["subject_id"] == story && e["action"] == "story.created")
        .unwrap();
    let id = event["id"].as_i64().unwrap();
    assert_problem(app.get(&format!("/v1/audit/events/{id}/proof")).await, 409).await;
    diesel::sql_query("COMMIT")
        .execute(&mut conn)
        .await
        .unwrap();
    app.log_caught_up().await;
    let proof = app.get_json(&format!("/v1/audit/events/{id}/proof")).await;
    assert_eq!(proof["event_id"], id);
}

#[tokio::test]
async fn events_of_the_retired_hash_chain_join_the_log_in_chain_order() {
    use claimtrail::domain::audit::LogSigner;
    use claimtrail::storage::{audit_log, audit_verify, migrate};
    use diesel::Connection;
    use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
    use diesel_migrations::MigrationHarness;

    let url = crate::helpers::empty_database();
    // The schema as it was before the log, and events chained in an order
    // that is not their id order (as commit order can be).
    let before_url = url.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn =
            <AsyncConnectionWrapper<diesel_async::AsyncPgConnection> as Connection>::establish(
                &before_url,
            )
            .unwrap();
        loop {
            let pending = conn.pending_migrations(migrate::MIGRATIONS).unwrap();
            let next = <[_]>::first(&pending).expect("the log's migration is pending");
            if next.name().to_string().ends_with("_transparency_log") {
                break;
            }
            conn.run_migration(next.as_ref()).unwrap();
        }
        for sql in [
            "INSERT INTO stories (id, slug, title) VALUES (1, 'old-story', 'Old story')",
            "INSERT INTO audit_events (id, actor, action, subject_type, subject_id, story_id) VALUES (10, 'ana', 'story.created', 'story', 1, 1)",
            "INSERT INTO audit_events (id, actor, action, subject_type, subject_id) VALUES (5, 'ana', 'user.created', 'user', 1)",
            "INSERT INTO audit_events (id, actor, action, subject_type, subject_id, story_id) VALUES (7, 'eva', 'claim.created', 'claim', 1, 1)",
        ] {
            diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut conn).unwrap();
        }
        migrate::run_pending(&before_url).unwrap();
    })
    .await
    .unwrap();

    let signer = LogSigner::from_key(&LogSigner::generate("claimtrail.test/log").unwrap()).unwrap();
    let mut conn = diesel_async::AsyncPgConnection::establish(&url)
        .await
        .unwrap();
    diesel::sql_query(
        "INSERT INTO audit_events (actor, action, subject_type, subject_id, story_id) VALUES ('new', 'claim.revised', 'claim', 1, 1)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    while audit_log::integrate(&mut conn, &signer, 2)
        .await
        .unwrap()
        .is_some()
    {}

    #[derive(diesel::QueryableByName, Debug, PartialEq)]
    struct Leaf {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        event_id: i64,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
        story_seq: Option<i64>,
    }
    let leaves: Vec<Leaf> =
        diesel::sql_query("SELECT event_id, story_seq FROM audit_log_leaves ORDER BY leaf_index")
            .load(&mut conn)
            .await
            .unwrap();
    let pairs: Vec<(i64, Option<i64>)> = leaves.iter().map(|l| (l.event_id, l.story_seq)).collect();
    assert_eq!(
        pairs[..3],
        [(10, Some(1)), (5, None), (7, Some(2))],
        "chain order kept"
    );
    assert_eq!(pairs.len(), 4);
    assert_eq!(pairs[3].1, Some(3), "a new event continues its story");
    let verdict = audit_verify::verify(&mut conn, signer.verifier_key(), None)
        .await
        .unwrap();
    assert!(
        matches!(verdict, audit_verify::Verdict::Intact(ref s) if s.leaves == 4),
        "{verdict:?}"
    );
}
