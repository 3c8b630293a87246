//! A first-order structured averaged perceptron (Collins 2002): label
//! sequences decoded with Viterbi under transition constraints, weights
//! averaged over every update so that late examples do not dominate.
//!
//! Features are 64-bit hashes of strings (see `features.rs`); a weight row
//! holds one weight per label.

use std::collections::HashMap as StdMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Features are hashes already: the map uses them as they are instead of
/// hashing them a second time (a third of the decoding time otherwise).
#[derive(Default)]
pub struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are stored; fold anything else in, for completeness.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub type FeatureMap<V> = StdMap<u64, V, BuildHasherDefault<Identity>>;

/// Which label may follow which (`prev == None` at the first token).
pub type Allowed = fn(Option<usize>, usize) -> bool;

/// The most labels a tagger has (the role tagger's six).
pub const MAX_LABELS: usize = 6;

/// Frozen weights: one row per feature, and the transition scores. A row is
/// stored inline in the map as multiples of `quantum` (16-bit integers): one
/// cache line per feature looked up, which is what decoding spends its time
/// on.
#[derive(Debug, Clone)]
pub struct Weights {
    pub labels: usize,
    quantum: f32,
    index: FeatureMap<[i16; MAX_LABELS]>,
    /// `(labels + 1) × labels`: row `labels` scores the first label.
    pub transitions: Vec<f32>,
}

impl PartialEq for Weights {
    fn eq(&self, other: &Self) -> bool {
        self.labels == other.labels
            && self.quantum == other.quantum
            && self.transitions == other.transitions
            && self.index == other.index
    }
}

impl Weights {
    pub fn new(labels: usize, quantum: f32, transitions: Vec<f32>) -> Self {
        assert!(labels <= MAX_LABELS && quantum > 0.0);
        Weights {
            labels,
            quantum,
            index: FeatureMap::default(),
            transitions,
        }
    }

    /// Adds (or replaces) the row of feature `f`, rounded to the quantum.
    pub fn insert(&mut self, f: u64, row: &[f32]) {
        debug_assert_eq!(row.len(), self.labels);
        let steps: Vec<i16> = row.iter().map(|&w| self.steps(w)).collect();
        self.insert_steps(f, steps);
    }

    /// Adds the row of feature `f` given in quanta.
    pub fn insert_steps(&mut self, f: u64, steps: impl IntoIterator<Item = i16>) {
        let mut stored = [0i16; MAX_LABELS];
        for (s, w) in stored.iter_mut().zip(steps).take(self.labels) {
            *s = w;
        }
        self.index.insert(f, stored);
    }

    fn steps(&self, w: f32) -> i16 {
        (w / self.quantum)
            .round()
            .clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16
    }

    pub fn reserve(&mut self, rows: usize) {
        self.index.reserve(rows);
    }

    pub fn quantum(&self) -> f32 {
        self.quantum
    }

    /// The row of feature `f` in quanta.
    pub fn steps_of(&self, f: u64) -> Option<&[i16]> {
        self.index.get(&f).map(|r| &r[..self.labels])
    }

    #[cfg(test)]
    pub fn row(&self, f: u64) -> Option<Vec<f32>> {
        self.steps_of(f)
            .map(|r| r.iter().map(|&s| f32::from(s) * self.quantum).collect())
    }

    /// How many features have a row.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The features with a row, in no particular order.
    pub fn features(&self) -> impl Iterator<Item = u64> + '_ {
        self.index.keys().copied()
    }

    /// Scores of every label at every token (`tokens × labels`, row-major).
    pub fn emissions(&self, features: &[Vec<u64>]) -> Vec<f32> {
        let l = self.labels;
        let mut out = vec![0f32; features.len() * l];
        for (i, fs) in features.iter().enumerate() {
            // Sums of quanta are exact in i32; scaled once per token.
            let mut sums = [0i32; MAX_LABELS];
            for f in fs {
                if let Some(row) = self.index.get(f) {
                    for (s, &w) in sums.iter_mut().zip(row) {
                        *s += i32::from(w);
                    }
                }
            }
            for (o, &s) in out[i * l..(i + 1) * l].iter_mut().zip(&sums) {
                *o = s as f32 * self.quantum;
            }
        }
        out
    }
}

