//! History is append-only in the database itself, whatever the client.

use diesel_async::RunQueryDsl;

use crate::helpers::spawn_app;

#[tokio::test]
async fn direct_sql_cannot_rewrite_history() {
    let app = spawn_app().await;
    let story = app.story("Append only").await;
    let speaker = app.speaker("Speaker", "person").await;
    let article = app
        .article(story, "https://news.example/append", "A body of text.")
        .await;
    let claim = app
        .create(
            "/v1/claims",
            serde_json::json!({ "story_id": story, "speaker_id": speaker, "kind": "assertion", "text": "A body",
                    "appearances": [{ "article_id": article, "start": 0, "end": 6 }] }),
        )
        .await;
    let id = claim["id"].as_i64().unwrap();
    // The log's rows exist once the sequencer has run.
    app.log_caught_up().await;
    let mut conn = app.db().await;

    let forbidden = [
        format!("UPDATE claim_revisions SET text = 'rewritten' WHERE claim_id = {id}"),
        format!("DELETE FROM claim_revisions WHERE claim_id = {id}"),
        "TRUNCATE claim_revisions CASCADE".to_owned(),
        format!("UPDATE article_revisions SET headline = 'rewritten' WHERE article_id = {article}"),
        format!("DELETE FROM article_revisions WHERE article_id = {article}"),
        format!("UPDATE claim_appearances SET span_end = 2 WHERE claim_id = {id}"),
        "DELETE FROM claim_appearances".to_owned(),
        "UPDATE audit_events SET actor = 'someone else'".to_owned(),
        "DELETE FROM audit_events".to_owned(),
        "TRUNCATE audit_events CASCADE".to_owned(),
        "UPDATE audit_log_leaves SET leaf_index = leaf_index + 1".to_owned(),
        "DELETE FROM audit_log_hashes".to_owned(),
        "UPDATE audit_log_checkpoints SET signed_note = 'forged'".to_owned(),
        "TRUNCATE audit_log_checkpoints".to_owned(),
    ];
    for sql in forbidden {
        let err = diesel::sql_query(&sql)
            .execute(&mut conn)
            .await
            .expect_err(&sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }

    // Revision numbers cannot skip or repeat, even written by hand.
    let skip = format!(
        "INSERT INTO claim_revisions (claim_id, revision, story_id, speaker_id, text, kind, status, appearances_revision, author)
         VALUES ({id}, 3, {story}, {speaker}, 'skipped', 'assertion', 'unverified', 1, 'sql')"
    );
    let err = diesel::sql_query(&skip)
        .execute(&mut conn)
        .await
        .expect_err("gap accepted");
    assert!(err.to_string().contains("cannot get revision 3"), "{err}");
    // Checked per statement: one statement whose rows leave a gap among
    // themselves is refused whole.
    let two = format!(
        "INSERT INTO claim_revisions (claim_id, revision, story_id, speaker_id, text, kind, status, appearances_revision, author)
         VALUES ({id}, 2, {story}, {speaker}, 'second', 'assertion', 'unverified', 1, 'sql'),
                ({id}, 4, {story}, {speaker}, 'fourth', 'assertion', 'unverified', 1, 'sql')"
    );
    let err = diesel::sql_query(&two)
        .execute(&mut conn)
        .await
        .expect_err("gap within a statement accepted");
    assert!(
        err.to_string()
            .contains("cannot get revision 4 (its last revision is 2)"),
        "{err}"
    );
    let skip = format!(
        "INSERT INTO article_revisions (article_id, revision, headline, body, body_sha256, body_chars, author)
         VALUES ({article}, 3, 'h', 'b', sha256('b'::bytea), 1, 'sql')"
    );
    let err = diesel::sql_query(&skip)
        .execute(&mut conn)
        .await
        .expect_err("article revision gap accepted");
    assert!(err.to_string().contains("cannot get revision 3"), "{err}");

    // A span outside the body is refused by the database too.
    let outside = format!(
        "INSERT INTO claim_appearances (claim_id, claim_revision, article_id, article_revision, span_start, span_end)
         VALUES ({id}, 1, {article}, 1, 3, 400)"
    );
    let err = diesel::sql_query(&outside)
        .execute(&mut conn)
        .await
        .expect_err("span accepted");
    assert!(err.to_string().contains("lies outside"), "{err}");

    // A body whose recorded hash or length disagrees with it is refused.
    let forged = format!(
        "INSERT INTO article_revisions (article_id, revision, headline, body, body_sha256, body_chars, author)
         VALUES ({article}, 2, 'h', 'new body', sha256('other'::bytea), 8, 'sql')"
    );
    diesel::sql_query(&forged)
        .execute(&mut conn)
        .await
        .expect_err("forged hash accepted");

    let after = app.get_json(&format!("/v1/claims/{id}/revisions/1")).await;
    assert_eq!(after["text"], "A body");
}
