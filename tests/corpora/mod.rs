//! Where the tests on real models find the annotated corpora of `../shared/corpora`, which are not
//! part of the repository: without them a test says so on stderr and passes, unless
//! `PUBMINE_REQUIRE_CORPORA=1` (as CI sets it), under which a missing corpus fails it.

use std::path::{Path, PathBuf};

/// `../shared/corpora/<rel>` if it is there; `None` (said on stderr, with `what` is not checked)
/// if not; a panic if it is not there and `PUBMINE_REQUIRE_CORPORA=1`.
pub fn corpus(rel: &str, what: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpora")
        .join(rel);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("PUBMINE_REQUIRE_CORPORA").as_deref() != Ok("1"),
        "{} is missing and PUBMINE_REQUIRE_CORPORA=1: {what} would not be checked",
        path.display()
    );
    eprintln!("{} not found: {what} not checked", path.display());
    None
}
