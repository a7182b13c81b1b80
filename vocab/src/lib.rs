//! Vocabularies for entity normalization: the names of MeSH descriptors and supplementary
//! concept records, NCBI Gene records and NCBI Taxonomy nodes, imported from the files their
//! publishers distribute ([`import`]) into a directory that loads in milliseconds and answers a
//! look-up in about a microsecond ([`Vocabulary`]).
//!
//! A vocabulary directory holds:
//!
//! - `terms.fst`: an [`fst::Map`] from `KEY 0x00 CONCEPT` (the [`key::key`] of a name, then the
//!   concept's number as 4 big-endian bytes) to the name's number in `names.txt` and its tier;
//!   a look-up is a range scan over one key's entries;
//! - `concepts.tsv`: one concept a line, `ID<TAB>KIND<TAB>TAXON<TAB>PREFERRED NAME`;
//! - `names.txt`: every name as written in the source, one a line;
//! - `vocab.json`: what it was built from ([`Meta`]).
//!
//! A mention is looked up by its text's key among the concepts whose [`Kind`] is that of the
//! mention's entity type ([`Kind::of_type`]); see [`Vocabulary::lookup`] for how a key that
//! names several concepts is decided (or left without an id: never a guessed one). A text whose
//! key and variants ([`key::variants`]) name nothing may still take the concept of a name close
//! in its letters through [`fuzzy`], which the normalizer tries last, above a threshold.

pub mod build;
pub mod fuzzy;
pub mod import;
pub mod key;

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

pub use build::Builder;

/// The version of the directory layout (`vocab.json`'s `format`).
pub const FORMAT: u32 = 1;

/// What a concept is, and so which mentions it may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A MeSH disease (tree C, or F03 mental disorders), or a disease SCR.
    Disease,
    /// A MeSH chemical or drug (tree D), or a chemical SCR.
    Chemical,
    /// An NCBI Gene record.
    Gene,
    /// An NCBI Taxonomy node.
    Species,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Disease => "disease",
            Kind::Chemical => "chemical",
            Kind::Gene => "gene",
            Kind::Species => "species",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "disease" => Kind::Disease,
            "chemical" => Kind::Chemical,
            "gene" => Kind::Gene,
            "species" => Kind::Species,
            _ => return None,
        })
    }

    /// The kind of concept a mention of entity type `ty` is normalized to, by the type's name
    /// (case, spaces and punctuation aside): `Disease` (also `DiseaseOrPhenotypicFeature`,
    /// `Disorder`), `Chemical` (`Drug`, `ChemicalEntity`, `SimpleChemical`), `Gene` (`Protein`,
    /// `GeneOrGeneProduct`, `Gene/Protein`), `Species` (`Organism`, `OrganismTaxon`). Other
    /// types are not normalized.
    pub fn of_type(ty: &str) -> Option<Kind> {
        let t: String = ty
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        Some(match t.as_str() {
            "disease" | "diseases" | "disorder" | "diseaseorphenotypicfeature" => Kind::Disease,
            "chemical" | "chemicals" | "drug" | "chemicalentity" | "simplechemical" => {
                Kind::Chemical
            }
            "gene" | "genes" | "protein" | "geneorgeneproduct" | "geneprotein" => Kind::Gene,
            "species" | "organism" | "organismtaxon" => Kind::Species,
            _ => return None,
        })
    }
}

/// How good a name is for its concept: the lower, the more a match through it is trusted when a
/// key names several concepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Tier {
    /// The record's preferred name or official symbol.
    Preferred = 0,
    /// An entry term, synonym or full name of the record.
    Synonym = 1,
    /// The preferred name of a secondary record (a MeSH supplementary concept record).
    SecondaryPreferred = 2,
    /// Another name of a secondary record.
    SecondarySynonym = 3,
}

impl Tier {
    fn from_bits(b: u64) -> Tier {
        match b & 3 {
            0 => Tier::Preferred,
            1 => Tier::Synonym,
            2 => Tier::SecondaryPreferred,
            _ => Tier::SecondarySynonym,
        }
    }
}

/// One source file a vocabulary was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// `mesh-xml`, `gene-info`, `taxonomy-names`, `mesh-labels`.
    pub kind: String,
    /// The file's name (not its path).
    pub file: String,
    /// Concepts taken from it.
    pub concepts: u64,
}

/// `vocab.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub format: u32,
    /// The vocabulary's name, as annotations list it (`ModelRef::name`).
    pub name: String,
    pub sources: Vec<Source>,
    /// NCBI taxa of the gene records, in the order of preference the user gave: when a gene name
    /// names genes of several taxa, the one of the earliest taxon is taken.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taxa: Vec<u32>,
    pub concepts: u64,
    pub names: u64,
    /// Distinct (key, concept) entries of `terms.fst`.
    pub entries: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum VocabError {
    #[error("failed to read {}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to write {}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: {reason}", .path.display())]
    Invalid { path: PathBuf, reason: String },
    #[error("{}: not a vocabulary's term map", .path.display())]
    Fst {
        path: PathBuf,
        #[source]
        source: fst::Error,
    },
    #[error("{file}{}: {reason}", .position.as_ref().map(|p| format!(" at {p}")).unwrap_or_default())]
    Import {
        file: String,
        /// Line number, or byte offset into the (decompressed) XML.
        position: Option<String>,
        reason: String,
    },
}

