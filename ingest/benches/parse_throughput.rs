//! Parse throughput of the MEDLINE parser on one file, as `bench/parse.sh` runs it beside the
//! lxml reference: `cargo bench -p pubmine-ingest --bench parse_throughput -- FILE [REPEAT]`.
//! Prints one JSON line per mode, in the reference script's format:
//! - `parse`: records out of the parser (documents built, nothing else);
//! - `parse+json`: the same, each document also encoded as the JSON the topic carries.

use std::io::{BufRead, BufReader, Read};
use std::time::Instant;

use pubmine_ingest::medline::MedlineParser;
use pubmine_stream::codec::encode_document;
use pubmine_stream::record::DocumentRecord;

fn open(path: &str) -> Box<dyn BufRead> {
    let mut f = BufReader::with_capacity(1 << 20, std::fs::File::open(path).expect("open"));
    let gz = f.fill_buf().expect("read").starts_with(&[0x1f, 0x8b]);
    if gz {
        Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::read::MultiGzDecoder::new(f),
        ))
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
    for mode in ["parse", "parse+json"] {
        let mut best = f64::MAX;
        let mut articles = 0u64;
        let mut json_bytes = 0u64;
        for _ in 0..repeat {
            let start = Instant::now();
            articles = 0;
            json_bytes = 0;
            for r in MedlineParser::new(open(path)) {
                match r {
                    Ok(DocumentRecord::Upsert(doc)) => {
                        articles += 1;
                        if mode == "parse+json" {
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
