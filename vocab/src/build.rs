//! Writing a vocabulary directory: concepts and their names go in, in any order; the term map
//! comes out sorted, as an fst needs.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::Path;

use crate::{
    CONCEPTS_FILE, Concept, FORMAT, Kind, META_FILE, Meta, NAMES_FILE, Source, TERMS_FILE, Tier,
    VocabError, key,
};

/// What [`Builder::write`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub concepts: u64,
    pub names: u64,
    pub entries: u64,
    /// Bytes of the four files together.
    pub bytes: u64,
}

/// Collects concepts and names, then writes a vocabulary directory.
#[derive(Debug, Default)]
pub struct Builder {
    concepts: Vec<Concept>,
    names: Vec<String>,
    /// (key bytes, 0, concept number as 4 big-endian bytes) and (name number << 2 | tier).
    entries: Vec<(Vec<u8>, u64)>,
    sources: Vec<Source>,
    taxa: Vec<u32>,
    /// Concept id -> its number (the first concept of an id).
    ids: std::collections::HashMap<String, u32>,
}

impl Builder {
    pub fn new() -> Builder {
        Builder::default()
    }

    /// The taxa of gene records, in order of preference (see [`Meta::taxa`]).
    pub fn set_taxa(&mut self, taxa: &[u32]) {
        self.taxa = taxa.to_vec();
    }

    /// Notes that `concepts` concepts came from `file`, a file of kind `kind`.
    pub fn source(&mut self, kind: &str, file: &Path, concepts: u64) {
        self.sources.push(Source {
            kind: kind.to_owned(),
            file: file
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            concepts,
        });
    }

    /// Adds a concept and its preferred name (at `tier`, [`Tier::Preferred`] for a primary
    /// record); returns its number, for [`Builder::name`].
    pub fn concept(
        &mut self,
        id: &str,
        kind: Kind,
        taxon: Option<u32>,
        preferred: &str,
        tier: Tier,
    ) -> u32 {
        let n = self.concepts.len() as u32;
        self.ids.entry(one_line(id)).or_insert(n);
        self.concepts.push(Concept {
            id: one_line(id),
            kind,
            taxon,
            name: one_line(preferred),
        });
        self.name(n, preferred, tier);
        n
    }

    /// Adds a name of concept `concept`; a name without a letter or digit is left out.
    pub fn name(&mut self, concept: u32, name: &str, tier: Tier) {
        let k = key::key(name);
        if k.is_empty() {
            return;
        }
        let n = self.names.len() as u64;
        self.names.push(one_line(name));
        let mut bytes = k.into_bytes();
        bytes.push(0);
        bytes.extend_from_slice(&concept.to_be_bytes());
        self.entries.push((bytes, n << 2 | tier as u64));
    }

    /// The number of the concept with id `id`, if one was added.
    pub fn find(&self, id: &str) -> Option<u32> {
        self.ids.get(id).copied()
    }

    /// The kind of concept number `concept`.
    pub fn kind(&self, concept: u32) -> Option<Kind> {
        self.concepts.get(concept as usize).map(|c| c.kind)
    }

    /// The id of concept number `concept`.
    pub fn id(&self, concept: u32) -> Option<&str> {
        self.concepts.get(concept as usize).map(|c| c.id.as_str())
    }

    /// The concepts that have a name under each of `keys` (made by [`key::key`]), in one pass
    /// over the names.
    pub fn named(&self, keys: &HashSet<String>) -> HashMap<String, Vec<u32>> {
        let mut out: HashMap<String, Vec<u32>> = HashMap::new();
        for (k, _) in &self.entries {
            let (key, concept) = split_entry(k);
            if let Some(key) = keys.get(key) {
                let found = out.entry(key.clone()).or_default();
                if !found.contains(&concept) {
                    found.push(concept);
                }
            }
        }
        out
    }

    /// Makes each of `keep[key]` (one concept of a kind at most) the concept that `key` names
    /// among those of its kind: the names under `key` of every other concept of that kind drop
    /// to the last tier ([`Tier::SecondarySynonym`]), so a look-up chooses the kept concept's
    /// (whatever their tier) unless those are of the last tier too. One pass over the names.
    pub fn prefer(&mut self, keep: &HashMap<String, Vec<u32>>) {
        let kinds: Vec<Kind> = self.concepts.iter().map(|c| c.kind).collect();
        for (k, v) in &mut self.entries {
            let (key, c) = split_entry(k);
            let kept = keep.get(key).and_then(|kept| {
                kept.iter()
                    .find(|&&kept| kinds[kept as usize] == kinds[c as usize])
            });
            if kept.is_some_and(|&kept| kept != c) {
                *v = (*v & !3) | Tier::SecondarySynonym as u64;
            }
        }
    }