/// A concept as `concepts.tsv` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Concept {
    /// `MESH:D001241`, `NCBIGene:7157`, `NCBITaxon:9606`.
    pub id: String,
    pub kind: Kind,
    /// The NCBI taxon of a gene.
    pub taxon: Option<u32>,
    /// The preferred name (official symbol for a gene, scientific name for a taxon).
    pub name: String,
}

/// A look-up's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match<'a> {
    pub concept: &'a Concept,
    /// The vocabulary's name that matched, as written there.
    pub matched: &'a str,
}

/// A loaded vocabulary.
pub struct Vocabulary {
    pub meta: Meta,
    /// sha256 of the term map, the concepts and the names: a vocabulary's version, as a model's
    /// content hash is the model's.
    pub hash: String,
    terms: fst::Map<Vec<u8>>,
    concepts: Vec<Concept>,
    names: String,
    /// Byte offset in `names` where each name starts (one more entry: the end).
    name_starts: Vec<u32>,
}

impl std::fmt::Debug for Vocabulary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vocabulary")
            .field("meta", &self.meta)
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

/// The files of a vocabulary directory.
pub const META_FILE: &str = "vocab.json";
pub const TERMS_FILE: &str = "terms.fst";
pub const CONCEPTS_FILE: &str = "concepts.tsv";
pub const NAMES_FILE: &str = "names.txt";

