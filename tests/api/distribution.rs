//! The plan for spreading the ledger over Citus by story, as the schema
//! holds it: checked here without Citus (it is not packaged for this
//! machine's distribution), as far as plain PostgreSQL can check it.

use std::collections::{BTreeMap, BTreeSet};

use claimtrail::storage::distribution::{self, Distribution};
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;

use crate::helpers::spawn_app;

#[derive(diesel::QueryableByName)]
struct Named {
    #[diesel(sql_type = Text)]
    table_name: String,
}

#[derive(diesel::QueryableByName)]
struct Blocker {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    blocker: String,
}

#[tokio::test]
async fn without_citus_every_table_stays_and_says_so() {
    let app = spawn_app().await;
    let mut conn = app.db().await;
    assert_eq!(
        distribution::status(&mut conn).await.unwrap(),
        Distribution::NotInstalled
    );
}

#[tokio::test]
async fn every_table_has_a_place_in_the_plan() {
    let app = spawn_app().await;
    let mut conn = app.db().await;
    // A table added later without a placement fails here.
    let unplaced: Vec<Named> = diesel::sql_query(
        "SELECT tablename::text AS table_name FROM pg_tables WHERE schemaname = 'public' \
         EXCEPT SELECT table_name FROM claimtrail_table_placement() ORDER BY 1",
    )
    .load(&mut conn)
    .await
    .unwrap();
    assert!(
        unplaced.is_empty(),
        "tables without a placement: {:?}",
        unplaced.iter().map(|t| &t.table_name).collect::<Vec<_>>()
    );
    let missing: Vec<Named> = diesel::sql_query(
        "SELECT table_name FROM claimtrail_table_placement() WHERE to_regclass(table_name) IS NULL",
    )
    .load(&mut conn)
    .await
    .unwrap();
    assert!(missing.is_empty(), "placed tables that do not exist");
}

#[tokio::test]
async fn the_blockers_name_what_keeps_each_story_table_on_one_node() {
    let app = spawn_app().await;
    let mut conn = app.db().await;
    let blockers: Vec<Blocker> =
        diesel::sql_query("SELECT * FROM claimtrail_distribution_blockers()")
            .load(&mut conn)
            .await
            .unwrap();
    let mut by_table: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for b in blockers {
        by_table.entry(b.table_name).or_default().push(b.blocker);
    }
    let story_tables: BTreeSet<String> = diesel::sql_query(
        "SELECT table_name FROM claimtrail_table_placement() WHERE placement = 'story'",
    )
    .load::<Named>(&mut conn)
    .await
    .unwrap()
    .into_iter()
    .map(|t| t.table_name)
    .collect();
    // Every story table needs work; of the rest, only the coordinator
    // tables that reference story tables: the log's leaves, and watches
    // and their items (which name the stories and articles they file into).
    let blocked: BTreeSet<String> = by_table.keys().cloned().collect();
    let mut expected = story_tables.clone();
    expected.extend(["audit_log_leaves", "watches", "watch_items"].map(String::from));
    assert_eq!(blocked, expected);
    assert_eq!(
        by_table["claims"],
        ["unique index claims_pkey does not include story_id"]
    );
    assert!(by_table["claim_appearances"].contains(&"has no story_id column".to_owned()));
    assert!(by_table["audit_events"].contains(&"story_id may be null".to_owned()));
    // A key that does join on the story is no blocker: claim_revisions →
    // stories is not listed, claim_revisions → claims is.
    let revisions = &by_table["claim_revisions"];
    assert!(
        revisions
            .iter()
            .any(|b| b.contains("claim_revisions_claim_id_fkey"))
    );
    assert!(
        !revisions
            .iter()
            .any(|b| b.contains("claim_revisions_story_id_fkey"))
    );
}
