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
    // The abbreviation finder is listed too: the mentions it adds are replaced as a model's;
    // and the vocabulary mentions were normalized with (the compiled-in default).
    assert_eq!(tasks, ["ner", "re", "abbreviation", "normalize"]);
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
        // docs/annotate.md states 1.0: the fixtures are generated as the model's training sentences.
        assert_eq!(s["f1"].as_f64(), Some(1.0), "{s}");
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

/// `--input` runs the annotate worker over the JSON-lines transport: outputs in input order, a
/// deletion passed on, a line that is not a document set aside with its file and line, and the
/// exit status saying so.
#[test]
fn annotate_input_keeps_order_and_sets_bad_lines_aside() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("docs.jsonl");
    let mut lines = Vec::new();
    for n in 1..=40 {
        let mut doc = Document::new(SourceKind::Pubmed, format!("pmid:{n}"));
        doc.passages.push(Passage::new(
            PassageKind::Abstract,
            format!("Patients with breast cancer (cohort {n}) carried BRCA1 mutations."),
        ));
        lines.push(String::from_utf8(encode_document(&doc)).unwrap());
        if n == 7 {
            lines.push("{\"id\":\"pmid:3\",\"deleted\":true}".into());
            lines.push(String::new());
            lines.push("not json".into());
        }
    }
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let out = pubmine()
        .args(["annotate", "--docs-per-batch", "4", "--input"])
        .arg(&input)
        .args(["--model", "models/demo-ner"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a bad line makes the exit status 1"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "error: {}:10: invalid JSON record",
            input.display()
        )),
        "the bad line is named by file and line: {stderr}"
    );
    let ids: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let id = v["id"].as_str().unwrap().to_string();
            if v["deleted"] == true {
                format!("-{id}")
            } else {
                assert!(!v["mentions"].as_array().unwrap().is_empty(), "{l}");
                id
            }
        })
        .collect();
    let mut want: Vec<String> = (1..=40).map(|n| format!("pmid:{n}")).collect();
    want.insert(7, "-pmid:3".into());
    assert_eq!(ids, want);
}

/// A passage far longer than the tokenizer's 64 KiB pieces is annotated whole: mentions past
/// each cut, their offsets on the passage's characters. A document over `--max-document-chars`
/// is set aside with that reason and the lines after it go on; a byte order mark before a line
/// is dropped, and a deletion without an id is refused rather than passed on as `"id": ""`.
#[test]
fn long_passages_are_annotated_whole_and_too_long_documents_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("docs.jsonl");
    let sentence = "Patients with breast cancer carried BRCA1 mutations (naïve cohort). ";
    let long: String = (0..3000).map(|i| format!("{sentence}Set {i}. ")).collect();
    assert!(long.len() > 3 * 64 * 1024);
    let doc = |id: &str, text: &str| {
        let mut d = Document::new(SourceKind::Pubmed, id.into());
        d.passages
            .push(Passage::new(PassageKind::Abstract, text.into()));
        String::from_utf8(encode_document(&d)).unwrap()
    };
    let lines = [
        format!("\u{feff}{}", doc("pmid:1", sentence)),
        doc("pmid:2", &long),
        doc("pmid:3", &sentence.repeat(4000)),
        "{\"deleted\":true}".to_string(),
        doc("pmid:4", sentence),
    ];
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let out = pubmine()
        .args(["annotate", "--max-document-chars", "250000", "--input"])
        .arg(&input)
        .args(["--model", "models/demo-ner", "--no-vocab"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    let at = |line: usize| format!("error: {}:{line}: ", input.display());
    assert_eq!(errors.len(), 2, "{stderr}");
    assert!(
        errors[0].starts_with(&at(3))
            && errors[0].contains("is 272000 characters, more than the 250000 annotate takes"),
        "{stderr}"
    );
    assert!(
        errors[1].starts_with(&at(4)) && errors[1].contains("without an \"id\""),
        "{stderr}"
    );
    let outputs: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = outputs.iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["pmid:1", "pmid:2", "pmid:4"], "{stderr}");
    assert!(long.chars().count() < 250_000);
    // Every mention of the long passage sits where its text is, all along it.
    let chars: Vec<char> = long.chars().collect();
    let mentions = outputs[1]["mentions"].as_array().unwrap();
    let mut last = 0;
    for m in mentions {
        let (s, e) = (
            m["start"].as_u64().unwrap() as usize,
            m["end"].as_u64().unwrap() as usize,
        );
        let at: String = chars[s..e].iter().collect();
        assert_eq!(at, m["text"].as_str().unwrap());
        last = last.max(e);
    }
    let one = outputs[0]["mentions"].as_array().unwrap().len();
    assert!(one >= 2, "{}", outputs[0]);
    // At least the mentions of the sentence alone in every one of its copies.
    assert!(
        mentions.len() >= one * 3000,
        "{} of {}",
        mentions.len(),
        one * 3000
    );
    assert!(
        last > chars.len() - 100,
        "mentions to the end: {last} of {}",
        chars.len()
    );
}