impl Vocabulary {
    /// Loads the vocabulary in `dir`.
    pub fn open(dir: &Path) -> Result<Vocabulary, VocabError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|source| VocabError::Read { path, source })
        };
        Vocabulary::from_parts(
            dir,
            &read(META_FILE)?,
            read(TERMS_FILE)?,
            &read(CONCEPTS_FILE)?,
            read(NAMES_FILE)?,
        )
    }

    /// A vocabulary from the contents of its four files; `dir` names it in errors.
    pub fn from_parts(
        dir: &Path,
        meta: &[u8],
        terms: Vec<u8>,
        concepts: &[u8],
        names: Vec<u8>,
    ) -> Result<Vocabulary, VocabError> {
        let invalid = |file: &str, reason: String| VocabError::Invalid {
            path: dir.join(file),
            reason,
        };
        let meta: Meta = serde_json::from_slice(meta)
            .map_err(|e| invalid(META_FILE, format!("not a vocabulary's {META_FILE}: {e}")))?;
        if meta.format != FORMAT {
            return Err(invalid(
                META_FILE,
                format!(
                    "format {} is not this version's ({FORMAT}): import the vocabulary again",
                    meta.format
                ),
            ));
        }
        let mut hasher = sha2::Sha256::new();
        hasher.update(&terms);
        hasher.update(concepts);
        hasher.update(&names);
        let hash = format!("{:x}", hasher.finalize());
        let terms = fst::Map::new(terms).map_err(|source| VocabError::Fst {
            path: dir.join(TERMS_FILE),
            source,
        })?;
        let concepts_text = std::str::from_utf8(concepts)
            .map_err(|e| invalid(CONCEPTS_FILE, format!("not UTF-8: {e}")))?;
        let mut parsed = Vec::with_capacity((meta.concepts as usize).min(1 << 24));
        for (n, line) in concepts_text.lines().enumerate() {
            let mut cols = line.splitn(4, '\t');
            let (Some(id), Some(kind), Some(taxon), Some(name)) =
                (cols.next(), cols.next(), cols.next(), cols.next())
            else {
                return Err(invalid(
                    CONCEPTS_FILE,
                    format!("line {}: not 4 columns", n + 1),
                ));
            };
            let kind = Kind::parse(kind)
                .ok_or_else(|| invalid(CONCEPTS_FILE, format!("line {}: kind {kind:?}", n + 1)))?;
            let taxon = if taxon.is_empty() {
                None
            } else {
                Some(taxon.parse().map_err(|_| {
                    invalid(CONCEPTS_FILE, format!("line {}: taxon {taxon:?}", n + 1))
                })?)
            };
            parsed.push(Concept {
                id: id.to_owned(),
                kind,
                taxon,
                name: name.to_owned(),
            });
        }
        let names =
            String::from_utf8(names).map_err(|e| invalid(NAMES_FILE, format!("not UTF-8: {e}")))?;
        let mut name_starts = Vec::with_capacity((meta.names as usize).min(1 << 24) + 1);
        name_starts.push(0u32);
        for (i, b) in names.bytes().enumerate() {
            if b == b'\n' {
                name_starts.push(i as u32 + 1);
            }
        }
        if names.len() > u32::MAX as usize {
            return Err(invalid(NAMES_FILE, "larger than 4 GiB".into()));
        }
        let v = Vocabulary {
            meta,
            hash,
            terms,
            concepts: parsed,
            names,
            name_starts,
        };
        // Every entry must point at a concept and a name that exist: checked once here, so a
        // look-up never indexes out of range.
        let mut stream = v.terms.stream();
        use fst::Streamer as _;
        while let Some((k, value)) = stream.next() {
            let ok = k.len() > 5
                && (concept_of(k) as usize) < v.concepts.len()
                && ((value >> 2) as usize) + 1 < v.name_starts.len();
            if !ok {
                return Err(invalid(
                    TERMS_FILE,
                    "an entry points past the concepts or the names".into(),
                ));
            }
        }
        Ok(v)
    }

    pub fn concepts(&self) -> &[Concept] {
        &self.concepts
    }

    /// Every entry of the term map: its key, its concept's number and its name's number.
    pub fn entries(&self) -> Vec<(String, u32, u32)> {
        let mut out = Vec::with_capacity(self.meta.entries.min(1 << 24) as usize);
        let mut stream = self.terms.stream();
        use fst::Streamer as _;
        while let Some((k, value)) = stream.next() {
            let key = String::from_utf8_lossy(&k[..k.len() - 5]).into_owned();
            out.push((key, concept_of(k), (value >> 2) as u32));
        }
        out
    }

    fn name(&self, i: usize) -> &str {
        let (a, b) = (
            self.name_starts[i] as usize,
            self.name_starts[i + 1] as usize,
        );
        self.names[a..b].trim_end_matches('\n')
    }

    /// The concept that `text`, a mention of kind `kind`, names, if exactly one does:
    ///
    /// - the entries under `text`'s key whose concept is of kind `kind` are taken;
    /// - of those, the ones through the best [`Tier`] of name (a preferred name or symbol over
    ///   a synonym, a MeSH descriptor over a supplementary concept record);
    /// - if they name one concept, that is the answer; if they name genes of several taxa, the
    ///   gene of the earliest taxon of [`Meta::taxa`], if it is one gene;
    /// - otherwise none: an ambiguous name gets no id.
    pub fn lookup(&self, text: &str, kind: Kind) -> Option<Match<'_>> {
        self.lookup_key(&key::key(text), kind)
    }

    /// As [`Vocabulary::lookup`], for a key already computed with [`key::key`].
    pub fn lookup_key(&self, key: &str, kind: Kind) -> Option<Match<'_>> {
        if key.is_empty() {
            return None;
        }
        let mut lo = Vec::with_capacity(key.len() + 1);
        lo.extend_from_slice(key.as_bytes());
        lo.push(0);
        let mut hi = lo.clone();
        *hi.last_mut().expect("pushed") = 1;
        let mut stream = fst::IntoStreamer::into_stream(self.terms.range().ge(&lo).lt(&hi));
        // (tier, concept, name) of the fitting entries.
        let mut found: Vec<(Tier, u32, u64)> = Vec::new();
        use fst::Streamer as _;
        while let Some((k, value)) = stream.next() {
            let c = concept_of(k);
            if self.concepts[c as usize].kind == kind {
                found.push((Tier::from_bits(value), c, value >> 2));
            }
        }
        let best = found.iter().map(|f| f.0).min()?;
        found.retain(|f| f.0 == best);
        let pick = if found.len() == 1 {
            found[0]
        } else {
            let rank = |c: u32| {
                let taxon = self.concepts[c as usize].taxon;
                taxon.and_then(|t| self.meta.taxa.iter().position(|&x| x == t))
            };
            let first = found.iter().filter_map(|f| rank(f.1)).min()?;
            let mut of_first = found.iter().filter(|f| rank(f.1) == Some(first));
            let one = *of_first.next()?;
            if of_first.next().is_some() {
                return None;
            }
            one
        };
        Some(Match {
            concept: &self.concepts[pick.1 as usize],
            matched: self.name(pick.2 as usize),
        })
    }
}

/// The concept number at the end of a `terms.fst` key.
fn concept_of(k: &[u8]) -> u32 {
    let n = k.len();
    u32::from_be_bytes([k[n - 4], k[n - 3], k[n - 2], k[n - 1]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_types_name_kinds() {
        assert_eq!(Kind::of_type("Disease"), Some(Kind::Disease));
        assert_eq!(Kind::of_type("DISEASE"), Some(Kind::Disease));
        assert_eq!(Kind::of_type("Gene/Protein"), Some(Kind::Gene));
        assert_eq!(Kind::of_type("GENE"), Some(Kind::Gene));
        assert_eq!(Kind::of_type("chemical_entity"), Some(Kind::Chemical));
        assert_eq!(Kind::of_type("Species"), Some(Kind::Species));
        assert_eq!(Kind::of_type("CellLine"), None);
    }
}
