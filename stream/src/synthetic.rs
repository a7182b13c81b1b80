//! Generated annotations shaped like real ones, for benchmarks of the sinks: abstracts of about
//! 1,500 characters with 10 to 30 mentions each, entity names drawn from a few thousand per
//! type (chemicals, diseases, genes), publication years 1990-2025. Deterministic for a seed.

use crate::record::{
    Annotations, Document, Mention, ModelRef, Passage, PassageKind, PubDate, SCHEMA_VERSION,
    SourceKind,
};
use crate::sink::{SinkBatch, SinkItem};
use crate::transport::Offsets;

/// `count` annotated papers, `pmid:10000000` onwards.
pub fn papers(count: usize, seed: u64) -> Vec<Annotations> {
    let mut rng = Rng(seed.max(1));
    let vocab = vocabulary(&mut rng);
    (0..count).map(|n| paper(&mut rng, &vocab, n)).collect()
}

/// A small deterministic generator (xorshift64) for generated test and benchmark data, so that a
/// run can be repeated exactly. Not for anything that needs good randomness. The seed must not be 0.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A number in 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// A number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const SYLLABLES: &[&str] = &[
    "am", "ox", "ci", "lin", "met", "for", "min", "tra", "zo", "lol", "pre", "ni", "so", "lo",
    "ne", "cap", "to", "pril", "dex", "ame", "tha", "sone", "vir", "mab", "tin", "ib", "ra",
];
const FILLER: &[&str] = &[
    "the",
    "patients",
    "with",
    "was",
    "associated",
    "increased",
    "risk",
    "of",
    "in",
    "a",
    "cohort",
    "study",
    "we",
    "observed",
    "that",
    "treatment",
    "reduced",
    "levels",
    "and",
    "expression",
    "significantly",
    "compared",
    "controls",
    "after",
    "weeks",
    "analysis",
    "showed",
    "response",
    "to",
    "therapy",
    "mice",
    "cells",
    "were",
    "randomized",
];

fn name(rng: &mut Rng, parts: usize) -> String {
    (0..parts)
        .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
        .collect()
}

/// Entity names per type: chemicals, diseases (two words), genes (letters and a number).
fn vocabulary(rng: &mut Rng) -> Vec<(&'static str, Vec<String>)> {
    let chem = (0..3000).map(|_| name(rng, 3)).collect();
    let disease = (0..2000)
        .map(|_| {
            format!(
                "{} {}",
                name(rng, 2),
                ["syndrome", "disease", "cancer", "fibrosis"][rng.below(4)]
            )
        })
        .collect();
    let gene = (0..3000)
        .map(|_| format!("{}{}", name(rng, 1).to_uppercase(), rng.below(20) + 1))
        .collect();
    vec![("Chemical", chem), ("Disease", disease), ("Gene", gene)]
}

fn paper(rng: &mut Rng, vocab: &[(&'static str, Vec<String>)], n: usize) -> Annotations {
    let id = format!("pmid:{}", 10_000_000 + n);
    let want = 10 + rng.below(21);
    let mut text = String::with_capacity(1600);
    let mut chars = 0usize;
    let mut mentions = Vec::with_capacity(want);
    // About 1,500 characters, the mentions spread through it.
    let per_gap = 1500 / (want + 1);
    for _ in 0..want {
        let gap_end = chars + per_gap;
        while chars < gap_end.saturating_sub(10) {
            let w = FILLER[rng.below(FILLER.len())];
            text.push_str(w);
            text.push(' ');
            chars += w.len() + 1;
        }
        let (ty, names) = &vocab[rng.below(vocab.len())];
        let e = &names[rng.below(names.len())];
        mentions.push(Mention {
            passage: 1,
            start: chars as u32,
            end: (chars + e.chars().count()) as u32,
            text: e.clone(),
            ty: (*ty).into(),
            score: 0.95,
            model: "bench-ner".into(),
            concept: None,
        });
        text.push_str(e);
        text.push_str(". ");
        chars += e.chars().count() + 2;
    }
    let mut doc = Document::new(SourceKind::Pubmed, id.clone());
    doc.pmid = Some((10_000_000 + n).to_string());
    doc.title = format!("A study of {}", mentions[0].text);
    doc.pub_date = Some(PubDate {
        year: Some(1990 + rng.below(36) as i32),
        ..Default::default()
    });
    doc.passages = vec![
        Passage::new(PassageKind::Title, doc.title.clone()),
        Passage::new(PassageKind::Abstract, text),
    ];
    Annotations {
        schema_version: SCHEMA_VERSION,
        id,
        models: vec![ModelRef {
            name: "bench-ner".into(),
            hash: "0".into(),
            task: "ner".into(),
            ..Default::default()
        }],
        mentions,
        abbreviations: Vec::new(),
        relations: Vec::new(),
        document: Some(Box::new(doc)),
    }
}

/// The papers as sink batches of `size` records on partition 0 of `topic`.
pub fn batches(papers: &[Annotations], size: usize, topic: &str) -> Vec<SinkBatch> {
    papers
        .chunks(size)
        .enumerate()
        .map(|(b, chunk)| {
            let first = (b * size) as i64;
            let items = chunk
                .iter()
                .enumerate()
                .map(|(i, a)| SinkItem {
                    topic: topic.into(),
                    partition: 0,
                    offset: first + i as i64,
                    key: a.id.clone(),
                    annotations: Some(Box::new(a.clone())),
                    origin: None,
                })
                .collect();
            let mut next = Offsets::new();
            next.insert((topic.into(), 0), first + chunk.len() as i64);
            SinkBatch { items, next }
        })
        .collect()
}
