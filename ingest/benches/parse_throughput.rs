//! Parse throughput of the MEDLINE parser on one file, as `bench/parse.sh` runs it beside the
//! lxml reference: `cargo bench -p pubmine-ingest --bench parse_throughput -- FILE [REPEAT]`.
//! `cargo bench ... -- FILE REPEAT events,events-slice,parse,parse+json` picks the modes.
//! Prints one JSON line per mode, in the reference script's format:
//! - `parse`: records out of the parser (documents built, nothing else), on 2 threads;
//! - `parse+json`: the same, each document also encoded as the JSON the topic carries;
//! - `parse-1t`, `parse+json-1t`: the same on one thread, like for like with lxml;
//! - `events`, `events-slice`: quick-xml's events alone, from a stream and from memory (floors);
//! - `chunks`: the input cut into chunks of whole records alone, as the reading thread does
//!   before the parsers get them (the floor of the reading thread).

use std::io::{BufRead, BufReader, Read};
use std::time::Instant;

use pubmine_ingest::chunk::Chunker;
use pubmine_ingest::inflate::Inflated;
use pubmine_ingest::medline::{CHUNK_BYTES, MedlineParser, RECORD_NAMES};
use pubmine_stream::codec::encode_document;
use pubmine_stream::record::DocumentRecord;

/// The allocator the `pubmine` binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn open(path: &str) -> Box<dyn BufRead> {
    let mut f = BufReader::with_capacity(1 << 20, std::fs::File::open(path).expect("open"));
    let gz = f.fill_buf().expect("read").starts_with(&[0x1f, 0x8b]);
    if gz {
        // As ingest reads a .xml.gz: inflated on a thread of its own, ahead of the parsers.
        Box::new(Inflated::spawn(f).expect("inflate thread"))
    } else {
        Box::new(f)
    }
}

fn xml_bytes(path: &str) -> u64 {
    let mut r = open(path);
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = r.read(&mut buf).expect("read");
        if k == 0 {
            return n;
        }
        n += k as u64;
    }
}

/// The floor: quick-xml's events alone, nothing built (articles = `PubmedArticle` end tags).
fn count_events(path: &str) -> u64 {
    let mut reader = quick_xml::Reader::from_reader(open(path));
    let mut buf = Vec::with_capacity(1 << 16);
    let mut articles = 0;
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf).expect("xml") {
            quick_xml::events::Event::End(e) if e.local_name().as_ref() == "PubmedArticle" => {
                articles += 1
            }
            quick_xml::events::Event::Eof => return articles,
            _ => {}
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(path) = args.first() else {
        eprintln!("usage: parse_throughput FILE [REPEAT]");
        std::process::exit(2);
    };
    let repeat: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(3);
    let bytes = xml_bytes(path);
    let modes: Vec<String> = args
        .get(2)
        .map(|m| m.split(',').map(String::from).collect())
        .unwrap_or_else(|| {
            ["parse-1t", "parse+json-1t", "parse", "parse+json"]
                .map(String::from)
                .to_vec()
        });
    // Only the `events-slice` floor reads the whole file into memory first.
    let whole = if modes.iter().any(|m| m == "events-slice") {
        std::fs::read(path).expect("read")
    } else {
        Vec::new()
    };
    for mode in modes.iter().map(String::as_str) {
        let mut best = f64::MAX;
        let mut articles = 0u64;
        let mut json_bytes = 0u64;
        for _ in 0..repeat {
            let start = Instant::now();
            articles = 0;
            json_bytes = 0;
            if mode == "events-slice" {
                let mut reader = quick_xml::Reader::from_reader(whole.as_slice());
                articles = 0;
                loop {
                    match reader.read_event().expect("xml") {
                        quick_xml::events::Event::End(e)
                            if e.local_name().as_ref() == "PubmedArticle" =>
                        {
                            articles += 1
                        }
                        quick_xml::events::Event::Eof => break,
                        _ => {}
                    }
                }
                best = best.min(start.elapsed().as_secs_f64());
                continue;
            }
            if mode == "chunks" {
                let mut chunker = Chunker::new(open(path), RECORD_NAMES, CHUNK_BYTES);
                while let Some(chunk) = chunker.next_chunk() {
                    articles += chunk.starts.len() as u64;
                }
                best = best.min(start.elapsed().as_secs_f64());
                continue;
            }
            if mode == "events" {
                articles = count_events(path);
                best = best.min(start.elapsed().as_secs_f64());
                continue;
            }
            let threads = if mode.ends_with("-1t") { 1 } else { 2 };
            for r in MedlineParser::with_threads(open(path), threads) {
                match r {
                    Ok(DocumentRecord::Upsert(doc)) => {
                        articles += 1;
                        if mode.starts_with("parse+json") {
                            json_bytes += encode_document(&doc).len() as u64;
                        }
                    }
                    Ok(DocumentRecord::Delete(_)) => {}
                    Err(e) => panic!("{path}: {e}"),
                }
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        println!(
            "{}",
            serde_json::json!({
                "mode": mode,
                "parser": "pubmine (quick-xml)",
                "articles": articles,
                "bytes": bytes,
                "seconds": best,
                "articles_per_s": articles as f64 / best,
                "mb_per_s": bytes as f64 / 1e6 / best,
                "json_bytes": json_bytes,
            })
        );
    }
}
