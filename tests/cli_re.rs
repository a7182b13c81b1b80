//! Relation extraction through the `pubmine` binary: `annotate --input` with `--re-model` emits
//! relations between the mentions it found, and `eval re` scores the demo RE model on the TSV
//! fixtures. Real ONNX Runtime library (ORT_DYLIB_PATH), no broker.

use std::io::Write;
use std::process::{Command, Stdio};

use pubmine_stream::codec::encode_document;
use pubmine_stream::record::{Document, Passage, PassageKind, SourceKind};

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

#[test]
fn annotate_input_emits_relations() {
    let mut doc = Document::new(SourceKind::Pubmed, "pmid:7".into());
    doc.passages.push(Passage::new(
        PassageKind::Abstract,
        "Mutations in BRCA1 increase the risk of breast cancer. \
         Serum TP53 levels were similar in asthma and in controls."
            .into(),
    ));
    let mut child = pubmine()
        .args([
            "annotate",
            "--input",
            "-",
            "--model",
            "models/demo-ner",
            "--re-model",
            "models/demo-re-gene-disease",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&encode_document(&doc)).unwrap();
    stdin.write_all(b"\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tasks: Vec<&str> = a["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["task"].as_str().unwrap())
        .collect();
    assert_eq!(tasks, ["ner", "re"]);
    let mentions = a["mentions"].as_array().unwrap();
    let relations = a["relations"].as_array().unwrap();
    assert_eq!(relations.len(), 1, "{a}");
    let r = &relations[0];
    let text = |k: &str| {
        mentions[r[k].as_u64().unwrap() as usize]["text"]
            .as_str()
            .unwrap()
    };
    assert_eq!(
        (text("subject"), text("object")),
        ("BRCA1", "breast cancer")
    );
    assert_eq!(r["type"], "association");
    assert_eq!(r["model"], "demo-re-gene-disease");
}

#[test]
fn eval_re_on_the_fixtures() {
    for file in ["models/fixtures/re.tsv", "models/fixtures/re_test.tsv"] {
        let out = pubmine()
            .args([
                "eval",
                "re",
                "--model",
                "models/demo-re-gene-disease",
                "--data",
                file,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(s["task"], "binary");
        assert_eq!(s["examples"], 40);
        assert_eq!(s["negative"], "0");
        assert!(s["f1"].as_f64().unwrap() > 0.9, "{s}");
    }
    // A settings file named on the command line (DIR=FILE) that does not exist.
    let out = pubmine()
        .args([
            "eval",
            "re",
            "--model",
            "models/demo-re-gene-disease=models/fixtures/missing.json",
            "--data",
            "models/fixtures/re.tsv",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.json"));
}
