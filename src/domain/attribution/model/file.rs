//! The model file: little-endian, versioned, rows sorted by feature so the
//! same model always writes the same bytes.
//!
//! ```text
//! "CTAM" u16 version  f32 slope  f32 intercept
//! tagger × 2 (cue, role):
//!   u8 labels  f32 quantum  f32 × (labels + 1) · labels transitions
//!   u32 rows  then rows × (u64 feature, i16 × labels weights / quantum)
//! ```

use super::Model;
use super::perceptron::{MAX_LABELS, Weights};

const MAGIC: &[u8; 4] = b"CTAM";
const VERSION: u16 = 1;

/// Why a model file does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a claimtrail attribution model: {0}")]
pub struct FormatError(String);

/// Weights are stored as multiples of this.
pub const QUANTUM: f32 = 0.5;

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        if self.0.len() < n {
            return Err(FormatError("it ends early".into()));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], FormatError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, FormatError> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, FormatError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, FormatError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, FormatError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    fn i16(&mut self) -> Result<i16, FormatError> {
        Ok(i16::from_le_bytes(self.array()?))
    }
    fn f32(&mut self) -> Result<f32, FormatError> {
        let v = f32::from_le_bytes(self.array()?);
        if v.is_finite() {
            Ok(v)
        } else {
            Err(FormatError("a number is not finite".into()))
        }
    }

    fn weights(&mut self, labels: usize) -> Result<Weights, FormatError> {
        if usize::from(self.u8()?) != labels {
            return Err(FormatError(
                "a tagger has the wrong number of labels".into(),
            ));
        }
        let quantum = self.f32()?;
        if quantum <= 0.0 {
            return Err(FormatError("the weights' quantum is not positive".into()));
        }
        let transitions = (0..(labels + 1) * labels)
            .map(|_| self.f32())
            .collect::<Result<Vec<_>, _>>()?;
        let n = self.u32()? as usize;
        // Each row takes 8 + 2 · labels bytes: refuse a count the file cannot hold.
        if n > self.0.len() / (8 + 2 * labels) {
            return Err(FormatError("it ends early".into()));
        }
        let mut weights = Weights::new(labels, quantum, transitions);
        weights.reserve(n);
        let mut row = [0i16; MAX_LABELS];
        for _ in 0..n {
            let key = self.u64()?;
            for w in row.iter_mut().take(labels) {
                *w = self.i16()?;
            }
            weights.insert_steps(key, row[..labels].iter().copied());
        }
        Ok(weights)
    }
}

fn write_weights(out: &mut Vec<u8>, w: &Weights) {
    out.push(w.labels as u8);
    out.extend(w.quantum().to_le_bytes());
    for t in &w.transitions {
        out.extend(t.to_le_bytes());
    }
    let mut keys: Vec<u64> = w.features().collect();
    keys.sort_unstable();
    out.extend((keys.len() as u32).to_le_bytes());
    for k in keys {
        out.extend(k.to_le_bytes());
        for &q in w.steps_of(k).unwrap_or_default() {
            out.extend(q.to_le_bytes());
        }
    }
}

impl Model {
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, FormatError> {
        let mut r = Reader(bytes);
        if r.take(4)? != MAGIC {
            return Err(FormatError("it does not start with CTAM".into()));
        }
        let version = r.u16()?;
        if version != VERSION {
            return Err(FormatError(format!(
                "version {version}, this build reads {VERSION}"
            )));
        }
        let slope = r.f32()?;
        let intercept = r.f32()?;
        let cue = r.weights(super::CUE_LABELS)?;
        let role = r.weights(super::ROLE_LABELS)?;
        if !r.0.is_empty() {
            return Err(FormatError("bytes follow the model".into()));
        }
        if cue.is_empty() || role.is_empty() {
            return Err(FormatError("a tagger has no weights".into()));
        }
        Ok(Model {
            cue,
            role,
            slope,
            intercept,
        })
    }

    /// The model file's bytes (weights rounded to multiples of `QUANTUM`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend(MAGIC);
        out.extend(VERSION.to_le_bytes());
        out.extend(self.slope.to_le_bytes());
        out.extend(self.intercept.to_le_bytes());
        write_weights(&mut out, &self.cue);
        write_weights(&mut out, &self.role);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Model {
        let weights = |labels: usize| {
            let transitions = (0..(labels + 1) * labels)
                .map(|k| k as f32 * 0.25)
                .collect();
            let mut w = Weights::new(labels, QUANTUM, transitions);
            // Not in key order: the file sorts them.
            w.insert(
                42,
                &(0..labels)
                    .map(|y| y as f32 * 1.5 - 2.0)
                    .collect::<Vec<_>>(),
            );
            w.insert(7, &vec![0.5; labels]);
            w
        };
        Model {
            cue: weights(super::super::CUE_LABELS),
            role: weights(super::super::ROLE_LABELS),
            slope: 0.3,
            intercept: -1.0,
        }
    }

    #[test]
    fn a_model_reads_back_as_written() {
        let m = tiny();
        let bytes = m.to_bytes();
        assert_eq!(Model::from_bytes(&bytes).unwrap(), m);
        assert_eq!(
            Model::from_bytes(&bytes).unwrap().to_bytes(),
            bytes,
            "same bytes every time"
        );
    }

    #[test]
    fn a_damaged_file_is_refused_not_misread() {
        let bytes = tiny().to_bytes();
        for cut in [0, 3, 10, bytes.len() - 1] {
            assert!(Model::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Model::from_bytes(&longer).is_err());
        let mut other = bytes.clone();
        other[4] = 9;
        assert!(
            Model::from_bytes(&other)
                .unwrap_err()
                .to_string()
                .contains("version 9")
        );
        // A row count larger than the file.
        let mut huge = bytes;
        let rows_at = 4 + 2 + 4 + 4 + 1 + 4 + 4 * 12;
        huge[rows_at..rows_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Model::from_bytes(&huge).is_err());
    }
}
