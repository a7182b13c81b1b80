//! Parity with the Hugging Face pipeline on the project's demo model: for texts that fit one
//! window, the same tokens, entity spans, labels and scores as `pipeline("token-classification",
//! aggregation_strategy="first")` gave on the PyTorch model (models/demo-ner/golden.json, written
//! by models/make_test_models.py). Runs through the real ONNX Runtime library and the real
//! tokenizer.

use std::path::{Path, PathBuf};

use pubmine_annotate::annotator::Annotator;
use pubmine_annotate::model::session::SessionOptions;
use pubmine_annotate::ner::{NerInputs, NerModel, NerOptions, NerSettings};
use pubmine_annotate::text::tokenize::tokenize;
use pubmine_stream::record::{Document, Passage, PassageKind, SourceKind};
use serde::Deserialize;

fn model_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models")
        .join(name)
}

fn require_ort() {
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some(),
        "ORT_DYLIB_PATH is not set: run scripts/test.sh, or export ORT_DYLIB_PATH=$(scripts/install-onnxruntime.sh)"
    );
}

#[derive(Deserialize)]
struct Golden {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    input_ids: Vec<u32>,
    entities: Vec<Entity>,
}

#[derive(Deserialize)]
struct Entity {
    entity_group: String,
    score: f32,
    start: usize,
    end: usize,
}

fn doc(text: &str) -> Document {
    let mut d = Document::new(SourceKind::Pubmed, "pmid:1".into());
    d.passages
        .push(Passage::new(PassageKind::Abstract, text.into()));
    d
}

/// What the Hugging Face pipeline shows a model: the whole text, up to the model's 512 positions.
fn pipeline_opts() -> NerOptions {
    NerOptions {
        all: NerSettings {
            max_len: Some(512),
            inputs: Some(NerInputs::Passages),
        },
        ..NerOptions::default()
    }
}

fn check_golden(model: &str) {
    require_ort();
    let dir = model_dir(model);
    let golden: Golden =
        serde_json::from_slice(&std::fs::read(dir.join("golden.json")).unwrap()).unwrap();
    let opts = pipeline_opts();
    let ner = NerModel::open(&dir, SessionOptions::default(), &opts).unwrap();
    let tokenizer = ner.dir.tokenizer.clone();
    let unk = ner.dir.unk_id;
    let (cls, sep) = (ner.dir.cls_id, ner.dir.sep_id);
    let mut annotator = Annotator::new(vec![ner], &opts);
    assert!(golden.cases.len() >= 5);
    for case in &golden.cases {
        let toks = tokenize(&tokenizer, &case.text, unk).unwrap();
        let mut ids = vec![cls];
        ids.extend(&toks.ids);
        ids.push(sep);
        assert_eq!(ids, case.input_ids, "tokens of {:?}", case.text);

        let d = doc(&case.text);
        let mentions = annotator.annotate(&[&d]).unwrap().remove(0);
        let got: Vec<_> = mentions
            .iter()
            .map(|m| (m.ty.as_str(), m.start as usize, m.end as usize))
            .collect();
        let want: Vec<_> = case
            .entities
            .iter()
            .map(|e| (e.entity_group.as_str(), e.start, e.end))
            .collect();
        assert_eq!(got, want, "entities of {:?}", case.text);
        for (m, e) in mentions.iter().zip(&case.entities) {
            assert!(
                (m.score - e.score).abs() < 1e-4,
                "score {} vs {}",
                m.score,
                e.score
            );
            let text: String = case
                .text
                .chars()
                .skip(e.start)
                .take(e.end - e.start)
                .collect();
            assert_eq!(m.text, text);
        }
    }
}

#[test]
fn demo_ner_matches_the_hugging_face_pipeline() {
    check_golden("demo-ner");
}

#[test]
fn demo_ner_gene_matches_the_hugging_face_pipeline() {
    check_golden("demo-ner-gene");
}

/// A long passage cut into many small windows gives the same mentions as one window, and a
/// mention that crosses a window boundary is found once, whole.
#[test]
fn windows_find_boundary_mentions_once_and_whole() {
    require_ort();
    let dir = model_dir("demo-ner");
    let sentence = "Metformin reduced the expression of IL-6 in patients with type 2 diabetes. ";
    let text: String = sentence.repeat(25);
    let d = doc(text.trim_end());

    let whole_opts = pipeline_opts();
    let whole = NerModel::open(&dir, SessionOptions::default(), &whole_opts).unwrap();
    let tokenizer = whole.dir.tokenizer.clone();
    let unk = whole.dir.unk_id;
    let n_tokens = tokenize(&tokenizer, &d.passages[0].text, unk)
        .unwrap()
        .len();
    assert!(
        n_tokens < 510,
        "fits one window of the model ({n_tokens} tokens)"
    );
    let reference = Annotator::new(vec![whole], &whole_opts)
        .annotate(&[&d])
        .unwrap()
        .remove(0);
    assert_eq!(reference.len(), 75, "3 mentions per sentence");

    // Windows of 24 tokens (22 of the passage) overlapping by 6.
    let small = NerOptions {
        all: NerSettings {
            max_len: Some(24),
            inputs: Some(NerInputs::Passages),
        },
        stride: Some(6),
        batch_tokens: 64,
        ..NerOptions::default()
    };
    let windowed = NerModel::open(&dir, SessionOptions::default(), &small).unwrap();
    let got = Annotator::new(vec![windowed], &small)
        .annotate(&[&d])
        .unwrap()
        .remove(0);
    let spans = |ms: &[pubmine_stream::record::Mention]| {
        ms.iter()
            .map(|m| (m.start, m.end, m.ty.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(spans(&got), spans(&reference));

    // Some mention's tokens straddle the end of a window: it was still found once, whole.
    let toks = tokenize(&tokenizer, &d.passages[0].text, unk).unwrap();
    let wins = pubmine_annotate::text::windows::windows(toks.len(), 22, 6).unwrap();
    let crossing = got.iter().filter(|m| {
        let first = toks
            .offsets
            .iter()
            .position(|o| o.0 == m.start as usize)
            .unwrap();
        let last = toks
            .offsets
            .iter()
            .rposition(|o| o.1 == m.end as usize)
            .unwrap();
        wins.iter().any(|w| first < w.end && last >= w.end)
    });
    assert!(
        crossing.count() > 0,
        "the test must put a mention across a window edge"
    );
}

/// `eval ner` on the project's held-out CoNLL file (models/fixtures/ner.conll): the counts add up
/// and the demo model, trained on sentences of the same templates, finds every entity.
#[test]
fn eval_on_the_conll_fixture() {
    require_ort();
    let text = std::fs::read_to_string(model_dir("fixtures/ner.conll")).unwrap();
    let sentences = pubmine_annotate::eval::read_conll(&text).unwrap();
    assert!(sentences.len() >= 20);
    let opts = NerOptions::default();
    let ner = NerModel::open(&model_dir("demo-ner"), SessionOptions::default(), &opts).unwrap();
    let mut annotator = Annotator::new(vec![ner], &opts);
    let (total, per_type) =
        pubmine_annotate::eval::evaluate(&mut annotator, &sentences, 0).unwrap();
    let gold: usize = sentences
        .iter()
        .map(|s| pubmine_annotate::eval::entities(&s.tags).len())
        .sum();
    assert_eq!(total.true_entities, gold);
    assert_eq!(
        per_type.values().map(|s| s.correct).sum::<usize>(),
        total.correct
    );
    // docs/annotate.md states 1.000: the fixture is written from the model's training templates.
    assert_eq!(total.f1, 1.0, "{total:?}");
}
