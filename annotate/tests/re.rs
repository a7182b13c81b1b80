//! Relation extraction through the real ONNX Runtime library and the real tokenizer: the demo RE
//! model gives the label scores the Hugging Face `pipeline("text-classification", top_k=None)`
//! gave on the PyTorch model (models/demo-re-gene-disease/golden.json), and, after the demo NER
//! model, relations come out between the mentions of one sentence, with the tagged input the
//! golden file holds.

use std::path::{Path, PathBuf};

use pubmine_annotate::annotator::Annotator;
use pubmine_annotate::model::session::SessionOptions;
use pubmine_annotate::ner::{NerModel, NerOptions};
use pubmine_annotate::re::{ReModel, ReStats};
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
    labels: Vec<LabelScore>,
}

#[derive(Deserialize)]
struct LabelScore {
    label: String,
    score: f32,
}

fn golden() -> Golden {
    let path = model_dir("demo-re-gene-disease").join("golden.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn re_model() -> ReModel {
    require_ort();
    ReModel::open(
        &model_dir("demo-re-gene-disease"),
        None,
        SessionOptions::default(),
    )
    .unwrap()
}

#[test]
fn label_scores_match_the_hugging_face_pipeline() {
    let mut m = re_model();
    let golden = golden();
    assert!(golden.cases.len() >= 5);
    for case in &golden.cases {
        let t = tokenize(&m.dir.tokenizer, &case.text, m.dir.unk_id).unwrap();
        let mut ids = vec![m.dir.cls_id];
        ids.extend(&t.ids);
        ids.push(m.dir.sep_id);
        assert_eq!(ids, case.input_ids, "tokens of {:?}", case.text);
    }
    let texts: Vec<&str> = golden.cases.iter().map(|c| c.text.as_str()).collect();
    // A small budget, so that the cases are spread over several padded batches.
    let mut stats = ReStats::default();
    let probs = m.classify_texts(&texts, 40, &mut stats).unwrap();
    assert!(stats.batches > 1);
    for (case, p) in golden.cases.iter().zip(&probs) {
        for l in &case.labels {
            let k = m.labels.iter().position(|x| *x == l.label).unwrap();
            assert!(
                (p[k] - l.score).abs() < 1e-4,
                "{:?}: label {} scored {} here, {} by the pipeline",
                case.text,
                l.label,
                p[k],
                l.score
            );
        }
    }
}

#[test]
fn relations_between_mentions_of_one_sentence() {
    let re = re_model();
    let opts = NerOptions::default();
    let ner = NerModel::open(&model_dir("demo-ner"), SessionOptions::default(), &opts).unwrap();
    let mut annotator = Annotator::new(vec![ner], &opts).with_relations(vec![re]);
    let refs = annotator.model_refs();
    assert_eq!(refs.last().unwrap().task, "re");
    assert_eq!(refs.last().unwrap().labels, ["association"]);

    // Golden cases 9 (the title), 0 and 1 (the abstract) with names in place of the tags.
    let mut doc = Document::new(SourceKind::Pubmed, "pmid:1".into());
    doc.passages.push(Passage::new(
        PassageKind::Title,
        "BRCA1 and breast cancer.".into(),
    ));
    doc.passages.push(Passage::new(
        PassageKind::Abstract,
        "BRCA1 polymorphisms were associated with an increased risk of breast cancer. \
         No association was found between TP53 polymorphisms and asthma."
            .into(),
    ));
    let found = annotator.annotate_all(&[&doc]).unwrap().remove(0);
    let abstract_mentions: Vec<(&str, &str)> = found
        .mentions
        .iter()
        .filter(|m| m.passage == 1)
        .map(|m| (m.text.as_str(), m.ty.as_str()))
        .collect();
    assert_eq!(
        abstract_mentions,
        [
            ("BRCA1", "Gene"),
            ("breast cancer", "Disease"),
            ("TP53", "Gene"),
            ("asthma", "Disease")
        ]
    );
    // Title: BRCA1 - breast cancer; abstract sentence 1: BRCA1 - breast cancer; sentence 2:
    // TP53 - asthma, below the threshold. No pair crosses a sentence or a passage.
    let st = annotator.stats.re;
    assert_eq!((st.sentences, st.pairs, st.pairs_capped), (3, 3, 0));
    assert_eq!(found.relations.len(), 2, "{:?}", found.relations);
    let r = &found.relations[1];
    let (s, o) = (
        &found.mentions[r.subject as usize],
        &found.mentions[r.object as usize],
    );
    assert_eq!(
        (s.passage, s.text.as_str(), o.text.as_str()),
        (1, "BRCA1", "breast cancer")
    );
    assert_eq!(r.ty, "association");
    assert_eq!(r.model, "demo-re-gene-disease");
    // The tagged sentences are golden cases 9 and 0 exactly, so the scores are the pipeline's.
    let golden = golden();
    let positive = |case: usize| {
        golden.cases[case]
            .labels
            .iter()
            .find(|l| l.label == "1")
            .unwrap()
            .score
    };
    assert!(
        (r.score - positive(0)).abs() < 1e-4,
        "{} vs {}",
        r.score,
        positive(0)
    );
    let title = &found.relations[0];
    assert_eq!(found.mentions[title.subject as usize].passage, 0);
    assert!((title.score - positive(9)).abs() < 1e-4);
}

#[test]
fn settings_are_checked_at_start_up() {
    require_ort();
    let mut s = pubmine_annotate::re::ReSettings::new(&[["Gene", "Disease"]]);
    s.negative = Some("false".into());
    let e = ReModel::open(
        &model_dir("demo-re-gene-disease"),
        Some(s),
        SessionOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("\"false\""), "{e}");
    // A model directory without re.json and no settings given.
    let e = ReModel::open(&model_dir("demo-ner"), None, SessionOptions::default()).unwrap_err();
    assert!(e.to_string().contains("re.json"), "{e}");
}

#[test]
fn long_sentences_are_cut_around_the_pair() {
    let m = re_model();
    let filler = "the cohort was followed for years and ".repeat(30);
    let text = format!("{filler}@GENE$ variants raise the risk of @DISEASE$ in {filler}.");
    let start = text.find("@GENE$").unwrap();
    let end = text.find("@DISEASE$").unwrap() + "@DISEASE$".len();
    let ids = m.input_ids(&text, Some((start, end))).unwrap().unwrap();
    assert_eq!(ids.len(), 126, "128 tokens with [CLS] and [SEP]");
    let (gene, disease) = (
        m.dir.tokenizer.token_to_id("@GENE$").unwrap(),
        m.dir.tokenizer.token_to_id("@DISEASE$").unwrap(),
    );
    let g = ids.iter().position(|&i| i == gene).unwrap();
    let d = ids.iter().position(|&i| i == disease).unwrap();
    // Centred: about as much context on each side.
    assert!(g.abs_diff(ids.len() - 1 - d) <= 1, "{g} {d}");
    // Tags further apart than the model's length: no input.
    let apart = format!("@GENE$ {filler}{filler} @DISEASE$.");
    let end = apart.chars().count() - 1;
    assert_eq!(m.input_ids(&apart, Some((0, end))).unwrap(), None);
}

#[test]
fn eval_on_the_tsv_fixtures() {
    let mut m = re_model();
    let fixtures = model_dir("fixtures");
    for file in ["re.tsv", "re_test.tsv"] {
        let text = std::fs::read_to_string(fixtures.join(file)).unwrap();
        let examples = pubmine_annotate::eval::read_re_tsv(&text).unwrap();
        assert_eq!(examples.len(), 40, "{file}");
        let mut stats = ReStats::default();
        let (s, probs) =
            pubmine_annotate::eval::evaluate_re(&mut m, &examples, 8192, &mut stats).unwrap();
        assert_eq!(probs.len(), 40);
        let positives = examples.iter().filter(|e| e.label == "1").count();
        assert_eq!(s.task, "binary");
        assert_eq!((s.examples, s.true_relations), (40, positives));
        // docs/annotate.md states 1.0: the fixtures are generated as the model's training sentences.
        assert_eq!(s.f1, 1.0, "{file}: {s:?}");
        assert_eq!(stats.pairs, 40);
    }
    // Labels the model does not have are refused.
    let bad = pubmine_annotate::eval::read_re_tsv("@GENE$ and @DISEASE$.\tCPR:3\n").unwrap();
    let e = pubmine_annotate::eval::evaluate_re(&mut m, &bad, 8192, &mut ReStats::default())
        .unwrap_err();
    assert!(e.to_string().contains("CPR:3"), "{e}");
}