/// The best label sequence under `emissions` (tokens × labels), the
/// transition scores and the constraints; `fixed(i)` forces token i's
/// label. Returns the labels and the sequence's score (`None` when no
/// sequence satisfies the constraints).
pub fn viterbi(
    labels: usize,
    emissions: &[f32],
    transitions: &[f32],
    allowed: Allowed,
    fixed: &dyn Fn(usize) -> Option<usize>,
) -> Option<(Vec<usize>, f32)> {
    let n = emissions.len() / labels;
    if n == 0 {
        return Some((Vec::new(), 0.0));
    }
    let none = f32::NEG_INFINITY;
    let mut score = vec![none; n * labels];
    let mut back = vec![0u8; n * labels];
    for y in 0..labels {
        if allowed(None, y) && fixed(0).is_none_or(|f| f == y) {
            score[y] = transitions[labels * labels + y] + emissions[y];
        }
    }
    for i in 1..n {
        let forced = fixed(i);
        for y in 0..labels {
            if forced.is_some_and(|f| f != y) {
                continue;
            }
            let mut best = none;
            let mut arg = 0;
            for p in 0..labels {
                let s = score[(i - 1) * labels + p];
                if s == none || !allowed(Some(p), y) {
                    continue;
                }
                let s = s + transitions[p * labels + y];
                if s > best {
                    best = s;
                    arg = p;
                }
            }
            if best > none {
                score[i * labels + y] = best + emissions[i * labels + y];
                back[i * labels + y] = arg as u8;
            }
        }
    }
    let last = &score[(n - 1) * labels..];
    let (mut y, &best) = last.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    if best == none {
        return None;
    }
    let mut out = vec![0; n];
    for i in (0..n).rev() {
        out[i] = y;
        if i > 0 {
            y = back[i * labels + y] as usize;
        }
    }
    Some((out, best))
}

/// The best sequence scores through each label at each token, from both
/// ends: `forward[i·L + y]` is the best score of tokens `0..=i` ending in
/// `y` (its emission included), `backward[i·L + y]` the best score of
/// tokens `i+1..` given `y` at `i`. With them, the best sequence under any
/// constraint on one stretch of tokens costs that stretch alone.
pub struct BestScores {
    labels: usize,
    forward: Vec<f32>,
    backward: Vec<f32>,
}

impl BestScores {
    pub fn new(labels: usize, emissions: &[f32], transitions: &[f32], allowed: Allowed) -> Self {
        let n = emissions.len() / labels;
        let none = f32::NEG_INFINITY;
        let mut forward = vec![none; n * labels];
        let mut backward = vec![none; n * labels];
        if n == 0 {
            return BestScores {
                labels,
                forward,
                backward,
            };
        }
        for y in 0..labels {
            if allowed(None, y) {
                forward[y] = transitions[labels * labels + y] + emissions[y];
            }
        }
        for i in 1..n {
            for y in 0..labels {
                let best = (0..labels)
                    .filter(|&p| allowed(Some(p), y))
                    .map(|p| forward[(i - 1) * labels + p] + transitions[p * labels + y])
                    .fold(none, f32::max);
                if best > none {
                    forward[i * labels + y] = best + emissions[i * labels + y];
                }
            }
        }
        backward[(n - 1) * labels..].fill(0.0);
        for i in (0..n - 1).rev() {
            for y in 0..labels {
                backward[i * labels + y] = (0..labels)
                    .filter(|&x| allowed(Some(y), x))
                    .map(|x| {
                        transitions[y * labels + x]
                            + emissions[(i + 1) * labels + x]
                            + backward[(i + 1) * labels + x]
                    })
                    .fold(none, f32::max);
            }
        }
        BestScores {
            labels,
            forward,
            backward,
        }
    }

    /// The best score of a whole sequence with `label` on every token of
    /// `a..b` (`a < b`).
    pub fn with_stretch(
        &self,
        emissions: &[f32],
        transitions: &[f32],
        allowed: Allowed,
        (a, b): (usize, usize),
        label: usize,
    ) -> f32 {
        let l = self.labels;
        let none = f32::NEG_INFINITY;
        let entry = if a == 0 {
            if !allowed(None, label) {
                return none;
            }
            transitions[l * l + label]
        } else {
            (0..l)
                .filter(|&p| allowed(Some(p), label))
                .map(|p| self.forward[(a - 1) * l + p] + transitions[p * l + label])
                .fold(none, f32::max)
        };
        let mut inside = emissions[a * l + label];
        for k in a + 1..b {
            if !allowed(Some(label), label) {
                return none;
            }
            inside += transitions[label * l + label] + emissions[k * l + label];
        }
        entry + inside + self.backward[(b - 1) * l + label]
    }
}

