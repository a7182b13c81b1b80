//! Checks that no word of a JATS body is lost: for each file, the words of every `<p>` in the
//! `<body>` (read straight from the XML; the LaTeX twin of a formula left aside, as the parser
//! leaves it) against the words of the parsed passages, and prints the words that are missing.
//!
//! ```sh
//! cargo run -p pubmine-ingest --example jats_words                 # ../shared/samples/pmc
//! cargo run -p pubmine-ingest --example jats_words -- FILE.nxml ...
//! ```
//! Exits with status 1 when a word is missing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use pubmine_ingest::source::visit_file;
use pubmine_stream::record::DocumentRecord;
use quick_xml::Reader;
use quick_xml::events::Event;

/// Words: runs of letters and digits.
fn words(text: &str, out: &mut BTreeSet<String>) {
    for w in text.split(|c: char| !c.is_alphanumeric()) {
        if !w.is_empty() {
            out.insert(w.to_string());
        }
    }
}

/// The words of the `<p>`s of the `<body>`, read from the XML itself.
fn body_paragraph_words(xml: &[u8]) -> BTreeSet<String> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().check_end_names = false;
    let mut out = BTreeSet::new();
    let (mut in_body, mut p_depth, mut skip_depth, mut depth) = (0usize, 0usize, 0usize, 0usize);
    let mut text = String::new();
    loop {
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                eprintln!("  (xml error in the check itself: {e})");
                break;
            }
        };
        match ev {
            Event::Start(e) => {
                depth += 1;
                let name = e.local_name();
                let name = name.as_ref();
                if name == "body" && in_body == 0 {
                    in_body = depth;
                } else if in_body > 0 && name == "p" && p_depth == 0 {
                    p_depth = depth;
                } else if p_depth > 0
                    && skip_depth == 0
                    && matches!(name, "tex-math" | "annotation" | "annotation-xml")
                {
                    skip_depth = depth;
                }
                // Markup is no word boundary in JATS (`CO<sub>2</sub>`), except around blocks
                // (a display formula, a table cell, a list item).
                if p_depth > 0
                    && matches!(
                        name,
                        "p" | "td"
                            | "th"
                            | "list-item"
                            | "title"
                            | "label"
                            | "disp-formula"
                            | "list"
                            | "def-item"
                            | "term"
                            | "def"
                            | "caption"
                            | "table"
                            | "tr"
                    )
                {
                    text.push(' ');
                }
            }
            Event::End(_) => {
                if depth == skip_depth {
                    skip_depth = 0;
                }
                if depth == p_depth {
                    p_depth = 0;
                    words(&text, &mut out);
                    text.clear();
                }
                if depth == in_body {
                    in_body = 0;
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) if p_depth > 0 && skip_depth == 0 => text.push_str(&t),
            Event::CData(t) if p_depth > 0 && skip_depth == 0 => text.push_str(&t),
            Event::GeneralRef(r) if p_depth > 0 && skip_depth == 0 => match r.resolve_char_ref() {
                Ok(Some(c)) => text.push(c),
                _ => text.push_str(match &*r {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    _ => " ",
                }),
            },
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

/// Missing words of one file, or why it could not be checked.
fn check(path: &Path) -> Result<Vec<String>, String> {
    let xml = std::fs::read(path).map_err(|e| format!("failed to read {}: {e}", path.display()))?;
    let want = body_paragraph_words(&xml);
    let mut have = BTreeSet::new();
    let mut problems = Vec::new();
    let mut visit = |_: &str, records: pubmine_ingest::source::Records<'_>| {
        for r in records {
            match r {
                Ok(DocumentRecord::Upsert(d)) => {
                    for p in &d.passages {
                        words(&p.text, &mut have);
                    }
                }
                Ok(DocumentRecord::Delete(_)) => {}
                Err(e) => problems.push(e.to_string()),
            }
        }
        true
    };
    let mut member_errors = Vec::new();
    visit_file(path, Arc::new(AtomicU64::new(0)), &mut visit, &mut |e| {
        member_errors.push(e.to_string())
    })
    .map_err(|e| e.to_string())?;
    problems.extend(member_errors);
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Ok(want.difference(&have).cloned().collect())
}

fn main() -> std::process::ExitCode {
    let mut files: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if files.is_empty() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples/pmc");
        let Ok(listing) = std::fs::read_dir(&dir) else {
            eprintln!("no files given and {} is not there", dir.display());
            return std::process::ExitCode::FAILURE;
        };
        files = listing.flatten().map(|e| e.path()).collect();
        files.sort();
    }
    let mut lost = 0;
    for f in &files {
        match check(f) {
            Ok(missing) if missing.is_empty() => println!("{}: no word missing", f.display()),
            Ok(missing) => {
                lost += missing.len();
                println!(
                    "{}: {} words missing: {}",
                    f.display(),
                    missing.len(),
                    missing.join(" ")
                );
            }
            Err(e) => {
                lost += 1;
                println!("{}: {e}", f.display());
            }
        }
    }
    if lost == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
