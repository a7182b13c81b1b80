//! PubTator-format corpora whose mentions carry concept ids (the NCBI disease corpus, BC5CDR): the
//! documents, their gold mentions and their document-level relations, as
//! [`super::norm`] and [`super::pubtator`] score them.
//!
//! Gold ids are read as the corpora write them: a bare MeSH id (`D001241`, `C535319`) is
//! `MESH:D001241`, a prefixed one (`MESH:D001241`, `OMIM:114480`) stays as it is, a composite
//! mention lists several (`D001|D002` or `D001+D002`: the id given must be one of them), and
//! `-1` or `-` is no id. The NCBI disease corpus' types (`SpecificDisease`, `DiseaseClass`,
//! `Modifier`, `CompositeMention`) are read as `Disease`.

use pubmine_stream::record::{Document, Mention, Passage, PassageKind, SourceKind};

/// A gold mention of a PubTator document, in document offsets (characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldMention {
    pub start: usize,
    pub end: usize,
    pub text: String,
    /// The type, NCBI disease corpus types read as `Disease`.
    pub ty: String,
    /// The concept ids, prefixed; empty when the corpus gives none.
    pub ids: Vec<String>,
}

/// A PubTator document: its title and abstract, and its gold mentions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldDocument {
    pub id: String,
    pub title: String,
    pub abstract_: String,
    pub mentions: Vec<GoldMention>,
    /// The document's relations: `ID<TAB>TYPE<TAB>ID1<TAB>ID2` lines (`CID`, chemical id,
    /// disease id), ids read as mentions' ids are.
    pub relations: Vec<GoldRelation>,
}

/// A relation the curators assert for a document as a whole, between two concepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldRelation {
    pub ty: String,
    pub first: String,
    pub second: String,
}

impl GoldDocument {
    /// The document as pubmine reads one: a title passage and an abstract passage.
    pub fn document(&self) -> Document {
        let mut d = Document::new(SourceKind::Pubmed, format!("pmid:{}", self.id));
        d.title = self.title.clone();
        d.passages = vec![
            Passage::new(PassageKind::Title, self.title.clone()),
            Passage::new(PassageKind::Abstract, self.abstract_.clone()),
        ];
        d
    }

    /// Document offsets of a passage's character offset (the abstract follows the title and
    /// one space).
    pub fn document_offset(&self, passage: u32, offset: u32) -> usize {
        if passage == 0 {
            offset as usize
        } else {
            self.title.chars().count() + 1 + offset as usize
        }
    }

    /// The gold mentions as pubmine's mentions (passage offsets), in passage and offset order;
    /// a mention across the title's end is left out.
    pub fn as_mentions(&self) -> Vec<Mention> {
        let t = self.title.chars().count();
        let mut out: Vec<Mention> = self
            .mentions
            .iter()
            .filter_map(|g| {
                let (passage, start, end) = if g.end <= t {
                    (0, g.start, g.end)
                } else if g.start > t {
                    (1, g.start - t - 1, g.end - t - 1)
                } else {
                    return None;
                };
                Some(Mention {
                    passage,
                    start: start as u32,
                    end: end as u32,
                    text: g.text.clone(),
                    ty: g.ty.clone(),
                    score: 1.0,
                    model: "gold".into(),
                    concept: None,
                })
            })
            .collect();
        out.sort_by_key(|m| (m.passage, m.start, m.end));
        out
    }
}

#[derive(Debug, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct PubtatorError {
    pub line: usize,
    pub reason: String,
}

fn gold_type(ty: &str) -> String {
    match ty {
        "SpecificDisease" | "DiseaseClass" | "Modifier" | "CompositeMention" => "Disease".into(),
        other => other.into(),
    }
}

/// The ids of a PubTator id field, prefixed: composite ids split, `-1` and `-` left out.
pub fn gold_ids(field: &str) -> Vec<String> {
    field
        .split(['|', '+', ','])
        .map(str::trim)
        .filter(|id| !id.is_empty() && *id != "-1" && *id != "-")
        .map(pubmine_vocab::import::prefixed_id)
        .collect()
}

/// Reads a PubTator file: `ID|t|title`, `ID|a|abstract`, then `ID<TAB>start<TAB>end<TAB>text
/// <TAB>type<TAB>ids` lines and `ID<TAB>TYPE<TAB>ID1<TAB>ID2` relation lines, a blank line between
/// documents. Each mention's text must be the document's text at its offsets.
pub fn read_pubtator(text: &str) -> Result<Vec<GoldDocument>, PubtatorError> {
    let mut docs: Vec<GoldDocument> = Vec::new();
    let mut cur: Option<GoldDocument> = None;
    let err = |line: usize, reason: String| PubtatorError { line, reason };
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            docs.extend(cur.take());
            continue;
        }
        if let Some((id, rest)) = line.split_once("|t|") {
            docs.extend(cur.take());
            cur = Some(GoldDocument {
                id: id.to_owned(),
                title: rest.to_owned(),
                abstract_: String::new(),
                mentions: Vec::new(),
                relations: Vec::new(),
            });
            continue;
        }
        if let Some((id, rest)) = line.split_once("|a|") {
            match cur.as_mut() {
                Some(d) if d.id == id => d.abstract_ = rest.to_owned(),
                _ => return Err(err(n, format!("abstract of {id} without its title line"))),
            }
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let Some(d) = cur.as_mut() else {
            return Err(err(n, "an annotation before any title line".into()));
        };
        if cols.len() == 4 {
            if cols[0] != d.id {
                return Err(err(
                    n,
                    format!("a relation of {} among those of {}", cols[0], d.id),
                ));
            }
            let (first, second) = (gold_ids(cols[2]), gold_ids(cols[3]));
            if let ([first], [second]) = (first.as_slice(), second.as_slice()) {
                d.relations.push(GoldRelation {
                    ty: cols[1].to_owned(),
                    first: first.clone(),
                    second: second.clone(),
                });
            }
            continue;
        }
        if cols.len() < 5 || cols[0] != d.id {
            return Err(err(
                n,
                format!(
                    "expected ID<TAB>start<TAB>end<TAB>text<TAB>type<TAB>id of document {}",
                    d.id
                ),
            ));
        }
        let pos = |s: &str| {
            s.parse::<usize>()
                .map_err(|_| err(n, format!("offset {s:?} is not a number")))
        };
        let (start, end) = (pos(cols[1])?, pos(cols[2])?);
        let full: String = format!("{} {}", d.title, d.abstract_);
        let at: String = full
            .chars()
            .skip(start)
            .take(end.saturating_sub(start))
            .collect();
        if end <= start || at != cols[3] {
            return Err(err(
                n,
                format!("the text at {start}..{end} is {at:?}, not {:?}", cols[3]),
            ));
        }
        d.mentions.push(GoldMention {
            start,
            end,
            text: cols[3].to_owned(),
            ty: gold_type(cols[4]),
            ids: cols.get(5).map(|f| gold_ids(f)).unwrap_or_default(),
        });
    }
    docs.extend(cur);
    Ok(docs)
}