/// Weights being learnt. Averaging uses the usual trick: alongside each
/// weight `w`, `u` sums `c · Δw` (c counts examples), so the average is
/// `w − u / c` without touching every weight at every step.
pub struct Trainer {
    labels: usize,
    index: FeatureMap<u32>,
    w: Vec<f32>,
    u: Vec<f64>,
    transitions: Vec<f32>,
    transitions_u: Vec<f64>,
    c: f64,
}

impl Trainer {
    /// A trainer over the given features (the others are ignored).
    pub fn new(labels: usize, features: impl IntoIterator<Item = u64>) -> Self {
        let mut index = FeatureMap::default();
        for f in features {
            let next = index.len() as u32;
            index.entry(f).or_insert(next);
        }
        let n = index.len() * labels;
        Trainer {
            labels,
            index,
            w: vec![0.0; n],
            u: vec![0.0; n],
            transitions: vec![0.0; (labels + 1) * labels],
            transitions_u: vec![0.0; (labels + 1) * labels],
            c: 1.0,
        }
    }

    fn emissions(&self, features: &[Vec<u64>]) -> Vec<f32> {
        let l = self.labels;
        let mut out = vec![0f32; features.len() * l];
        for (i, fs) in features.iter().enumerate() {
            for f in fs {
                if let Some(&k) = self.index.get(f) {
                    let k = k as usize * l;
                    for y in 0..l {
                        out[i * l + y] += self.w[k + y];
                    }
                }
            }
        }
        out
    }

    fn bump(&mut self, k: usize, by: f32) {
        self.w[k] += by;
        self.u[k] += self.c * f64::from(by);
    }

    fn bump_transition(&mut self, k: usize, by: f32) {
        self.transitions[k] += by;
        self.transitions_u[k] += self.c * f64::from(by);
    }

    /// One example: decode it, and where the decoding differs from `gold`
    /// move the weights towards gold. Returns whether it was wrong.
    pub fn learn(
        &mut self,
        features: &[Vec<u64>],
        gold: &[usize],
        allowed: Allowed,
        fixed: &dyn Fn(usize) -> Option<usize>,
    ) -> bool {
        let l = self.labels;
        let em = self.emissions(features);
        let predicted = viterbi(l, &em, &self.transitions, allowed, fixed)
            .map(|(p, _)| p)
            .unwrap_or_else(|| gold.to_vec());
        let mut wrong = false;
        for i in 0..gold.len() {
            let (g, p) = (gold[i], predicted[i]);
            let (gp, pp) = if i == 0 {
                (l, l)
            } else {
                (gold[i - 1], predicted[i - 1])
            };
            if g != p || gp != pp {
                wrong = true;
                self.bump_transition(gp * l + g, 1.0);
                self.bump_transition(pp * l + p, -1.0);
            }
            if g != p {
                for f in &features[i] {
                    if let Some(&k) = self.index.get(f) {
                        let k = k as usize * l;
                        self.bump(k + g, 1.0);
                        self.bump(k + p, -1.0);
                    }
                }
            }
        }
        self.c += 1.0;
        wrong
    }

