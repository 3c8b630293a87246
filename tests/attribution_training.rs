//! `claimtrail train-attribution` and `eval-attribution --model` end to end:
//! a small corpus in PolNeAR's layout, written here, is trained on, scored
//! with the model just written, and trained on again to the same bytes.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::BIN;

/// Short reports in three shapes ("X said Y", "Y, X said", "according to X,
/// Y"), with brat annotations of their cue, source and content.
fn write_corpus(dir: &Path) {
    let names = [
        "Ana Robles",
        "the minister",
        "officials",
        "Kenji Sato",
        "the mayor",
        "a spokesman",
        "the coast guard",
        "Maria Lopez",
        "the ministry",
        "witnesses",
    ];
    let facts = [
        "the ferry was full",
        "talks will resume",
        "the port is closed",
        "rain is coming",
        "the bridge reopened",
        "nobody was hurt",
        "the search goes on",
    ];
    fs::create_dir_all(dir.join("text")).unwrap();
    fs::create_dir_all(dir.join("attributions")).unwrap();
    for (n, name) in names.iter().enumerate() {
        let mut text = String::from("A headline for the story\n\n");
        let mut ann = String::new();
        let mut t = 0;
        for (k, fact) in facts.iter().enumerate() {
            let start = text.chars().count();
            let (line, cue, source, content) = match (n + k) % 3 {
                0 => {
                    let line = format!("{name} said {fact}.");
                    let c = name.len() + 1;
                    (
                        line.clone(),
                        (c, c + 4),
                        (0, name.len()),
                        (c + 5, line.len() - 1),
                    )
                }
                1 => {
                    let line = format!("{fact}, {name} said.");
                    let c = fact.len() + 2 + name.len() + 1;
                    (line, (c, c + 4), (fact.len() + 2, c - 1), (0, fact.len()))
                }
                _ => {
                    let line = format!("According to {name}, {fact}.");
                    let f = 13 + name.len() + 2;
                    (
                        line.clone(),
                        (0, 12),
                        (13, 13 + name.len()),
                        (f, line.len() - 1),
                    )
                }
            };
            let at = |(s, e): (usize, usize)| (start + s, start + e);
            for (role, (s, e)) in [
                ("Source", at(source)),
                ("Cue", at(cue)),
                ("Content", at(content)),
            ] {
                t += 1;
                ann.push_str(&format!(
                    "T{t}\t{role} {s} {e}\t{}\n",
                    &line[s - start..e - start]
                ));
            }
            ann.push_str(&format!(
                "E{k}\tAttribution:T{} Source:T{} Cue:T{} Content:T{}\n",
                t - 1,
                t - 2,
                t - 1,
                t
            ));
            text.push_str(&line);
            text.push_str("\n\n");
        }
        fs::write(dir.join(format!("text/doc{n}.txt")), &text).unwrap();
        fs::write(dir.join(format!("attributions/doc{n}_ann1.ann")), &ann).unwrap();
    }
}

fn run(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "claimtrail {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_model_trained_on_a_corpus_scores_it_and_retraining_gives_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    write_corpus(&corpus);
    let first = dir.path().join("first.bin");
    let second = dir.path().join("second.bin");
    let train = |out: &Path| {
        run(&[
            "train-attribution",
            "--corpus",
            corpus.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--epochs",
            "6",
            "--seed",
            "11",
            "--keep-above",
            "0.5",
        ])
    };
    let said = train(&first);
    assert!(said.contains("10 texts"), "{said}");
    train(&second);
    assert_eq!(
        fs::read(&first).unwrap(),
        fs::read(&second).unwrap(),
        "same corpus and seed, same bytes"
    );

    // One run scores (JSON on stdout) and writes the predictions.
    let predictions = dir.path().join("predictions.json");
    let report = run(&[
        "eval-attribution",
        "--corpus",
        corpus.to_str().unwrap(),
        "--model",
        first.to_str().unwrap(),
        "--json",
        "--predictions",
        predictions.to_str().unwrap(),
    ]);
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["extractor"], "model (from file)");
    assert_eq!(report["citron"]["gold_quotes"], 70);
    for field in ["cue_exact", "source_exact", "content_exact"] {
        let f1 = report["citron"][field]["f1"].as_f64().unwrap();
        assert!(f1 > 0.9, "{field} F1 {f1} on the training corpus itself");
    }

    // The scorer's format: documents by name, character offsets.
    let predictions: serde_json::Value =
        serde_json::from_slice(&fs::read(&predictions).unwrap()).unwrap();
    let doc0 = predictions["documents"]["doc0"].as_array().unwrap();
    let text = fs::read_to_string(corpus.join("text/doc0.txt")).unwrap();
    let chars: Vec<char> = text.chars().collect();
    let cut = |v: &serde_json::Value| -> String {
        chars[v["start"].as_u64().unwrap() as usize..v["end"].as_u64().unwrap() as usize]
            .iter()
            .collect()
    };
    assert_eq!(cut(&doc0[0]["cue"]), "said");
    assert_eq!(cut(&doc0[0]["sources"][0]), "Ana Robles");
    assert_eq!(cut(&doc0[0]["contents"][0]), "the ferry was full");

    // A file that is not a model is refused, naming it.
    let bad = dir.path().join("bad.bin");
    fs::write(&bad, b"not a model").unwrap();
    let out = Command::new(BIN)
        .args([
            "eval-attribution",
            "--corpus",
            corpus.to_str().unwrap(),
            "--model",
            bad.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a claimtrail attribution model"));
}
