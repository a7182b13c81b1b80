//! Helpers of the index tests: annotated papers made from sentences, with mentions found by
//! their text, and sink batches.
#![allow(dead_code)]

use pubmine_stream::record::{
    Annotations, Document, Journal, Mention, ModelRef, Passage, PassageKind, PubDate,
    SCHEMA_VERSION, SourceKind,
};
use pubmine_stream::sink::{SinkBatch, SinkItem};
use pubmine_stream::transport::Offsets;

/// A paper `pmid:<pmid>` of `year` whose abstract is `text`, annotated by `model` with each
/// `(surface, type)` at its first occurrence in the text (character offsets).
pub fn paper(pmid: u32, year: i32, text: &str, model: &str, ents: &[(&str, &str)]) -> Annotations {
    let id = format!("pmid:{pmid}");
    let mut doc = Document::new(SourceKind::Pubmed, id.clone());
    doc.pmid = Some(pmid.to_string());
    doc.title = format!("Paper {pmid}");
    doc.journal = Some(Journal {
        title: Some("Journal of Tests".into()),
        ..Default::default()
    });
    doc.pub_date = Some(PubDate {
        year: Some(year),
        ..Default::default()
    });
    doc.passages = vec![
        Passage::new(PassageKind::Title, doc.title.clone()),
        Passage::new(PassageKind::Abstract, text.to_owned()),
    ];
    let mentions = ents
        .iter()
        .map(|(surface, ty)| mention(text, surface, ty, model))
        .collect();
    Annotations {
        schema_version: SCHEMA_VERSION,
        id,
        models: vec![model_ref(model)],
        mentions,
        abbreviations: Vec::new(),
        relations: Vec::new(),
        document: Some(Box::new(doc)),
    }
}

pub fn model_ref(name: &str) -> ModelRef {
    ModelRef {
        name: name.into(),
        hash: format!("sha256-of-{name}"),
        task: "ner".into(),
        ..Default::default()
    }
}

/// A mention of `surface` at its first occurrence in passage 1 (`text`).
pub fn mention(text: &str, surface: &str, ty: &str, model: &str) -> Mention {
    let byte = text
        .find(surface)
        .unwrap_or_else(|| panic!("{surface:?} not in {text:?}"));
    let start = text[..byte].chars().count() as u32;
    Mention {
        passage: 1,
        start,
        end: start + surface.chars().count() as u32,
        text: surface.into(),
        ty: ty.into(),
        score: 0.9,
        model: model.into(),
        concept: None,
    }
}

/// Items at consecutive offsets of partition `partition` of `topic`, from `first`.
pub fn batch(topic: &str, partition: i32, first: i64, records: Vec<Record>) -> SinkBatch {
    let n = records.len() as i64;
    let items = records
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let (key, annotations) = match r {
                Record::Upsert(a) => (a.id.clone(), Some(Box::new(a))),
                Record::Delete(id) => (id, None),
            };
            SinkItem {
                topic: topic.into(),
                partition,
                offset: first + i as i64,
                key,
                annotations,
                origin: None,
            }
        })
        .collect();
    let mut next = Offsets::new();
    next.insert((topic.into(), partition), first + n);
    SinkBatch { items, next }
}

pub enum Record {
    Upsert(Annotations),
    Delete(String),
}

pub fn up(a: Annotations) -> Record {
    Record::Upsert(a)
}

pub fn del(id: &str) -> Record {
    Record::Delete(id.into())
}

/// Three papers: aspirin with colorectal cancer (2015), aspirin with headache (2019), metformin
/// with type 2 diabetes and colorectal cancer (2021).
pub fn corpus() -> Vec<Annotations> {
    vec![
        paper(
            1,
            2015,
            "Aspirin use was associated with a lower risk of colorectal cancer in a large cohort.",
            "ner-a",
            &[("Aspirin", "Chemical"), ("colorectal cancer", "Disease")],
        ),
        paper(
            2,
            2019,
            "Low-dose aspirin relieved headache; aspirin was well tolerated, as was paracetamol.",
            "ner-a",
            &[
                ("aspirin", "Chemical"),
                ("headache", "Disease"),
                ("paracetamol", "Chemical"),
            ],
        ),
        paper(
            3,
            2021,
            "Metformin lowers the risk of colorectal cancer in patients with type 2 diabetes.",
            "ner-a",
            &[
                ("Metformin", "Chemical"),
                ("colorectal cancer", "Disease"),
                ("type 2 diabetes", "Disease"),
            ],
        ),
    ]
}
