//! The README's walk-throughs run as printed: every `sh` block, in order, in one
//! shell, against a fresh `claimtrail serve` on a fresh data folder, with
//! `cargo run --release -- …` standing for the built binary. Each `# → …`
//! comment is an expectation: its `"key":value` pairs (and `name: value`
//! header lines) must appear in one response, in the README's order, and the
//! only 4xx answers are the ones the README shows as examples of errors.
//!
//! A block the README marks `<!-- not run: … -->` on the line before its fence
//! is left out (the two commands themselves, and commands that need a corpus
//! that is not part of the project).

mod common;

use std::path::Path;
use std::process::Command;

use common::{BIN, Cleanup, free_port, start_with};

/// The shell blocks to run, in order.
fn runnable_blocks(readme: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut lines = readme.lines().peekable();
    let mut previous = "";
    while let Some(line) = lines.next() {
        if line.trim_end() == "```sh" {
            let mut block = String::new();
            for inner in lines.by_ref() {
                if inner.trim_end() == "```" {
                    break;
                }
                block.push_str(inner);
                block.push('\n');
            }
            if !previous.trim_start().starts_with("<!-- not run:") {
                blocks.push(block);
            }
        }
        previous = line;
    }
    blocks
}

/// One `# → …` comment with its continuation lines (`#` and three spaces).
fn expectations(script: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for line in script.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("# →") {
            out.push(rest.trim().to_owned());
            open = true;
        } else if open && trimmed.starts_with("#   ") {
            let last = out.last_mut().unwrap();
            last.push(' ');
            last.push_str(trimmed.trim_start_matches('#').trim());
        } else {
            open = false;
        }
    }
    out
}

