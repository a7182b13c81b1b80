//! The fallback matcher: a disease or chemical name that matches no entry of a vocabulary, under
//! the matching rules or their variants, is compared with every disease or chemical entry by
//! the character trigrams of the keys (as scispaCy's entity linker compares names), and takes
//! the most similar entry's concept when the similarity reaches a threshold. Genes and species
//! are never matched so: symbols one letter apart are different genes.
//!
//! Similarity is the cosine of the two keys' trigram sets, `|A ∩ B| / sqrt(|A| |B|)`, each key
//! framed by a start and an end mark (`^ab`, `ab$`), so that its first and last letters weigh
//! as the others do. Keys shorter than [`MIN_KEY`] characters are not matched: too few trigrams
//! to tell names apart. A name is never matched to one whose numbers and one- or two-letter
//! words differ ([`markers`]): `vitamin C` is not `Vitamins`, `type 1 diabetes` not `type 2
//! diabetes`, however similar their letters.

use std::collections::HashMap;

use crate::{Kind, Match, Vocabulary};

/// The shortest key (in characters) the matcher compares.
pub const MIN_KEY: usize = 5;

/// The trigram index of a vocabulary's disease and chemical entries.
#[derive(Debug, Default)]
pub struct FuzzyIndex {
    /// Per entry: its concept, its name, and how many distinct trigrams its key has.
    entries: Vec<(u32, u32, u16)>,
    /// Trigram -> the entries whose keys hold it, in order.
    postings: HashMap<u64, Vec<u32>>,
}

/// The distinct trigrams of a key, framed (see the module docs).
fn trigrams(key: &str) -> Vec<u64> {
    let chars: Vec<u64> = std::iter::once('^')
        .chain(key.chars())
        .chain(std::iter::once('$'))
        .map(|c| c as u64)
        .collect();
    let mut out: Vec<u64> = chars
        .windows(3)
        .map(|w| (w[0] << 42) | (w[1] << 21) | w[2])
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The words of `text` that tell close names apart: numbers (`2`, `12`) and words of one or two
/// letters (`C`, `E2`, `IV`), lowercase and sorted.
pub fn markers(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| {
            !w.is_empty() && (w.chars().all(|c| c.is_ascii_digit()) || w.chars().count() <= 2)
        })
        .map(str::to_lowercase)
        .collect();
    out.sort_unstable();
    out
}

impl FuzzyIndex {
    /// Indexes the disease and chemical entries of `v`.
    pub fn build(v: &Vocabulary) -> FuzzyIndex {
        let mut index = FuzzyIndex::default();
        for (key, concept, name) in v.entries() {
            let kind = v.concepts[concept as usize].kind;
            if !matches!(kind, Kind::Disease | Kind::Chemical) || key.chars().count() < MIN_KEY {
                continue;
            }
            let grams = trigrams(&key);
            let n = index.entries.len() as u32;
            index
                .entries
                .push((concept, name, grams.len().min(u16::MAX as usize) as u16));
            for g in grams {
                index.postings.entry(g).or_default().push(n);
            }
        }
        index
    }

    /// Entries indexed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The concept of kind `kind` whose entry is most similar to `text`'s key
    /// ([`crate::key::key`]), with the similarity, when it reaches `threshold`, the entry's
    /// name has `text`'s [`markers`], and no entry of another concept is as similar.
    pub fn best<'a>(
        &self,
        v: &'a Vocabulary,
        text: &str,
        kind: Kind,
        threshold: f64,
    ) -> Option<(Match<'a>, f64)> {
        let key = crate::key::key(text);
        if key.chars().count() < MIN_KEY || !matches!(kind, Kind::Disease | Kind::Chemical) {
            return None;
        }
        let marks = markers(text);
        let grams = trigrams(&key);
        let mut shared: HashMap<u32, u16> = HashMap::new();
        for g in &grams {
            if let Some(list) = self.postings.get(g) {
                for &e in list {
                    *shared.entry(e).or_default() += 1;
                }
            }
        }
        let q = grams.len() as f64;
        let mut best: Option<(f64, u32, u32)> = None;
        let mut tied = false;
        for (e, n) in shared {
            let (concept, name, len) = self.entries[e as usize];
            if v.concepts[concept as usize].kind != kind {
                continue;
            }
            let sim = f64::from(n) / (q * f64::from(len)).sqrt();
            if sim < threshold || markers(v.name(name as usize)) != marks {
                continue;
            }
            match best {
                Some((s, c, _)) if sim < s || (sim == s && c == concept) => {}
                Some((s, c, _)) if sim == s && c != concept => tied = true,
                _ => {
                    best = Some((sim, concept, name));
                    tied = false;
                }
            }
        }
        let (sim, concept, name) = best?;
        if tied || sim < threshold {
            return None;
        }
        Some((
            Match {
                concept: &v.concepts[concept as usize],
                matched: v.name(name as usize),
            },
            sim,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Builder, Tier};

    #[test]
    fn near_names_match_above_the_threshold_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = Builder::new();
        b.concept(
            "MESH:D007674",
            Kind::Disease,
            None,
            "Kidney Diseases",
            Tier::Preferred,
        );
        b.concept(
            "MESH:D051437",
            Kind::Disease,
            None,
            "Renal Insufficiency",
            Tier::Preferred,
        );
        b.concept(
            "MESH:D001241",
            Kind::Chemical,
            None,
            "Aspirin",
            Tier::Preferred,
        );
        b.concept(
            "NCBIGene:7157",
            Kind::Gene,
            Some(9606),
            "TP53",
            Tier::Preferred,
        );
        b.write(dir.path(), "v").unwrap();
        let v = Vocabulary::open(dir.path()).unwrap();
        let index = FuzzyIndex::build(&v);
        // The gene is not indexed.
        assert_eq!(index.len(), 3);
        let (m, sim) = index
            .best(&v, "kidney disease", Kind::Disease, 0.5)
            .unwrap();
        // The same key: the singular folds.
        assert_eq!((m.concept.id.as_str(), sim), ("MESH:D007674", 1.0));
        let (m, sim) = index
            .best(&v, "renal insufficiencies and", Kind::Disease, 0.5)
            .unwrap();
        assert_eq!(m.concept.id, "MESH:D051437");
        assert_eq!(m.matched, "Renal Insufficiency");
        assert!(sim > 0.6 && sim < 1.0, "{sim}");
        // Below the threshold, of another kind, or too short: nothing.
        assert!(
            index
                .best(&v, "renal insufficiencies and", Kind::Disease, 0.99)
                .is_none()
        );
        assert!(
            index
                .best(&v, "kidney disease", Kind::Chemical, 0.5)
                .is_none()
        );
        assert!(index.best(&v, "TP53", Kind::Gene, 0.1).is_none());
        assert_eq!(markers("Vitamin C, type II-2"), ["2", "c", "ii"]);
        assert!(index.best(&v, "asp", Kind::Chemical, 0.1).is_none());
        // Close letters, another number or letter: nothing.
        assert!(index.best(&v, "Aspirin C", Kind::Chemical, 0.5).is_none());
        assert_eq!(
            index
                .best(&v, "Aspirins", Kind::Chemical, 0.5)
                .unwrap()
                .0
                .concept
                .id,
            "MESH:D001241"
        );
    }
}
