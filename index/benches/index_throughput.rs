//! Mentions per second into the entity index, on generated annotations shaped like real ones
//! (abstracts of about 1,500 characters, 10 to 30 mentions each, entity names drawn from a few
//! thousand per type), through the same `Indexer::write` the sink runner calls, commits
//! included. Beside it, in the same process, the reference: bare tantivy indexing the same
//! mention texts into a one-field schema, the floor of what any entity index pays.
//!
//!   cargo bench -p pubmine-index --bench index_throughput -- [PAPERS] [THREADS]

use std::time::{Duration, Instant};

use pubmine_index::{IndexConfig, Indexer};
use pubmine_stream::record::Annotations;
use pubmine_stream::synthetic;

fn pubmine(papers: &[Annotations], threads: usize) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let cfg = IndexConfig {
        commit_docs: 10_000,
        commit_interval: Duration::from_secs(3600),
        threads,
        memory_bytes: 256 << 20,
    };
    let batches = synthetic::batches(papers, 500, "bench");
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
    let papers: Vec<Annotations> = synthetic::papers(n, 0x9E37_79B9_7F4A_7C15);
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
