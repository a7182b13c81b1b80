//! Mentions per second into the entity index, on generated annotations shaped like real ones
//! (abstracts of about 1,500 characters, 10 to 30 mentions each, entity names drawn from a few
//! thousand per type), through the same `Indexer::write` the sink runner calls, commits
//! included. Beside it, in the same process, the reference: bare tantivy indexing the same
//! mention texts into a one-field schema, the floor of what any entity index pays.
//!
//!   cargo bench -p pubmine-index --bench index_throughput -- [PAPERS] [THREADS]

use std::time::{Duration, Instant};

use pubmine_index::{IndexConfig, Indexer};
use pubmine_stream::kafka::Offsets;
use pubmine_stream::record::{
    Annotations, Document, Mention, ModelRef, Passage, PassageKind, PubDate, SCHEMA_VERSION,
    SourceKind,
};
use pubmine_stream::sink::{SinkBatch, SinkItem};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
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
        relations: Vec::new(),
        document: Some(Box::new(doc)),
    }
}

fn batches(papers: &[Annotations], size: usize) -> Vec<SinkBatch> {
    papers
        .chunks(size)
        .enumerate()
        .map(|(b, chunk)| {
            let first = (b * size) as i64;
            let items = chunk
                .iter()
                .enumerate()
                .map(|(i, a)| SinkItem {
                    topic: "bench".into(),
                    partition: 0,
                    offset: first + i as i64,
                    key: a.id.clone(),
                    annotations: Some(Box::new(a.clone())),
                })
                .collect();
            let mut next = Offsets::new();
            next.insert(("bench".into(), 0), first + chunk.len() as i64);
            SinkBatch { items, next }
        })
        .collect()
}

fn pubmine(papers: &[Annotations], threads: usize) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let cfg = IndexConfig {
        commit_docs: 10_000,
        commit_interval: Duration::from_secs(3600),
        threads,
        memory_bytes: 256 << 20,
    };
    let batches = batches(papers, 500);
    let started = Instant::now();
    let mut ix = Indexer::open(dir.path(), cfg).unwrap();
    for b in batches {
        ix.write(&b).unwrap();
    }
    ix.commit().unwrap();
    let took = started.elapsed();
    ix.close().unwrap();
    took
}

fn bare_tantivy(papers: &[Annotations], threads: usize) -> Duration {
    use tantivy::schema::{Schema, TEXT};
    let dir = tempfile::tempdir().unwrap();
    let mut b = Schema::builder();
    let f = b.add_text_field("mention", TEXT);
    let index = tantivy::Index::create_in_dir(dir.path(), b.build()).unwrap();
    let started = Instant::now();
    let mut w: tantivy::IndexWriter = index.writer_with_num_threads(threads, 256 << 20).unwrap();
    for a in papers {
        let mut d = tantivy::TantivyDocument::default();
        for m in &a.mentions {
            d.add_text(f, &m.text);
        }
        w.add_document(d).unwrap();
    }
    w.commit().unwrap();
    let took = started.elapsed();
    w.wait_merging_threads().unwrap();
    took
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let threads: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let vocab = vocabulary(&mut rng);
    let papers: Vec<Annotations> = (0..n).map(|i| paper(&mut rng, &vocab, i)).collect();
    let mentions: usize = papers.iter().map(|a| a.mentions.len()).sum();
    let chars: usize = papers
        .iter()
        .map(|a| a.document.as_ref().map_or(0, |d| d.text_chars()))
        .sum();
    println!(
        "{n} papers, {mentions} mentions ({:.1} per paper), {:.0} characters per paper; writer threads {threads}",
        mentions as f64 / n as f64,
        chars as f64 / n as f64
    );
    println!(
        "{:<44}{:>12}{:>12}{:>10}",
        "run (best of 3)", "mentions/s", "papers/s", "ratio"
    );
    let best = |f: &dyn Fn() -> Duration| (0..3).map(|_| f()).min().unwrap();
    let reference = best(&|| bare_tantivy(&papers, threads));
    let ours = best(&|| pubmine(&papers, threads));
    for (label, t) in [
        ("pubmine index (Indexer::write + commits)", ours),
        ("reference: bare tantivy, mention texts only", reference),
    ] {
        let s = t.as_secs_f64();
        println!(
            "{label:<44}{:>12.0}{:>12.0}{:>10.2}",
            mentions as f64 / s,
            n as f64 / s,
            reference.as_secs_f64() / s
        );
    }
}