    pub fn concepts(&self) -> u64 {
        self.concepts.len() as u64
    }

    /// Writes the directory `dir` (created if needed; its vocabulary files replaced).
    pub fn write(mut self, dir: &Path, name: &str) -> Result<Summary, VocabError> {
        let werr = |file: &str| {
            let path = dir.join(file);
            move |source| VocabError::Write { path, source }
        };
        std::fs::create_dir_all(dir).map_err(werr(""))?;
        // One entry per (key, concept): its best tier, then its first name.
        self.entries.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| (a.1 & 3).cmp(&(b.1 & 3)))
                .then_with(|| a.1.cmp(&b.1))
        });
        self.entries.dedup_by(|later, first| later.0 == first.0);
        let file = std::fs::File::create(dir.join(TERMS_FILE)).map_err(werr(TERMS_FILE))?;
        let mut map = fst::MapBuilder::new(std::io::BufWriter::new(file)).map_err(|source| {
            VocabError::Fst {
                path: dir.join(TERMS_FILE),
                source,
            }
        })?;
        for (k, v) in &self.entries {
            map.insert(k, *v).map_err(|source| VocabError::Fst {
                path: dir.join(TERMS_FILE),
                source,
            })?;
        }
        map.finish().map_err(|source| VocabError::Fst {
            path: dir.join(TERMS_FILE),
            source,
        })?;
        let mut concepts = String::new();
        for c in &self.concepts {
            let taxon = c.taxon.map(|t| t.to_string()).unwrap_or_default();
            concepts.push_str(&format!(
                "{}\t{}\t{taxon}\t{}\n",
                c.id,
                c.kind.as_str(),
                c.name
            ));
        }
        std::fs::write(dir.join(CONCEPTS_FILE), concepts).map_err(werr(CONCEPTS_FILE))?;
        let mut names = std::io::BufWriter::new(
            std::fs::File::create(dir.join(NAMES_FILE)).map_err(werr(NAMES_FILE))?,
        );
        for n in &self.names {
            writeln!(names, "{n}").map_err(werr(NAMES_FILE))?;
        }
        names.flush().map_err(werr(NAMES_FILE))?;
        drop(names);
        let meta = Meta {
            format: FORMAT,
            name: name.to_owned(),
            sources: self.sources,
            taxa: self.taxa,
            concepts: self.concepts.len() as u64,
            names: self.names.len() as u64,
            entries: self.entries.len() as u64,
        };
        let json = serde_json::to_vec_pretty(&meta).expect("meta serializes");
        std::fs::write(dir.join(META_FILE), json).map_err(werr(META_FILE))?;
        let mut bytes = 0;
        for f in [META_FILE, TERMS_FILE, CONCEPTS_FILE, NAMES_FILE] {
            bytes += std::fs::metadata(dir.join(f))
                .map_err(|source| VocabError::Read {
                    path: dir.join(f),
                    source,
                })?
                .len();
        }
        Ok(Summary {
            concepts: meta.concepts,
            names: meta.names,
            entries: meta.entries,
            bytes,
        })
    }
}

/// An entry's key bytes (`key`, 0, concept) as its key and its concept.
fn split_entry(entry: &[u8]) -> (&str, u32) {
    let n = entry.len() - 5;
    let concept = u32::from_be_bytes([entry[n + 1], entry[n + 2], entry[n + 3], entry[n + 4]]);
    // The key is the UTF-8 of a `key::key`: `name` made it.
    (std::str::from_utf8(&entry[..n]).unwrap_or(""), concept)
}