/// What an expectation can be checked by: `"key":value` pairs whose value is
/// written out (not elided with `…`), or a whole `name: value` header line.
fn fragments(expectation: &str) -> Vec<String> {
    let pair =
        regex::Regex::new(r#""[a-z_]+":("(?:[^"\\]|\\.)*"|-?[0-9]+(?:\.[0-9]+)?|true|false|null)"#)
            .unwrap();
    let header = regex::Regex::new(r#"^([a-z-]+): ("[^"]*"|\S+)$"#).unwrap();
    if header.is_match(expectation) {
        return vec![expectation.to_owned()];
    }
    pair.find_iter(expectation)
        .map(|m| m.as_str().to_owned())
        .filter(|f| !f.contains('…') && !f.contains("..."))
        .collect()
}

/// Whether `fragment` occurs in `body` as a whole value (`"id":1` is not found
/// in `"id":17`).
fn occurs(body: &str, fragment: &str) -> bool {
    let body_lower;
    let (haystack, needle) = if fragment.starts_with('"') {
        (body, fragment.to_owned())
    } else {
        body_lower = body.to_lowercase();
        (body_lower.as_str(), fragment.to_lowercase())
    };
    haystack.match_indices(&needle).any(|(at, _)| {
        let next = haystack[at + needle.len()..].chars().next();
        !matches!(next, Some(c) if c.is_ascii_digit() || c == '.')
    })
}

/// `cargo run --release [-q] -- ARGS` runs the binary under test; `curl` is the
/// real curl, with each answer's status and body recorded (an event stream is
/// read for two seconds).
const PRELUDE: &str = r#"set -euo pipefail
cargo() {
  [ "$1" = run ] || { echo "unexpected: cargo $*" >&2; return 97; }
  while [ "$1" != -- ]; do shift; done
  shift
  "$CLAIMTRAIL_BIN" "$@"
}
curl() {
  local out status rc=0 limit=()
  for arg in "$@"; do [ "$arg" = -sN ] && limit=(--max-time 2); done
  out=$(command curl "${limit[@]}" "$@" -w '\n@@status %{http_code}') || rc=$?
  if [ "$rc" -ne 0 ] && ! { [ "$rc" -eq 28 ] && [ ${#limit[@]} -gt 0 ]; }; then
    echo "curl $* failed with exit code $rc" >&2
    return "$rc"
  fi
  status=${out##*@@status }
  out=${out%$'\n'@@status *}
  printf '%s' "$out"
  printf '%s\n' "$status" >> "$README_STATUS_LOG"
  printf '%s\n\x1e\n' "$out" >> "$README_BODY_LOG"
}
"#;

fn run_readme(root: &Path, port: u16) -> (Vec<u16>, Vec<String>, String) {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let blocks = runnable_blocks(&readme);
    assert!(blocks.len() >= 4, "the walk-throughs are sh blocks");
    let script = blocks.concat();
    let script = script.replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
    let status_log = root.join("statuses");
    let body_log = root.join("bodies");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("{PRELUDE}\n{script}"))
        .current_dir(root)
        .env_remove("DATABASE_URL")
        .env_remove("CLAIMTRAIL_DATA_DIR")
        .env_remove("RUST_LOG")
        .env("CLAIMTRAIL_BIN", BIN)
        .env("README_STATUS_LOG", &status_log)
        .env("README_BODY_LOG", &body_log)
        .output()
        .expect("running bash");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "the README's commands stopped with {}:\n{}\nstdout (last 3000 bytes):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        &stdout[stdout.len().saturating_sub(3000)..]
    );
    let statuses = std::fs::read_to_string(&status_log)
        .unwrap()
        .lines()
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let bodies = std::fs::read_to_string(&body_log)
        .unwrap()
        .split("\n\u{1e}\n")
        .map(str::to_owned)
        .collect();
    (statuses, bodies, script)
}

#[tokio::test]
async fn every_readme_walk_through_runs_as_printed_on_a_fresh_data_folder() {
    let root = tempfile::Builder::new()
        .prefix("claimtrail-readme-")
        .tempdir_in("/tmp")
        .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // The README's default data folder, `./claimtrail-data`, next to where the
    // commands run.
    let data = root.path().join("claimtrail-data");
    let _cleanup = Cleanup(data.clone());
    let port = free_port();
    let mut service = start_with(&data, port, "serve.log", &[("CLAIMTRAIL_WORKERS", "2")]);
    service.wait_healthy(&reqwest::Client::new()).await;

    let root_path = root.path().to_owned();
    let (statuses, bodies, script) =
        tokio::task::spawn_blocking(move || run_readme(&root_path, port))
            .await
            .unwrap();

    // No server error anywhere; the client errors are exactly the README's
    // examples of errors, in order.
    assert!(
        statuses.iter().all(|s| *s < 500 && *s != 0),
        "statuses: {statuses:?}"
    );
    let shown_errors: Vec<u16> = regex::Regex::new(r#"# →.*"status":(4[0-9][0-9])"#)
        .unwrap()
        .captures_iter(&script)
        .map(|c| c[1].parse().unwrap())
        .collect();
    let got_errors: Vec<u16> = statuses.iter().copied().filter(|s| *s >= 400).collect();
    assert_eq!(got_errors, shown_errors, "statuses: {statuses:?}");

    // Each expectation holds in one answer, in the README's order.
    let mut from = 0;
    let mut checked = 0;
    for expectation in expectations(&script) {
        let wanted = fragments(&expectation);
        if wanted.is_empty() {
            continue;
        }
        let found = (from..bodies.len()).find(|&i| wanted.iter().all(|f| occurs(&bodies[i], f)));
        let Some(at) = found else {
            let best = (from..bodies.len())
                .max_by_key(|&i| wanted.iter().filter(|f| occurs(&bodies[i], f)).count())
                .map(|i| bodies[i].as_str())
                .unwrap_or("");
            let missing: Vec<&String> = wanted.iter().filter(|f| !occurs(best, f)).collect();
            panic!(
                "no answer after #{from} holds `# → {expectation}`; the closest misses \
                 {missing:?}:\n{}",
                &best[..best.len().min(3000)]
            );
        };
        from = at;
        checked += 1;
    }
    assert!(
        checked >= 15,
        "only {checked} expectations could be checked"
    );
    service.signal(nix::sys::signal::Signal::SIGTERM);
}
