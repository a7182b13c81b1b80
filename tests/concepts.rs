//! Entities as concepts through the `pubmine` binary: `vocab import` builds a vocabulary from a
//! MeSH descriptor file written here, and `annotate --input` with the committed real Disease and
//! Chemical models gives mentions the concepts of the compiled-in default vocabulary, of a
//! vocabulary given with --vocab, or none with --no-vocab. Real ONNX Runtime library, no broker.

use std::io::Write;
use std::process::{Command, Stdio};

use pubmine_stream::codec::encode_document;
use pubmine_stream::record::{Annotations, Document, Passage, PassageKind, SourceKind};

fn pubmine() -> Command {
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some(),
        "ORT_DYLIB_PATH is not set: run scripts/test.sh, or export ORT_DYLIB_PATH=$(scripts/install-onnxruntime.sh)"
    );
    let mut c = Command::new(env!("CARGO_BIN_EXE_pubmine"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PUBMINE_LOG", "warn");
    c
}

const TEXT: &str = "Aspirin and acetylsalicylic acid in patients with asthma. \
    Non-small cell lung carcinoma (NSCLC) was rare; NSCLC patients took cisplatin.";

fn annotate(extra: &[&str]) -> Annotations {
    let mut doc = Document::new(SourceKind::Pubmed, "pmid:9".into());
    doc.passages
        .push(Passage::new(PassageKind::Abstract, TEXT.into()));
    let mut child = pubmine()
        .args([
            "annotate",
            "--input",
            "-",
            "--model",
            "models/ner-disease",
            "--model",
            "models/ner-chemical",
        ])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&encode_document(&doc)).unwrap();
    stdin.write_all(b"\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (text, concept id, via abbreviation) of each mention.
fn concepts(a: &Annotations) -> Vec<(String, Option<String>, bool)> {
    a.mentions
        .iter()
        .map(|m| {
            (
                m.text.clone(),
                m.concept.as_ref().map(|c| c.id.clone()),
                m.concept.as_ref().is_some_and(|c| c.via_abbreviation),
            )
        })
        .collect()
}

fn find<'a>(
    c: &'a [(String, Option<String>, bool)],
    text: &str,
) -> Vec<&'a (String, Option<String>, bool)> {
    c.iter().filter(|m| m.0 == text).collect()
}

#[test]
fn mentions_get_concepts_from_the_default_a_given_or_no_vocabulary() {
    // The default: MeSH descriptors by their preferred labels, and the CDR training set's
    // spellings.
    let a = annotate(&[]);
    let c = concepts(&a);
    let vocab = a.models.iter().find(|m| m.task == "normalize").unwrap();
    assert!(vocab.name.starts_with("mesh-labels-"), "{vocab:?}");
    assert_eq!(
        find(&c, "Aspirin"),
        [&(
            "Aspirin".to_string(),
            Some("MESH:D001241".to_string()),
            false
        )],
        "{c:?}"
    );
    assert_eq!(
        find(&c, "asthma")[0].1.as_deref(),
        Some("MESH:D001249"),
        "{c:?}"
    );
    assert_eq!(
        find(&c, "cisplatin")[0].1.as_deref(),
        Some("MESH:D002945"),
        "{c:?}"
    );
    // The default has no MeSH entry terms, but it learned the spellings of the CDR training
    // set's curated mentions: this synonym is one of them.
    let asa = find(&c, "acetylsalicylic acid");
    assert!(!asa.is_empty(), "{c:?}");
    assert!(
        asa.iter().all(|m| m.1.as_deref() == Some("MESH:D001241")),
        "{c:?}"
    );
    // The short form takes the long form's concept (an inverted label, read uninverted).
    let nsclc = find(&c, "NSCLC");
    assert_eq!(nsclc.len(), 2, "{c:?}");
    for m in nsclc {
        assert_eq!(m.1.as_deref(), Some("MESH:D002289"), "{c:?}");
        assert!(m.2, "{c:?}");
    }

    // A vocabulary of one's own, imported from MeSH's XML: its entry terms match too.
    let tmp = tempfile::tempdir().unwrap();
    let desc = tmp.path().join("desc.xml");
    std::fs::write(
        &desc,
        r#"<?xml version="1.0"?>
<DescriptorRecordSet LanguageCode = "eng">
<DescriptorRecord DescriptorClass = "1">
  <DescriptorUI>D001241</DescriptorUI>
  <DescriptorName><String>Aspirin</String></DescriptorName>
  <TreeNumberList><TreeNumber>D02.455.426.559.389.657.109</TreeNumber></TreeNumberList>
  <ConceptList><Concept PreferredConceptYN="Y"><TermList>
    <Term><String>Aspirin</String></Term>
    <Term><String>Acetylsalicylic Acid</String></Term>
  </TermList></Concept></ConceptList>
</DescriptorRecord>
</DescriptorRecordSet>
"#,
    )
    .unwrap();
    let dir = tmp.path().join("vocab");
    let out = pubmine()
        .args(["vocab", "import", "--mesh"])
        .arg(&desc)
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["concepts"], 1, "{summary}");
    let a = annotate(&["--vocab", dir.to_str().unwrap()]);
    let c = concepts(&a);
    for text in ["Aspirin", "acetylsalicylic acid"] {
        let found = find(&c, text);
        assert!(!found.is_empty(), "{text} not found: {c:?}");
        assert!(
            found.iter().all(|m| m.1.as_deref() == Some("MESH:D001241")),
            "{c:?}"
        );
    }
    // Not in this vocabulary.
    assert!(find(&c, "asthma").iter().all(|m| m.1.is_none()), "{c:?}");

    // None.
    let a = annotate(&["--no-vocab"]);
    assert!(a.mentions.iter().all(|m| m.concept.is_none()));
    assert!(a.models.iter().all(|m| m.task != "normalize"));

    // A directory that is not a vocabulary stops at start-up with its path.
    let out = pubmine()
        .args([
            "annotate",
            "--input",
            "/dev/null",
            "--model",
            "models/ner-disease",
        ])
        .args(["--vocab", tmp.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("vocab.json"), "{err}");
}
