//! Single-type checkpoints whose labels are bare `B`, `I` and `O` (the original BioBERT NER
//! fine-tunes): opened with the entity type the user names, they find what the same model with
//! typed labels finds; opened without one, they fail at start-up with a message that says what
//! to do. The model is a copy of models/demo-ner-gene with its labels renamed.

use std::path::{Path, PathBuf};

use pubmine_annotate::annotator::Annotator;
use pubmine_annotate::model::session::SessionOptions;
use pubmine_annotate::ner::{NerModel, NerOptions, split_entity_type};
use pubmine_stream::record::{Document, Passage, PassageKind, SourceKind};

fn demo_gene() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/demo-ner-gene")
}

fn require_ort() {
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some(),
        "ORT_DYLIB_PATH is not set: run scripts/test.sh, or export ORT_DYLIB_PATH=$(scripts/install-onnxruntime.sh)"
    );
}

/// demo-ner-gene with id2label {0: "O", 1: "B", 2: "I"} (and label2id to match).
fn bare_copy(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for f in std::fs::read_dir(demo_gene()).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), dir.join(f.file_name())).unwrap();
    }
    let path = dir.join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(config["id2label"]["1"], "B-Gene");
    config["id2label"] = serde_json::json!({"0": "O", "1": "B", "2": "I"});
    config["label2id"] = serde_json::json!({"O": 0, "B": 1, "I": 2});
    std::fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
}

fn doc(text: &str) -> Document {
    let mut d = Document::new(SourceKind::Pubmed, "pmid:1".into());
    d.passages
        .push(Passage::new(PassageKind::Abstract, text.into()));
    d
}

#[test]
fn bare_labels_take_the_type_the_user_names() {
    require_ort();
    let tmp = std::env::temp_dir().join(format!("pubmine-bare-labels-{}", std::process::id()));
    let dir = tmp.join("gene-bare");
    bare_copy(&dir);
    let opts = NerOptions::default();
    let session = SessionOptions::default();

    // no type: refused at start-up, naming the file and the way out
    let err = NerModel::open(&dir, session, &opts)
        .unwrap_err()
        .to_string();
    assert!(err.contains("config.json"), "{err}");
    assert!(err.contains("name no entity type"), "{err}");
    assert!(err.contains("--model DIR="), "{err}");

    // a type for a model whose labels have theirs: refused too
    let err = NerModel::open_typed(&demo_gene(), Some("Gene"), session, &opts)
        .unwrap_err()
        .to_string();
    assert!(err.contains("already name their types"), "{err}");

    // DIR=TYPE, as the command line gives it
    let arg = PathBuf::from(format!("{}=Gene", dir.display()));
    let (path, ty) = split_entity_type(&arg);
    assert_eq!(
        (path.as_path(), ty.as_deref()),
        (dir.as_path(), Some("Gene"))
    );
    let bare = NerModel::open_typed(&path, ty.as_deref(), session, &opts).unwrap();
    assert_eq!(bare.types(), ["Gene"]);
    let refs: Vec<_> = bare.model_refs().collect();
    assert_eq!(refs.len(), 1);
    assert_eq!(refs[0].labels, ["Gene"]);
    let typed = NerModel::open(&demo_gene(), session, &opts).unwrap();

    let d = doc(
        "BRCA1 mutations increase the risk of breast cancer, and TP53 was overexpressed in \
         tumours treated with cisplatin; EGFR and KRAS status was recorded.",
    );
    let mut a = Annotator::new(vec![bare], &opts);
    let mut b = Annotator::new(vec![typed], &opts);
    let got = a.annotate(&[&d]).unwrap().remove(0);
    let want = b.annotate(&[&d]).unwrap().remove(0);
    assert!(!want.is_empty());
    let key = |m: &pubmine_stream::record::Mention| (m.start, m.end, m.ty.clone(), m.score);
    assert_eq!(
        got.iter().map(key).collect::<Vec<_>>(),
        want.iter().map(key).collect::<Vec<_>>()
    );
    assert!(got.iter().all(|m| m.ty == "Gene" && m.model == "gene-bare"));
    std::fs::remove_dir_all(&tmp).unwrap();
}
