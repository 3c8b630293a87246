//! Which claims read like another: the similarity measure, and the MinHash
//! band keys that find candidates at a cost that does not grow with the
//! ledger.
//!
//! **Similarity** is the Jaccard index of the two texts' character-trigram
//! sets, the measure of PostgreSQL's `pg_trgm`: each word (a run of letters,
//! digits and marks, in any script) is padded with two spaces in front and
//! one behind, and cut into trigrams of characters. It is computed on the
//! text's match key ([`match_key`]: case-folded with Unicode rules,
//! compatibility forms unified, typographic quotes made plain), here, so it
//! does not depend on the database server's locale (in the C locale
//! `pg_trgm` drops every letter outside ASCII).
//!
//! **Candidates** come from MinHash locality-sensitive hashing: 60 min-hashes
//! of the trigram set, in 20 bands of 3. Two texts of similarity `s` share at
//! least one band with probability `1 − (1 − s³)²⁰`: 0.93 at 0.5, 0.99 at
//! 0.65, 0.05 at 0.14. Each band is one b-tree key, so finding candidates
//! reads a bounded number of index entries per band whatever the size of the
//! ledger; the candidates are then ranked by their exact similarity.
//!
//! The hashes are FNV-1a (a fixed, documented function) and a fixed mixer:
//! stored band keys stay valid across builds. Changing anything here changes
//! the keys: bump the key version (`storage/text_keys.rs`) so that they are
//! made again.

use std::hash::Hasher;

use fnv::FnvHasher;

use crate::domain::text::{is_mark, match_key};

/// Min-hashes per band.
pub const ROWS_PER_BAND: usize = 3;
/// Bands per text (each one stored key).
pub const BANDS: usize = 20;

/// A text's trigram set, as sorted distinct 64-bit hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigrams(Vec<u64>);

impl Trigrams {
    /// The trigrams of a claim text (its match key is made here).
    pub fn of_text(text: &str) -> Self {
        Self::of_key(&match_key(text))
    }

