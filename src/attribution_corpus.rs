//! Reading an attribution corpus in brat standoff layout (PolNeAR):
//! `text/<name>.txt` and `attributions/<name>_<annotator>.ann`.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

use anyhow::Context;

/// One text and its annotation files, in file-name order.
pub struct CorpusText {
    pub name: String,
    pub text: String,
    pub annotations: Vec<String>,
}

/// The corpus's texts, in name order. A text's annotation files are those
/// named after it with one more `_<annotator>` part.
pub fn read(dir: &Path) -> anyhow::Result<Vec<CorpusText>> {
    let text_dir = dir.join("text");
    let ann_dir = dir.join("attributions");
    let mut texts: BTreeMap<String, CorpusText> = BTreeMap::new();
    for entry in
        fs::read_dir(&text_dir).with_context(|| format!("reading {}", text_dir.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "txt") {
            let name = stem(&path);
            let text =
                fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            texts.insert(
                name.clone(),
                CorpusText {
                    name,
                    text,
                    annotations: Vec::new(),
                },
            );
        }
    }
    let mut anns: Vec<_> = fs::read_dir(&ann_dir)
        .with_context(|| format!("reading {}", ann_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "ann"))
        .collect();
    anns.sort();
    for path in anns {
        let stem = stem(&path);
        let owner = match stem.rsplit_once('_') {
            Some((base, annotator))
                if texts.contains_key(base)
                    && annotator.chars().all(|c| c.is_ascii_alphanumeric()) =>
            {
                base.to_owned()
            }
            _ if texts.contains_key(&stem) => stem,
            _ => continue,
        };
        let ann =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        if let Some(t) = texts.get_mut(&owner) {
            t.annotations.push(ann);
        }
    }
    Ok(texts.into_values().collect())
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// filename → publisher, from a tab-separated table with a header row.
pub fn read_publishers(path: &Path) -> anyhow::Result<HashMap<String, String>> {
    let table = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(f), Some(p)) = (col("filename"), col("publisher")) else {
        anyhow::bail!("{} has no filename and publisher columns", path.display());
    };
    Ok(lines
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            Some((cells.get(f)?.to_string(), cells.get(p)?.to_string()))
        })
        .collect())
}
