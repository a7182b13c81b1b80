//! A broken model directory stops `pubmine annotate` at start-up with a clear message that names
//! the file and the reason: never a panic, never a half-started worker. The real binary and the
//! real ONNX Runtime and tokenizers library.

use std::path::Path;
use std::process::Command;

/// A copy of the demo NER model with `file` replaced by `content`.
fn broken(dir: &Path, file: &str, content: &[u8]) -> std::path::PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/demo-ner");
    let dst = dir.join(file.replace('.', "-"));
    std::fs::create_dir_all(&dst).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
    }
    std::fs::write(dst.join(file), content).unwrap();
    dst
}

#[test]
fn broken_model_files_are_refused_at_start_up_with_the_file_and_the_reason() {
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some(),
        "ORT_DYLIB_PATH is not set: run scripts/test.sh"
    );
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("docs.jsonl");
    std::fs::write(&input, "").unwrap();
    let config_without_labels = br#"{"model_type": "bert", "max_position_embeddings": 512}"#;
    // Another model's tokenizer: 30,522 tokens, where the demo model has 3,003 rows.
    let other_tokenizer = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("models/ner-disease/tokenizer.json"),
    )
    .unwrap();
    let cases: [(&str, &[u8], &str); 6] = [
        (
            "tokenizer.json",
            &other_tokenizer,
            "30522 tokens, more than the 3003 of the model",
        ),
        (
            "tokenizer.json",
            b"{\"version\": \"1.0\", \"truncated",
            // The reason, not the file name (which holds the word "tokenizer" too).
            "failed to load the tokenizer",
        ),
        ("model.onnx", b"this is not an ONNX graph", "model.onnx"),
        ("config.json", config_without_labels, "id2label"),
        ("config.json", b"\xff\xfe not json", "config.json"),
        (
            "ner.json",
            br#"{"max_len": 128, "inputs": "words"}"#,
            "ner.json: unknown variant `words`",
        ),
    ];
    for (file, content, reason) in cases {
        let dir = broken(tmp.path(), file, content);
        let out = Command::new(env!("CARGO_BIN_EXE_pubmine"))
            .arg("annotate")
            .arg("--model")
            .arg(&dir)
            .arg("--input")
            .arg(&input)
            .env("PUBMINE_LOG", "warn")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{file}: exit 1, not a panic (101): {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{file}: {stderr}");
        assert!(
            stderr.contains(&dir.display().to_string()) && stderr.contains(reason),
            "{file}: the message names the model and the reason: {stderr}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