    /// The trigrams of a text that is already a match key.
    pub fn of_key(key: &str) -> Self {
        let mut hashes = Vec::new();
        let mut word: Vec<char> = Vec::new();
        let mut flush = |word: &mut Vec<char>| {
            if word.is_empty() {
                return;
            }
            let padded: Vec<char> = [' ', ' ']
                .into_iter()
                .chain(word.drain(..))
                .chain([' '])
                .collect();
            for w in padded.windows(3) {
                let mut h = FnvHasher::default();
                let mut buf = [0u8; 4];
                for c in w {
                    h.write(c.encode_utf8(&mut buf).as_bytes());
                }
                hashes.push(h.finish());
            }
        };
        for c in key.chars() {
            if c.is_alphanumeric() || is_mark(c) {
                word.push(c);
            } else {
                flush(&mut word);
            }
        }
        flush(&mut word);
        hashes.sort_unstable();
        hashes.dedup();
        Trigrams(hashes)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Shared trigrams over all trigrams of the two (0 when both are empty).
    pub fn similarity(&self, other: &Trigrams) -> f64 {
        let (a, b) = (&self.0, &other.0);
        let (mut i, mut j, mut shared) = (0, 0, 0usize);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    shared += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        let union = a.len() + b.len() - shared;
        if union == 0 {
            0.0
        } else {
            shared as f64 / union as f64
        }
    }

    /// The text's band keys: none for a text without a word.
    pub fn band_keys(&self) -> Vec<i64> {
        if self.0.is_empty() {
            return Vec::new();
        }
        let mut mins = [u64::MAX; BANDS * ROWS_PER_BAND];
        for &t in &self.0 {
            for (i, min) in mins.iter_mut().enumerate() {
                let h = mix(t ^ SEEDS[i]);
                if h < *min {
                    *min = h;
                }
            }
        }
        let mut keys: Vec<i64> = mins
            .chunks(ROWS_PER_BAND)
            .enumerate()
            .map(|(band, rows)| {
                let mut h = FnvHasher::default();
                // Little-endian bytes: the same keys on every machine.
                h.write(&(band as u64).to_le_bytes());
                for r in rows {
                    h.write(&r.to_le_bytes());
                }
                h.finish() as i64
            })
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

/// The band keys of a claim text.
pub fn band_keys(text: &str) -> Vec<i64> {
    Trigrams::of_text(text).band_keys()
}

/// One independent hash function per min-hash: the trigram's hash xored
/// with its seed, then mixed (the SplitMix64 finalizer, a bijection whose
/// output bits each depend on every input bit).
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Seeds of the 60 hash functions: successive SplitMix64 outputs of 0.
const SEEDS: [u64; BANDS * ROWS_PER_BAND] = {
    let mut seeds = [0u64; BANDS * ROWS_PER_BAND];
    let mut state: u64 = 0;
    let mut i = 0;
    while i < seeds.len() {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        seeds[i] = z ^ (z >> 31);
        i += 1;
    }
    seeds
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_is_the_jaccard_index_of_trigrams_like_pg_trgm() {
        // pg_trgm: similarity('word', 'words') = 0.571429, 4 shared of 7.
        let a = Trigrams::of_text("word");
        let b = Trigrams::of_text("words");
        assert!((a.similarity(&b) - 4.0 / 7.0).abs() < 1e-9);
        assert_eq!(a.similarity(&a), 1.0);
        assert_eq!(a.similarity(&Trigrams::of_text("zzz")), 0.0);
    }

    #[test]
    fn case_quotes_and_spacing_do_not_matter_in_any_script() {
        for (a, b) in [
            ("The bridge will REOPEN", "the  bridge will reopen"),
            ("ÉCOLE FERMÉE", "école fermée"),
            ("“No comment”", "\"No comment\""),
            ("ΟΔΥΣΣΕΥΣ", "οδυσσευς"),
            ("Jose\u{301}", "José"),
        ] {
            assert_eq!(Trigrams::of_text(a), Trigrams::of_text(b), "{a} / {b}");
            assert_eq!(band_keys(a), band_keys(b));
        }
    }

    #[test]
    fn texts_without_spaces_have_trigrams_too() {
        let a = Trigrams::of_text("政府は十七人の市民を特定した");
        let b = Trigrams::of_text("政府は十八人の市民を特定した");
        let s = a.similarity(&b);
        assert!(s > 0.5 && s < 1.0, "{s}");
        let arabic = Trigrams::of_text("قال رئيس الوزراء إن الجسر سيفتح الأسبوع المقبل");
        assert!(!arabic.is_empty());
    }

    #[test]
    fn a_text_without_words_has_no_band() {
        assert!(band_keys("…!? —").is_empty());
        assert_eq!(band_keys("The bridge").len(), BANDS);
    }

    #[test]
    fn band_keys_are_stable_across_builds() {
        // Stored in the database: a change here must bump the key version.
        assert_eq!(
            band_keys("the bridge will reopen")[0],
            -8_364_027_130_267_761_672
        );
    }

    #[test]
    fn near_twins_share_bands_and_unrelated_texts_rarely_do() {
        let base = "The government has officially identified 17 citizens among the dead";
        let twin = "The government has officially identified 18 citizens among the dead";
        let shared = |a: &str, b: &str| {
            let (a, b) = (band_keys(a), band_keys(b));
            a.iter().filter(|k| b.contains(k)).count()
        };
        assert!(shared(base, twin) >= 3, "{}", shared(base, twin));
        let unrelated = [
            "Sources close to the matter said Friday that talks had stalled",
            "The Prime Minister told reporters the bridge would reopen next week",
            "Inflation fell to 2.1 percent in October, the statistics office said",
        ];
        for u in unrelated {
            assert_eq!(shared(base, u), 0, "{u}");
        }
    }

    #[test]
    fn the_chance_of_becoming_a_candidate_follows_the_band_formula() {
        // Pairs at a known similarity: a base of 40 distinct words, and a copy
        // with some words replaced. Over many pairs, the share that meet in a
        // band is near 1 - (1 - s^3)^20.
        let words: Vec<String> = (0..4000).map(|i| format!("w{i}x")).collect();
        let (mut met, mut total, mut sim_sum) = (0, 0, 0.0);
        for n in 0..200 {
            let base: Vec<&str> = (0..40)
                .map(|k| words[(n * 20 + k) % 4000].as_str())
                .collect();
            let mut other = base.clone();
            for k in 0..14 {
                other[k * 2] = words[(n * 20 + 2000 + k) % 4000].as_str();
            }
            let (a, b) = (
                Trigrams::of_text(&base.join(" ")),
                Trigrams::of_text(&other.join(" ")),
            );
            sim_sum += a.similarity(&b);
            let (ka, kb) = (a.band_keys(), b.band_keys());
            met += usize::from(ka.iter().any(|k| kb.contains(k)));
            total += 1;
        }
        let s = sim_sum / total as f64;
        let expected = 1.0 - (1.0 - s.powi(3)).powi(BANDS as i32);
        let observed = met as f64 / total as f64;
        assert!(
            (observed - expected).abs() < 0.12,
            "s {s:.2}: {observed:.2} vs {expected:.2}"
        );
    }
}
