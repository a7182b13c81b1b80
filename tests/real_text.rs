//! The main job's models on real abstracts, measured as BioCreative V's CDR task measures systems:
//! `pubmine eval pubtator` with the committed multi-head NER model (`models/ner-multi`), the default
//! vocabulary and the chemical-induced disease relation model, on the development half of the
//! CDR corpus (`../shared/corpora/cdr`), gives the figures that docs/quality.md states
//! ([Quality on real abstracts](../docs/quality.md)) within 0.005.
//!
//! The corpus is not part of the repository: without `../shared` the test says so on stderr and
//! passes, unless `PUBMINE_REQUIRE_CORPORA=1` (as CI sets it), under which it fails.

mod corpora;

use std::process::Command;

use serde_json::Value;

/// docs/quality.md's figures: (entity type, mention F1, concept F1 per document).
const ENTITIES: [(&str, f64, f64); 2] = [("Chemical", 0.8815, 0.8310), ("Disease", 0.7762, 0.7764)];
/// docs/quality.md's chemical-induced disease figures: pairs per document, end to end and on the
/// curators' mentions.
const CID: (f64, f64) = (0.4030, 0.5416);
const TOLERANCE: f64 = 0.005;

fn f1(v: &Value) -> f64 {
    v["f1"].as_f64().unwrap_or_else(|| panic!("no f1 in {v}"))
}

#[test]
fn cdr_development_set_gives_the_documented_figures() {
    let Some(data) = corpora::corpus(
        "cdr/CDR_DevelopmentSet.PubTator.txt",
        "the real-text figures are",
    ) else {
        return;
    };
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some(),
        "ORT_DYLIB_PATH is not set: run scripts/test.sh"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_pubmine"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "eval",
            "pubtator",
            "--json",
            "--model",
            "models/ner-multi",
            "--re-model",
            "models/re-cdr",
            // the model emits the corpus' CID as `induces`
            "--relation-name",
            "CID=induces",
        ])
        .arg("--data")
        .arg(&data)
        .env("PUBMINE_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "eval pubtator: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let report = &v["report"];
    assert_eq!(v["documents"], 500, "{v}");
    let mut seen = Vec::new();
    for (ty, mentions, concepts) in ENTITIES {
        let t = &report["scores"]["types"][ty];
        let (m, c) = (f1(&t["mentions"]), f1(&t["concepts"]));
        seen.push(format!("{ty}: mentions {m:.4}, concepts {c:.4}"));
        assert!(
            (m - mentions).abs() <= TOLERANCE && (c - concepts).abs() <= TOLERANCE,
            "{ty}: mention F1 {m:.4} (docs {mentions}), concept F1 {c:.4} (docs {concepts})"
        );
    }
    let (end_to_end, curated) = (
        f1(&report["scores"]["relations"]["CID"]),
        f1(&report["relations_on_curated_mentions"]["CID"]),
    );
    seen.push(format!(
        "CID: {end_to_end:.4} end to end, {curated:.4} on the curators' mentions"
    ));
    eprintln!("{}", seen.join("; "));
    assert!(
        (end_to_end - CID.0).abs() <= TOLERANCE && (curated - CID.1).abs() <= TOLERANCE,
        "CID pairs F1 {end_to_end:.4} end to end (docs {}), {curated:.4} on the curators' mentions (docs {})",
        CID.0,
        CID.1
    );
}
