//! `claimtrail watch add|list|run-once` on a data folder of its own, against
//! a fixture site on 127.0.0.1: a private address is refused (and nothing
//! is sent) unless the operator allows it, and a poll files what it finds.

mod common;

use std::process::Command;

use common::fixture_site::{Answer, FixtureSite};
use common::{BIN, Cleanup, cli, data_folder};

const PAGE: &str = "<!doctype html><html lang=\"el\"><head><title>Ναυάγιο στο λιμάνι</title></head><body>\
    <nav><a href=\"/\">Αρχική</a></nav><article><h1>Ναυάγιο στο λιμάνι</h1>\
    <p>Το λιμενικό ανακοίνωσε την Παρασκευή ότι δεκαεπτά επιβάτες διασώθηκαν από το πλοίο που προσάραξε κοντά στο βόρειο λιμάνι μέσα σε πυκνή ομίχλη.</p>\
    <p>Η εταιρεία δήλωσε ότι η γραμμή θα μείνει κλειστή μέχρι να ολοκληρωθεί ο έλεγχος της γάστρας από δύτες, κάτι που μπορεί να διαρκέσει αρκετές ημέρες.</p>\
    </article><footer>© Λιμενικά Νέα</footer></body></html>";

#[test]
fn the_cli_adds_lists_and_polls_watches_and_refuses_private_addresses_by_default() {
    let (_root, data) = data_folder();
    let _cleanup = Cleanup(data.clone());
    let site = FixtureSite::start();
    site.set("/ferry", Answer::ok("text/html; charset=utf-8", PAGE));
    cli(&data, &["init"]);
    let added = cli(&data, &["watch", "add", "--url", &site.url("/ferry")]);
    assert!(
        added.contains("watch 1 added") && added.contains("filing: ask"),
        "{added}"
    );

    // Without the operator's allowance, 127.0.0.1 is not fetched.
    let refused = cli(&data, &["watch", "run-once", "--id", "1"]);
    let report: serde_json::Value = serde_json::from_str(refused.trim()).unwrap();
    assert_eq!(report["outcome"], "failed", "{report}");
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("private addresses are not fetched"),
        "{report}"
    );
    assert!(site.seen().is_empty(), "sent {:?}", site.seen());

    let polled = cli(
        &data,
        &["watch", "run-once", "--id", "1", "--watch-allow-private"],
    );
    let report: serde_json::Value = serde_json::from_str(polled.trim()).unwrap();
    assert_eq!(report["outcome"], "fetched", "{report}");
    assert_eq!(report["kind"], "page");
    assert_eq!(report["held"], 1, "{report}");
    assert_eq!(site.hits("/ferry"), 1);

    let listed = cli(&data, &["watch", "list"]);
    let row = listed.lines().nth(1).unwrap();
    assert!(row.starts_with("1\tactive\t"), "{listed}");
    assert!(row.contains("\tfetched\t0\t"), "{listed}");

    // A bad request writes nothing and says why.
    let out = Command::new(BIN)
        .args([
            "watch",
            "add",
            "--url",
            "ftp://example.org/feed",
            "--story",
            "1",
        ])
        .env_remove("DATABASE_URL")
        .env("CLAIMTRAIL_DATA_DIR", &data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("url"),
        "{out:?}"
    );
    assert_eq!(cli(&data, &["watch", "list"]).lines().count(), 2);
}
