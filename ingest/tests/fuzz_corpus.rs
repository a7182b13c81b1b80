//! Replays the saved fuzz corpora and the crash inputs found by fuzzing (`fuzz/corpus/TARGET/`,
//! `fuzz/regressions/TARGET/` at the repository root) through the functions the fuzz targets
//! call, as an ordinary test: none of them may panic. See `fuzz/run.sh` and docs/development.md
//! ("Fuzzing").

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Panics seen in any thread: the parsers run on worker threads, whose panics do not reach the
/// caller (the fuzzer aborts on them; this test counts them).
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_panics() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    });
}

/// The files of the saved corpus and the regressions of a target.
fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(listing) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for e in listing {
            let path = e.expect("a corpus directory entry").path();
            let hidden = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if path.is_file() && !hidden {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn replay(target: &str, run: fn(&[u8]) -> usize) {
    let files = inputs(target);
    assert!(!files.is_empty(), "no saved corpus for {target}");
    count_panics();
    for path in files {
        let data = std::fs::read(&path).expect("a corpus file");
        let before = PANICS.load(Ordering::SeqCst);
        let outcome = std::panic::catch_unwind(|| run(&data));
        // A panic names the input that caused it.
        assert!(
            outcome.is_ok() && PANICS.load(Ordering::SeqCst) == before,
            "{target}: {} panicked",
            path.display()
        );
    }
}

#[test]
fn medline_corpus() {
    replay("medline", pubmine_ingest::fuzz::medline);
}

#[test]
fn jats_corpus() {
    replay("jats", pubmine_ingest::fuzz::jats);
}

#[test]
fn source_corpus() {
    replay("source", pubmine_ingest::fuzz::source);
}
