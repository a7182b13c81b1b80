//! Reduced-precision versions of the demo model (models/demo-ner-int8: MatMul weights quantized
//! to int8; models/demo-ner-fp16: float16 throughout, logits output included; both made by
//! models/make_test_models.py through `export.py --from-onnx`) against the float32 model:
//! entity-level F1 on the project's CoNLL files within a stated tolerance. Runs through the real
//! ONNX Runtime library.

use std::path::{Path, PathBuf};

use pubmine_annotate::eval::{Score, evaluate, read_conll};
use pubmine_annotate::ner::{Annotator, NerModel, NerOptions};
use pubmine_annotate::session::SessionOptions;

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
