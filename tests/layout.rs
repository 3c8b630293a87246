//! The code's layout keeps its promises: HTTP apart from the domain apart
//! from storage, dependencies one way, and no import cycle between modules.
//!
//! Modules are the first level under each layer (`domain::claim`,
//! `storage::claims`, `http::handlers`); a module's files are read for
//! `crate::…` paths and, at the layer's first level, `super::…` paths, code
//! only (comments are skipped).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const LAYERS: &[&str] = &["domain", "storage", "http"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `layer::module` of a file under `src/`, or `None` for a layer's `mod.rs`
/// and files outside the layers.
fn module_of(src: &Path, file: &Path) -> Option<(String, String)> {
    let rel: Vec<String> = file
        .strip_prefix(src)
        .ok()?
        .iter()
        .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    let layer = rel.first()?.clone();
    if !LAYERS.contains(&layer.as_str()) || rel.len() < 2 || rel[1] == "mod" {
        return None;
    }
    Some((layer, rel[1].clone()))
}

/// Every `crate::a::b` and `super::b` path in the code of `text`.
fn paths(text: &str) -> Vec<(bool, Vec<String>)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        for (prefix, from_crate) in [("crate::", true), ("super::", false)] {
            let mut rest = code;
            while let Some(at) = rest.find(prefix) {
                let before = rest[..at].chars().last();
                rest = &rest[at + prefix.len()..];
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                let segments: Vec<String> = rest
                    .split("::")
                    .take(2)
                    .map(|s| {
                        s.chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect()
                    })
                    .collect();
                out.push((from_crate, segments));
            }
        }
    }
    out
}

/// Module → modules it uses, and layer → layers it uses.
fn graph() -> (
    BTreeMap<String, BTreeSet<String>>,
    BTreeMap<String, BTreeSet<String>>,
) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let (mut modules, mut layers) = (BTreeMap::new(), BTreeMap::new());
    for file in files {
        let Some((layer, module)) = module_of(&src, &file) else {
            continue;
        };
        let first_level = file.parent() == Some(&src.join(&layer));
        let text = fs::read_to_string(&file).unwrap();
        // Unit tests may reach anywhere.
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        let name = format!("{layer}::{module}");
        for (from_crate, segments) in paths(code) {
            let target = if from_crate {
                let used_layer = segments[0].clone();
                if used_layer != layer && !used_layer.is_empty() {
                    layers
                        .entry(layer.clone())
                        .or_insert_with(BTreeSet::new)
                        .insert(used_layer.clone());
                }
                match segments.get(1) {
                    Some(m) if LAYERS.contains(&used_layer.as_str()) && !m.is_empty() => {
                        format!("{used_layer}::{m}")
                    }
                    _ => continue,
                }
            } else if first_level && !segments[0].is_empty() {
                format!("{layer}::{}", segments[0])
            } else {
                continue;
            };
            // Items of a layer's mod.rs (macros, shared types) are not modules.
            let is_module = target.split("::").nth(1).is_some_and(|m| {
                let l = target.split("::").next().unwrap();
                src.join(l).join(format!("{m}.rs")).exists() || src.join(l).join(m).is_dir()
            });
            if target != name && is_module {
                modules
                    .entry(name.clone())
                    .or_insert_with(BTreeSet::new)
                    .insert(target);
            }
        }
    }
    (modules, layers)
}

#[test]
fn layers_depend_one_way_http_on_storage_on_domain() {
    let (_, layers) = graph();
    let forbidden = [
        ("domain", "storage"),
        ("domain", "http"),
        ("storage", "http"),
    ];
    for (from, to) in forbidden {
        assert!(
            !layers.get(from).is_some_and(|used| used.contains(to)),
            "{from} uses {to}: {layers:?}"
        );
    }
    // The graph is read at all: http uses the other two.
    assert!(layers["http"].contains("storage") && layers["http"].contains("domain"));
}

#[test]
fn no_two_modules_import_each_other_even_through_others() {
    let (modules, _) = graph();
    assert!(modules.len() > 30, "{}", modules.len());
    // Depth-first search for a back edge, reporting the cycle found.
    fn visit<'a>(
        node: &'a str,
        modules: &'a BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<&'a str, bool>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match state.get(node) {
            Some(true) => return None,
            Some(false) => {
                let from = stack.iter().position(|n| *n == node).unwrap();
                let mut cycle: Vec<String> = stack[from..].iter().map(|s| s.to_string()).collect();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        state.insert(node, false);
        stack.push(node);
        for next in modules.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, modules, state, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        state.insert(node, true);
        None
    }
    let mut state = BTreeMap::new();
    for node in modules.keys() {
        let cycle = visit(node, &modules, &mut state, &mut Vec::new());
        assert!(
            cycle.is_none(),
            "import cycle: {}",
            cycle.unwrap().join(" → ")
        );
    }
}
