//! Reduced-precision versions of the demo model (models/demo-ner-int8: MatMul weights quantized
//! to int8; models/demo-ner-fp16: float16 throughout, logits output included; both made by
//! models/make_test_models.py through `export.py --from-onnx`) against the float32 model:
//! entity-level F1 on the project's CoNLL files within a stated tolerance, and for fp16 the logits
//! themselves, from a graph whose output is checked to be float16. Runs through the real ONNX
//! Runtime library and tokenizer.

use std::path::{Path, PathBuf};

use pubmine_annotate::annotator::Annotator;
use pubmine_annotate::eval::{Score, evaluate, read_conll};
use pubmine_annotate::model::backend::Backend as _;
use pubmine_annotate::model::session::{ModelSession, SessionOptions};
use pubmine_annotate::ner::{NerModel, NerOptions};

/// Largest F1 difference allowed from the float32 model, on each file.
const F1_TOLERANCE: f64 = 0.01;

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models")
}

fn require_ort() {
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some(),
        "ORT_DYLIB_PATH is not set: run scripts/test.sh, or export ORT_DYLIB_PATH=$(scripts/install-onnxruntime.sh)"
    );
}

fn f1(model: &str, data: &str) -> Score {
    let text = std::fs::read_to_string(models_dir().join("fixtures").join(data)).unwrap();
    let sentences = read_conll(&text).unwrap();
    let opts = NerOptions::default();
    let ner = NerModel::open(&models_dir().join(model), SessionOptions::default(), &opts)
        .unwrap_or_else(|e| panic!("{model}: {e}"));
    let mut annotator = Annotator::new(vec![ner], &opts);
    evaluate(&mut annotator, &sentences, 0).unwrap().0
}

fn close_to_fp32(model: &str) {
    require_ort();
    // ner.conll: sentences like the training ones (the model is sure of itself);
    // ner_unseen.conll: names never seen in training (F1 about 0.43: the model is unsure, so a
    // loss of precision shows here first)
    for data in ["ner.conll", "ner_unseen.conll"] {
        let fp32 = f1("demo-ner", data);
        let other = f1(model, data);
        eprintln!(
            "{data}: demo-ner F1 {:.4} ({} correct of {} predicted), {model} F1 {:.4} ({} of {})",
            fp32.f1, fp32.correct, fp32.predicted, other.f1, other.correct, other.predicted
        );
        assert_eq!(other.true_entities, fp32.true_entities);
        assert!(
            (other.f1 - fp32.f1).abs() <= F1_TOLERANCE,
            "{model} on {data}: F1 {:.4}, float32 {:.4}",
            other.f1,
            fp32.f1
        );
    }
}

#[test]
fn int8_demo_model_scores_as_the_float32_one() {
    close_to_fp32("demo-ner-int8");
}

/// models/demo-ner-fp16: float16 weights and activations, and a float16 logits output (as
/// exports of a half-precision PyTorch model have), run on the CPU provider.
#[test]
fn fp16_demo_model_with_float16_logits_scores_as_the_float32_one() {
    close_to_fp32("demo-ner-fp16");
}

/// Largest logit difference allowed between demo-ner-fp16 and demo-ner (1.8e-2 measured on
/// these 64 sentences, 6.3e-3 on the fixtures in models/README.md: float16 keeps about three
/// significant digits of logits of magnitude 1 to 10). Logits read wrongly from the float16
/// output would be off by far more.
const FP16_LOGIT_TOLERANCE: f32 = 0.05;

/// The fp16 model's output really is float16 (the path that widens it is the one tested), and
/// its logits, widened, are the float32 model's to within float16's precision on every token of
/// 64 sentences of names it never saw, argmax included.
#[test]
fn fp16_logits_are_float16_and_match_the_float32_logits() {
    require_ort();
    let open = |name: &str| {
        let dir = pubmine_annotate::model::load(&models_dir().join(name)).unwrap();
        let session = ModelSession::open(&dir, SessionOptions::default()).unwrap();
        (dir, session)
    };
    let (dir, mut fp32) = open("demo-ner");
    let (_, mut fp16) = open("demo-ner-fp16");
    assert!(!fp32.logits_f16, "demo-ner's logits are float32");
    assert!(fp16.logits_f16, "demo-ner-fp16's logits are float16");

    let text = std::fs::read_to_string(models_dir().join("fixtures/ner_unseen.conll")).unwrap();
    let sentences = read_conll(&text).unwrap();
    let tokenizer = tokenizers::Tokenizer::from_file(dir.path.join("tokenizer.json")).unwrap();
    let encodings: Vec<Vec<i64>> = sentences
        .iter()
        .take(64)
        .map(|s| {
            let e = tokenizer.encode(s.tokens.join(" "), true).unwrap();
            e.get_ids().iter().map(|&i| i64::from(i)).collect()
        })
        .collect();
    let rows = encodings.len();
    let cols = encodings.iter().map(Vec::len).max().unwrap();
    let (mut ids, mut mask) = (vec![0i64; rows * cols], vec![0i64; rows * cols]);
    for (r, e) in encodings.iter().enumerate() {
        ids[r * cols..r * cols + e.len()].copy_from_slice(e);
        mask[r * cols..r * cols + e.len()].fill(1);
    }
    let a = fp32.run(ids.clone(), mask.clone(), rows, cols).unwrap();
    let b = fp16.run(ids, mask.clone(), rows, cols).unwrap();
    assert_eq!(a.len(), b.len());
    let labels = fp32.n_labels;
    let (mut worst, mut tokens, mut agree) = (0f32, 0usize, 0usize);
    for (t, _) in mask.iter().enumerate().filter(|(_, m)| **m == 1) {
        let (x, y) = (
            &a[t * labels..(t + 1) * labels],
            &b[t * labels..(t + 1) * labels],
        );
        for (p, q) in x.iter().zip(y) {
            worst = worst.max((p - q).abs());
        }
        let argmax = |v: &[f32]| (0..v.len()).max_by(|&i, &j| v[i].total_cmp(&v[j])).unwrap();
        tokens += 1;
        agree += usize::from(argmax(x) == argmax(y));
    }
    eprintln!(
        "fp16 against float32 on {tokens} tokens: max abs logit difference {worst:.2e}, argmax agrees on {agree}"
    );
    assert!(
        worst <= FP16_LOGIT_TOLERANCE,
        "max abs logit difference {worst}"
    );
    assert!(
        worst > 0.0,
        "the two graphs differ in precision, so in their logits"
    );
    assert_eq!(agree, tokens, "the same label on every token");
}
