//! Word diffs as the pages show them: runs of kept, deleted and inserted
//! text, rendered as plain text, `<del>` and `<ins>` (readable without
//! colour: the elements are announced, and struck through or underlined).

use serde_json::Value;

use crate::domain::diff::{OpKind, TextOp};

/// One run of a word diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// `same`, `del` or `ins`.
    pub kind: &'static str,
    pub text: String,
}

/// A word diff's operations (with the text of equal runs, as
/// `claim_changes` makes them for the API) as runs to mark up.
pub fn runs(ops: &[TextOp]) -> Vec<Run> {
    ops.iter()
        .map(|op| Run {
            kind: match op.op {
                OpKind::Equal => "same",
                OpKind::Delete => "del",
                OpKind::Insert => "ins",
            },
            text: op.text.clone().unwrap_or_default(),
        })
        .collect()
}

/// A changed field's value as a reader wants it, not as JSON: spans as
/// their words and place, lists joined, yes and no, "—" for nothing.
pub fn field_text(field: &str, value: &Value) -> String {
    match (field, value) {
        (_, Value::Null) => "—".to_owned(),
        ("appearances", Value::Array(spans)) if spans.is_empty() => "no span".to_owned(),
        ("appearances", Value::Array(spans)) => spans
            .iter()
            .map(|a| {
                format!(
                    "“{}” (article {} revision {}, characters {}–{}, {})",
                    a["excerpt"].as_str().unwrap_or(""),
                    a["article_id"],
                    a["article_revision"],
                    a["start"],
                    a["end"],
                    a["state"].as_str().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        ("speaker_id", Value::Number(n)) => format!("speaker {n}"),
        ("when", Value::Object(w)) => {
            let words = w.get("expression").and_then(Value::as_str);
            let at = ["at", "start"]
                .iter()
                .find_map(|k| w.get(*k).and_then(Value::as_str));
            match (words, at) {
                (Some(words), Some(at)) => format!("“{words}” ({at})"),
                (Some(words), None) => format!("“{words}”"),
                (None, Some(at)) => at.to_owned(),
                (None, None) => "—".to_owned(),
            }
        }
        (_, Value::Bool(true)) => "yes".to_owned(),
        (_, Value::Bool(false)) => "no".to_owned(),
        (_, Value::String(s)) => s.clone(),
        (_, Value::Array(items)) if items.is_empty() => "none".to_owned(),
        (_, Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        (_, other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::diff::Alignment;
    use std::time::Duration;

    fn word_runs(old: &str, new: &str, timeout: Duration) -> Vec<Run> {
        runs(&Alignment::words(old, new, timeout).ops(true))
    }
    use serde_json::json;

    #[test]
    fn fields_read_as_words_not_json() {
        let spans = json!([{ "article_id": 1, "article_revision": 2, "start": 21, "end": 47,
                             "excerpt": "19 passengers were rescued", "state": "altered" }]);
        assert_eq!(
            field_text("appearances", &spans),
            "“19 passengers were rescued” (article 1 revision 2, characters 21–47, altered)"
        );
        assert_eq!(field_text("needs_review", &json!(true)), "yes");
        assert_eq!(
            field_text("hedges", &json!(["reportedly", "allegedly"])),
            "reportedly, allegedly"
        );
        assert_eq!(field_text("cue", &Value::Null), "—");
        assert_eq!(field_text("speaker_id", &json!(4)), "speaker 4");
    }

    #[test]
    fn a_changed_word_is_a_deletion_then_an_insertion() {
        let runs = word_runs(
            "officials identified 17 citizens",
            "officials identified 19 citizens",
            Duration::from_millis(100),
        );
        let kinds: Vec<&str> = runs.iter().map(|r| r.kind).collect();
        assert!(kinds.contains(&"del") && kinds.contains(&"ins"), "{runs:?}");
        let old: String = runs
            .iter()
            .filter(|r| r.kind != "ins")
            .map(|r| r.text.as_str())
            .collect();
        let new: String = runs
            .iter()
            .filter(|r| r.kind != "del")
            .map(|r| r.text.as_str())
            .collect();
        assert_eq!(old, "officials identified 17 citizens");
        assert_eq!(new, "officials identified 19 citizens");
        assert!(
            runs.iter()
                .any(|r| r.kind == "del" && r.text.contains("17"))
        );
    }

    #[test]
    fn text_in_any_script_survives_the_runs() {
        let (old, new) = ("政府は17人を確認した", "政府は19人を確認した");
        let runs = word_runs(old, new, Duration::from_millis(100));
        let rebuilt: String = runs
            .iter()
            .filter(|r| r.kind != "del")
            .map(|r| r.text.as_str())
            .collect();
        assert_eq!(rebuilt, new);
    }
}