    /// The averaged weights, keeping only rows with a weight of at least
    /// `keep_above` in absolute value, stored as multiples of `quantum`
    /// (what the model file holds).
    pub fn average(&self, keep_above: f32, quantum: f32) -> Weights {
        let l = self.labels;
        let avg = |w: f32, u: f64| (f64::from(w) - u / self.c) as f32;
        let transitions = self
            .transitions
            .iter()
            .zip(&self.transitions_u)
            .map(|(&w, &u)| avg(w, u))
            .collect();
        let mut out = Weights::new(l, quantum, transitions);
        for (&f, &k) in &self.index {
            let k = k as usize * l;
            let row: Vec<f32> = (0..l).map(|y| avg(self.w[k + y], self.u[k + y])).collect();
            if row.iter().any(|w| w.abs() >= keep_above) {
                out.insert(f, &row);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any(_: Option<usize>, _: usize) -> bool {
        true
    }

    /// Label 2 only after 1 or 2 (an "inside" after a "begin").
    fn bio(prev: Option<usize>, y: usize) -> bool {
        y != 2 || matches!(prev, Some(1 | 2))
    }

    #[test]
    fn viterbi_follows_the_emissions_when_transitions_are_flat() {
        let em = [0.0, 2.0, 3.0, 0.0, 0.0, 1.0];
        let (labels, score) = viterbi(2, &em, &[0.0; 6], any, &|_| None).unwrap();
        assert_eq!(labels, [1, 0, 1]);
        assert_eq!(score, 6.0);
    }

    #[test]
    fn viterbi_keeps_to_the_constraints_and_the_fixed_labels() {
        // Token 0 wants label 2 (inside), which may not start a sequence.
        let em = [0.0, 1.0, 5.0, 0.0, 0.0, 5.0];
        let (labels, _) = viterbi(3, &em, &[0.0; 12], bio, &|_| None).unwrap();
        assert_eq!(labels, [1, 2]);
        let (labels, _) = viterbi(3, &em, &[0.0; 12], bio, &|i| (i == 0).then_some(0)).unwrap();
        assert_eq!(labels, [0, 1], "after a forced 0, label 2 is not allowed");
        assert!(
            viterbi(3, &em, &[0.0; 12], bio, &|i| Some(if i == 0 {
                0
            } else {
                2
            }))
            .is_none()
        );
    }

    #[test]
    fn best_scores_agree_with_viterbi_under_a_fixed_stretch() {
        // Pseudo-random emissions and transitions, checked against Viterbi
        // with the stretch fixed, for every stretch of a 7-token sequence.
        let mut seed = 12345u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) % 1000) as f32 / 100.0 - 5.0
        };
        let em: Vec<f32> = (0..7 * 3).map(|_| next()).collect();
        let tr: Vec<f32> = (0..4 * 3).map(|_| next()).collect();
        let best = BestScores::new(3, &em, &tr, bio);
        for a in 0..7 {
            for b in a + 1..=7 {
                for label in 0..3 {
                    let fixed = move |i: usize| (a <= i && i < b).then_some(label);
                    let want =
                        viterbi(3, &em, &tr, bio, &fixed).map_or(f32::NEG_INFINITY, |(_, s)| s);
                    let got = best.with_stretch(&em, &tr, bio, (a, b), label);
                    assert!(
                        (want - got).abs() < 1e-3 || (want.is_infinite() && got.is_infinite()),
                        "{a}..{b} as {label}: {want} vs {got}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_perceptron_learns_a_pattern_it_can_only_see_in_context() {
        // Label a token 1 when the token before it is "x": a feature of the
        // previous word, as the taggers use.
        let sentences = [
            vec!["a", "x", "b", "c"],
            vec!["x", "c", "a", "x", "a"],
            vec!["b", "b", "x", "b"],
        ];
        let encode = |s: &[&str]| -> (Vec<Vec<u64>>, Vec<usize>) {
            let feats = (0..s.len())
                .map(|i| {
                    let prev = if i == 0 { "<s>" } else { s[i - 1] };
                    // One feature: which word came before.
                    vec![prev.bytes().fold(17u64, |h, b| h * 31 + u64::from(b))]
                })
                .collect();
            let gold = (0..s.len())
                .map(|i| usize::from(i > 0 && s[i - 1] == "x"))
                .collect();
            (feats, gold)
        };
        let data: Vec<_> = sentences.iter().map(|s| encode(s)).collect();
        let all: Vec<u64> = data
            .iter()
            .flat_map(|(f, _)| f.iter().flatten().copied())
            .collect();
        let mut t = Trainer::new(2, all);
        for _ in 0..10 {
            for (f, g) in &data {
                t.learn(f, g, any, &|_| None);
            }
        }
        let w = t.average(0.0, 1.0 / 64.0);
        let (f, g) = encode(&["c", "x", "a", "b", "x", "x"]);
        let (got, _) = viterbi(2, &w.emissions(&f), &w.transitions, any, &|_| None).unwrap();
        assert_eq!(got, g);
    }

    #[test]
    fn averaging_prunes_small_rows_and_rounds_to_the_quantum() {
        let mut t = Trainer::new(2, [1u64, 2]);
        // All weights zero: the decoder picks label 1, gold is 0, so one update
        // (+1 and −1, averaged over two steps: ±0.5).
        assert!(t.learn(&[vec![1]], &[0], any, &|_| None));
        let w = t.average(0.0, 0.25);
        assert_eq!(w.row(1).expect("feature 1 was updated"), [0.5, -0.5]);
        assert!(w.row(2).is_none_or(|r| r.iter().all(|&x| x == 0.0)));
        let pruned = t.average(100.0, 0.25);
        assert!(pruned.is_empty());
    }
}
