//! A model with one encoder and a head per entity type (`models/ner-multi`, trained by
//! `models/train_ner_multi.py`): one pass finds every type, each head's mentions name the model
//! and the head, a head opened alone (`DIR/HEAD`) finds exactly what it finds among the others,
//! and a `ner.json` whose heads disagree with the graph's labels is refused at start-up.

use std::path::{Path, PathBuf};

use pubmine_annotate::annotator::Annotator;
use pubmine_annotate::model::session::SessionOptions;
use pubmine_annotate::ner::{NerModel, NerOptions};
use pubmine_stream::record::{Document, Mention, Passage, PassageKind, SourceKind};

fn multi() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/ner-multi")
}

fn require_ort() {
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some(),
        "ORT_DYLIB_PATH is not set: run scripts/test.sh, or export ORT_DYLIB_PATH=$(scripts/install-onnxruntime.sh)"
    );
}

fn docs() -> Vec<Document> {
    [
        "Cisplatin-induced nephrotoxicity was studied in mice lacking the BRCA1 gene.",
        "Patients with Parkinson's disease were given levodopa; hallucinations and TNF-alpha \
         levels were recorded. Escherichia coli infections in rats were treated with ampicillin.",
    ]
    .iter()
    .enumerate()
    .map(|(i, text)| {
        let mut d = Document::new(SourceKind::Pubmed, format!("pmid:{}", i + 1));
        d.passages
            .push(Passage::new(PassageKind::Abstract, (*text).into()));
        d
    })
    .collect()
}

fn annotate(model: NerModel) -> Vec<Mention> {
    let docs = docs();
    let refs: Vec<&Document> = docs.iter().collect();
    let mut a = Annotator::new(vec![model], &NerOptions::default());
    a.annotate(&refs).unwrap().into_iter().flatten().collect()
}

#[test]
fn one_pass_finds_every_type_and_each_head_names_itself() {
    require_ort();
    let (session, opts) = (SessionOptions::default(), NerOptions::default());
    let m = NerModel::open(&multi(), session, &opts).unwrap();
    let heads: Vec<&str> = m.heads.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(
        heads,
        [
            "ner-multi/disease",
            "ner-multi/chemical",
            "ner-multi/gene",
            "ner-multi/species"
        ]
    );
    assert_eq!(m.types(), ["Disease", "Chemical", "GENE", "Species"]);
    let refs: Vec<_> = m.model_refs().collect();
    assert_eq!(refs.len(), 4);
    assert!(refs.iter().all(|r| r.hash == m.dir.hash && r.task == "ner"));
    assert_eq!(refs[1].labels, ["Chemical"]);

    let all = annotate(m);
    let found = |ty: &str, text: &str| {
        all.iter().any(|x| {
            x.ty == ty && x.text == text && x.model == format!("ner-multi/{}", ty.to_lowercase())
        })
    };
    for (ty, text) in [
        ("Chemical", "Cisplatin"),
        ("Disease", "nephrotoxicity"),
        ("Species", "mice"),
        ("Chemical", "levodopa"),
        ("Disease", "Parkinson's disease"),
    ] {
        assert!(found(ty, text), "no {ty} {text:?} among {all:#?}");
    }
    assert!(all.iter().any(|x| x.ty == "GENE"), "no gene among {all:#?}");
    for x in &all {
        assert_eq!(
            x.model,
            format!("ner-multi/{}", x.ty.to_lowercase()),
            "{x:?}"
        );
    }

    // each head alone: its mentions among all of them, the same spans and scores
    for head in ["disease", "chemical", "gene", "species"] {
        let one = NerModel::open(&multi().join(head), session, &opts).unwrap();
        assert_eq!(one.heads.len(), 1);
        let alone = annotate(one);
        let among: Vec<Mention> = all
            .iter()
            .filter(|x| x.model == format!("ner-multi/{head}"))
            .cloned()
            .collect();
        assert!(!alone.is_empty(), "head {head} found nothing");
        assert_eq!(alone, among, "head {head}");
    }
}

#[test]
fn heads_that_disagree_with_the_graph_are_refused_at_start_up() {
    require_ort();
    let tmp = std::env::temp_dir().join(format!("pubmine-multi-head-{}", std::process::id()));
    let dir = tmp.join("ner-multi");
    std::fs::create_dir_all(&dir).unwrap();
    for f in std::fs::read_dir(multi()).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), dir.join(f.file_name())).unwrap();
    }
    let (session, opts) = (SessionOptions::default(), NerOptions::default());
    let open_with = |ner_json: &str| {
        std::fs::write(dir.join("ner.json"), ner_json).unwrap();
        NerModel::open(&dir, session, &opts)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    // the heads as trained: opens
    let own = std::fs::read_to_string(multi().join("ner.json")).unwrap();
    open_with(&own).unwrap();
    // one head short of the graph's twelve labels
    let err = open_with(
        r#"{"heads": [{"name": "disease", "labels": [0, 3]}, {"name": "chemical", "labels": [3, 6]},
                      {"name": "gene", "labels": [6, 9]}]}"#,
    )
    .unwrap_err();
    assert!(err.contains("ner.json"), "{err}");
    assert!(
        err.contains("id2label (and the graph's logits) have 12"),
        "{err}"
    );
    // ranges that overlap
    let err = open_with(
        r#"{"heads": [{"name": "disease", "labels": [0, 3]}, {"name": "chemical", "labels": [2, 12]}]}"#,
    )
    .unwrap_err();
    assert!(err.contains("head \"chemical\" has [2, 12)"), "{err}");
    // no heads at all for a graph with four O labels
    let err = open_with(r#"{"max_len": 128}"#).unwrap_err();
    assert!(err.contains("4 O labels"), "{err}");
    let _ = std::fs::remove_dir_all(&tmp);
}