/// `s` with tabs and line breaks as spaces, so that it fits one line of one column.
fn one_line(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Vocabulary;

    fn small() -> (tempfile::TempDir, Vocabulary) {
        let dir = tempfile::tempdir().unwrap();
        let mut b = Builder::new();
        b.set_taxa(&[9606, 10090]);
        let aspirin = b.concept(
            "MESH:D001241",
            Kind::Chemical,
            None,
            "Aspirin",
            Tier::Preferred,
        );
        b.name(aspirin, "Acetylsalicylic Acid", Tier::Synonym);
        let t2d = b.concept(
            "MESH:D003924",
            Kind::Disease,
            None,
            "Diabetes Mellitus, Type 2",
            Tier::Preferred,
        );
        b.name(t2d, "Type 2 Diabetes Mellitus", Tier::Preferred);
        // A synonym of a disease that is also a chemical's preferred name: the types decide.
        b.name(t2d, "Aspirin", Tier::Synonym);
        let human = b.concept(
            "NCBIGene:7157",
            Kind::Gene,
            Some(9606),
            "TP53",
            Tier::Preferred,
        );
        b.name(human, "p53", Tier::Synonym);
        let mouse = b.concept(
            "NCBIGene:22059",
            Kind::Gene,
            Some(10090),
            "Trp53",
            Tier::Preferred,
        );
        b.name(mouse, "p53", Tier::Synonym);
        // Two human genes sharing a synonym: ambiguous.
        let a = b.concept(
            "NCBIGene:1",
            Kind::Gene,
            Some(9606),
            "GENEA",
            Tier::Preferred,
        );
        b.name(a, "shared", Tier::Synonym);
        let c = b.concept(
            "NCBIGene:2",
            Kind::Gene,
            Some(9606),
            "GENEC",
            Tier::Preferred,
        );
        b.name(c, "shared", Tier::Synonym);
        // A gene whose symbol is another's synonym: the symbol wins.
        b.concept(
            "NCBIGene:3",
            Kind::Gene,
            Some(9606),
            "SHARED2",
            Tier::Preferred,
        );
        b.name(c, "shared2", Tier::Synonym);
        b.concept(
            "MESH:C000001",
            Kind::Chemical,
            None,
            "Aspirin",
            Tier::SecondaryPreferred,
        );
        let s = b.write(dir.path(), "test").unwrap();
        assert_eq!(s.concepts, 8);
        let v = Vocabulary::open(dir.path()).unwrap();
        (dir, v)
    }

    #[test]
    fn names_match_by_key_within_the_kinds_that_fit() {
        let (_dir, v) = small();
        let m = v.lookup("aspirin", Kind::Chemical).unwrap();
        assert_eq!(m.concept.id, "MESH:D001241");
        assert_eq!(m.matched, "Aspirin");
        let m = v.lookup("acetyl-salicylic acid", Kind::Chemical).unwrap();
        assert_eq!(m.concept.id, "MESH:D001241");
        assert_eq!(m.matched, "Acetylsalicylic Acid");
        assert_eq!(m.concept.name, "Aspirin");
        // The disease's synonym, for a disease mention.
        let m = v.lookup("Aspirin", Kind::Disease).unwrap();
        assert_eq!(m.concept.id, "MESH:D003924");
        let m = v.lookup("type 2 diabetes mellitus", Kind::Disease).unwrap();
        assert_eq!(m.concept.id, "MESH:D003924");
        assert!(
            v.lookup("type 2 diabetes mellitus", Kind::Chemical)
                .is_none()
        );
        assert!(v.lookup("aspirin", Kind::Gene).is_none());
        assert!(v.lookup("ibuprofen", Kind::Chemical).is_none());
    }

    #[test]
    fn ambiguity_is_decided_by_tier_then_taxon_or_left_without_an_id() {
        let (_dir, v) = small();
        // Human first among the taxa.
        assert_eq!(
            v.lookup("p53", Kind::Gene).unwrap().concept.id,
            "NCBIGene:7157"
        );
        assert!(v.lookup("shared", Kind::Gene).is_none());
        assert_eq!(
            v.lookup("shared2", Kind::Gene).unwrap().concept.id,
            "NCBIGene:3"
        );
    }

    #[test]
    fn a_broken_directory_is_refused_with_its_path() {
        let (dir, _v) = small();
        std::fs::write(dir.path().join(TERMS_FILE), b"not an fst").unwrap();
        let e = Vocabulary::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains("terms.fst"), "{e}");
        std::fs::write(dir.path().join(META_FILE), b"{}").unwrap();
        let e = Vocabulary::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains("vocab.json"), "{e}");
    }
}
