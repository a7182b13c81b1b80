//! Look-up cost per mention in a vocabulary directory (default: the default vocabulary,
//! models/vocab-mesh): every concept name as written, the same names lowercased and pluralized
//! (hits through the matching rules), and the names with a letter changed (misses), looked up as
//! Disease mentions. Printed beside the cost of the key alone (the matching rules' string work),
//! the reference the fst's part is measured against, and the time to load the directory.
//!   cargo bench -p pubmine-vocab --bench lookup [-- DIR]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use pubmine_vocab::{Kind, Vocabulary, key};

fn main() {
    let dir = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../models/vocab-mesh"))
        });
    let started = Instant::now();
    let v = Vocabulary::open(&dir).expect("a vocabulary directory");
    let load = started.elapsed();
    let mut names: Vec<String> = Vec::new();
    for c in v.concepts() {
        names.push(c.name.clone());
        names.push(format!("{}s", c.name.to_lowercase()));
        let mut miss: Vec<char> = c.name.chars().collect();
        if let Some(ch) = miss.iter_mut().find(|c| c.is_alphabetic()) {
            *ch = if *ch == 'q' { 'z' } else { 'q' };
        }
        names.push(miss.into_iter().collect());
    }
    let rounds = 3;
    let mut best_key = f64::MAX;
    let mut best_lookup = f64::MAX;
    let mut hits = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        for n in &names {
            black_box(key::key(black_box(n)));
        }
        best_key = best_key.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        hits = 0;
        for n in &names {
            if black_box(v.lookup(black_box(n), Kind::Disease)).is_some() {
                hits += 1;
            }
        }
        best_lookup = best_lookup.min(t.elapsed().as_secs_f64());
    }
    let per = |s: f64| s / names.len() as f64 * 1e9;
    println!(
        "vocabulary {}: {} concepts, {} entries; loaded in {:.1} ms",
        v.meta.name,
        v.meta.concepts,
        v.meta.entries,
        load.as_secs_f64() * 1e3
    );
    println!(
        "{} look-ups ({} found), best of {rounds}: {:.0} ns per look-up; the key alone {:.0} ns ({:.2}x)",
        names.len(),
        hits,
        per(best_lookup),
        per(best_key),
        best_lookup / best_key
    );
}
