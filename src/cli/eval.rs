//! `pubmine eval`: entity-level precision, recall and F1 of NER models on a CoNLL-style file, and
//! of RE models on BioBERT's RE TSV files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use pubmine_annotate::eval::corpus::read_pubtator;
use pubmine_annotate::eval::norm::score_norm;
use pubmine_annotate::eval::{evaluate, evaluate_re, read_conll, read_re_tsv};
use pubmine_annotate::model::open::{ModelSpec, open_annotator};
use pubmine_annotate::model::session::{Device, SessionOptions};
use pubmine_annotate::ner::{NerInputs, NerOptions};
use pubmine_annotate::normalize::{Normalizer, VocabSpec};
use pubmine_annotate::re::{ReModel, ReSettings, ReStats, split_model_arg};

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(subcommand)]
    command: EvalCommand,
}

#[derive(Debug, Subcommand)]
enum EvalCommand {
    /// Entity-level P/R/F1 (conlleval/seqeval semantics) of NER models on a CoNLL file
    /// (`token<TAB>tag`, blank line between sentences), as in the BioBERT NER datasets.
    Ner {
        /// Model directory (`DIR=TYPE` for a model whose labels are bare B/I/O, `DIR/HEAD` for
        /// one head of a multi-head model); repeat to evaluate models together.
        #[arg(long = "model", required = true)]
        models: Vec<PathBuf>,
        /// The CoNLL file.
        #[arg(long)]
        data: PathBuf,
        /// Join consecutive sentences into passages of at least this many words (the file's
        /// tokens), annotated as any passage is: split into sentences again by pubmine, cut
        /// into inputs by the model's settings. Without it each sentence is one input, as the
        /// models were trained.
        #[arg(long)]
        join_words: Option<usize>,
        #[command(flatten)]
        inputs: super::annotate::InputArgs,
        /// Padded tokens per inference batch (as annotate's). With dynamic int8 quantization a
        /// model's logits depend a little on the other inputs of its batch; 1 runs each input
        /// alone, reproducibly.
        #[arg(long, default_value_t = 8192)]
        batch_tokens: usize,
        #[arg(long, default_value = "cpu")]
        device: Device,
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
    /// Normalization on a PubTator file whose mentions carry concept ids (the NCBI disease
    /// corpus, BC5CDR): accuracy of the id on the gold spans and, with --model, span-and-id
    /// precision, recall and F1 of the models' mentions end to end.
    Norm {
        /// The PubTator file.
        #[arg(long)]
        data: PathBuf,
        /// Vocabulary directories, tried in order (default: the compiled-in MeSH labels).
        #[arg(long = "vocab")]
        vocabs: Vec<PathBuf>,
        #[command(flatten)]
        fuzzy: super::annotate::FuzzyArgs,
        /// NER model directories, for the end-to-end figures; repeatable.
        #[arg(long = "model")]
        models: Vec<PathBuf>,
        #[arg(long, default_value = "cpu")]
        device: Device,
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
    /// The annotator on a PubTator corpus (BioCreative V CDR), as that task measures systems:
    /// per entity type, mentions on exact spans and concepts per document (the DNER measure);
    /// per relation type, concept pairs per document (the CID measure), end to end and on the
    /// curators' mentions. Takes the models and vocabularies as `run` and `annotate` do.
    Pubtator {
        #[command(flatten)]
        models: super::annotate::ModelArgs,
        /// The PubTator file (`ID|t|`, `ID|a|`, mention lines, `ID<TAB>CID<TAB>ID1<TAB>ID2`).
        #[arg(long)]
        data: PathBuf,
        /// `CORPUS_TYPE=MODEL_TYPE`: a relation type the models name otherwise than the corpus
        /// does (`CID=induces`); repeatable. Other types are matched by name, ignoring case.
        #[arg(long = "relation-name", value_parser = relation_name)]
        relation_names: Vec<(String, String)>,
        /// Documents annotated together.
        #[arg(long, default_value_t = 32)]
        docs_per_batch: usize,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Write the mentions found but not curated and those curated but not found here, one
        /// JSON object a line, for error analysis.
        #[arg(long)]
        errors: Option<PathBuf>,
    },
    /// Precision, recall and F1 of an RE model on BioBERT's RE TSV format (`sentence<TAB>label`
    /// with the tags in the sentence; test files: an `index<TAB>sentence<TAB>label` header), as
    /// its re_eval.py computes them: the positive class of a binary task, micro-averaged over
    /// the relation classes (all but the negative label) otherwise.
    Re {
        /// Model directory; its settings (tags, negative label, max_len) from DIR/re.json, or
        /// from FILE with DIR=FILE.
        #[arg(long)]
        model: PathBuf,
        /// The TSV file.
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value = "cpu")]
        device: Device,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Padded tokens per inference batch.
        #[arg(long, default_value_t = 8192)]
        batch_tokens: usize,
        /// Also write each example's label probabilities here, tab-separated in the model's
        /// label order, one line per example: BioBERT's test_results.tsv, which its re_eval.py
        /// reads.
        #[arg(long)]
        predictions: Option<PathBuf>,
    },
}

pub async fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    tokio::task::spawn_blocking(move || match args.command {
        EvalCommand::Ner {
            models,
            data,
            join_words,
            inputs,
            batch_tokens,
            device,
            threads,
        } => eval_ner(
            &models,
            &data,
            join_words,
            NerOptions {
                batch_tokens,
                ..inputs.options()
            },
            device,
            threads,
        ),
        EvalCommand::Norm {
            data,
            vocabs,
            fuzzy,
            models,
            device,
            threads,
        } => eval_norm(&data, vocabs, fuzzy.threshold(), &models, device, threads),
        EvalCommand::Pubtator {
            models,
            data,
            relation_names,
            docs_per_batch,
            json,
            errors,
        } => eval_pubtator(
            &models,
            &data,
            &relation_names,
            docs_per_batch,
            json,
            errors.as_deref(),
        ),
        EvalCommand::Re {
            model,
            data,
            device,
            threads,
            batch_tokens,
            predictions,
        } => eval_re(
            &model,
            &data,
            device,
            threads,
            batch_tokens,
            predictions.as_deref(),
        ),
    })
    .await?
}

/// The data file `data`, parsed by `parse`; an error names the file (and the parser its line).
fn read_data<T, E>(data: &Path, parse: impl Fn(&str) -> Result<T, E>) -> anyhow::Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let text = std::fs::read_to_string(data)
        .with_context(|| format!("failed to read {}", data.display()))?;
    parse(&text).with_context(|| format!("in {}", data.display()))
}

fn relation_name(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((corpus, model)) if !corpus.is_empty() && !model.is_empty() => {
            Ok((corpus.to_owned(), model.to_owned()))
        }
        _ => Err(format!("expected CORPUS_TYPE=MODEL_TYPE, got {arg:?}")),
    }
}

fn eval_pubtator(
    models: &super::annotate::ModelArgs,
    data: &Path,
    relation_names: &[(String, String)],
    docs_per_batch: usize,
    json: bool,
    errors: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let gold = read_data(data, read_pubtator)?;
    let mut annotator = models.open()?;
    let report = pubmine_annotate::eval::pubtator::evaluate(
        &mut annotator,
        &gold,
        relation_names,
        docs_per_batch,
    )?;
    if let Some(path) = errors {
        let mut out = String::new();
        for e in &report.mention_errors {
            out.push_str(&serde_json::to_string(e)?);
            out.push('\n');
        }
        std::fs::write(path, out).with_context(|| format!("failed to write {}", path.display()))?;
    }
    if json {
        println!(
            "{}",
            serde_json::json!({"data": data, "documents": gold.len(), "report": report})
        );
        return Ok(ExitCode::SUCCESS);
    }
    let s = &report.scores;
    println!(
        "{} documents of {}, annotated in {:.1} s",
        s.documents,
        data.display(),
        report.seconds
    );
    println!(
        "{:<10} {:<34} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}",
        "type", "measure", "P", "R", "F1", "gold", "found", "right"
    );
    let row = |ty: &str, what: &str, x: &pubmine_annotate::eval::Score| {
        println!(
            "{:<10} {:<34} {:>6.4} {:>6.4} {:>6.4} {:>6} {:>6} {:>6}",
            ty, what, x.precision, x.recall, x.f1, x.true_entities, x.predicted, x.correct
        );
    };
    for (ty, t) in &s.types {
        row(ty, "mentions, exact spans", &t.mentions);
        row(ty, "concepts per document", &t.concepts);
    }
    for (ty, r) in &s.relations {
        row(ty, "concept pairs per document", r);
    }
    for (ty, r) in &report.relations_on_curated_mentions {
        row(ty, "pairs, on the curators' mentions", r);
    }
    if !s.unscored_types.is_empty() {
        println!(
            "not scored (the corpus does not annotate them): {}",
            s.unscored_types.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn eval_norm(
    data: &Path,
    vocabs: Vec<PathBuf>,
    fuzzy_threshold: Option<f64>,
    models: &[PathBuf],
    device: Device,
    threads: usize,
) -> anyhow::Result<ExitCode> {
    let gold = read_data(data, read_pubtator)?;
    let scores = if models.is_empty() {
        let normalizer = Normalizer::open(&vocabs)
            .context("failed to load the vocabularies")?
            .with_fuzzy(fuzzy_threshold);
        score_norm(&normalizer, &gold, None)
    } else {
        let mut annotator = open_annotator(&ModelSpec {
            ner: models.to_vec(),
            re: Vec::new(),
            options: NerOptions::default(),
            session: SessionOptions {
                device,
                intra_threads: threads,
            },
            vocab: VocabSpec::dirs_or_default(vocabs),
            fuzzy_threshold,
        })?
        .with_abbreviations(true);
        let docs: Vec<_> = gold.iter().map(|g| g.document()).collect();
        let mut predicted = Vec::with_capacity(docs.len());
        for chunk in docs.chunks(64) {
            let refs: Vec<_> = chunk.iter().collect();
            for found in annotator.annotate_all(&refs)? {
                predicted.push(found.mentions);
            }
        }
        let normalizer = annotator.normalizer().expect("opened with vocabularies");
        score_norm(normalizer, &gold, Some(&predicted))
    };
    println!(
        "{}",
        serde_json::json!({"data": data, "documents": gold.len(), "scores": scores})
    );
    Ok(ExitCode::SUCCESS)
}

fn eval_ner(
    models: &[PathBuf],
    data: &Path,
    join_words: Option<usize>,
    mut opts: NerOptions,
    device: Device,
    threads: usize,
) -> anyhow::Result<ExitCode> {
    let sentences = read_data(data, read_conll)?;
    if join_words.is_none() && opts.all.inputs.is_none() {
        // a passage is one gold sentence: shown whole, not split again
        opts.all.inputs = Some(NerInputs::Passages);
    }
    // Opened as every command opens its models (the same checks of per-model settings).
    let mut annotator = open_annotator(&ModelSpec {
        ner: models.to_vec(),
        re: Vec::new(),
        options: opts,
        session: SessionOptions {
            device,
            intra_threads: threads,
        },
        vocab: VocabSpec::Off,
        fuzzy_threshold: None,
    })?;
    let (total, per_type) = evaluate(&mut annotator, &sentences, join_words.unwrap_or(0))?;
    let model_inputs: Vec<serde_json::Value> = annotator
        .models
        .iter()
        .map(|m| serde_json::json!({"model": m.dir.name, "max_len": m.max_len(), "inputs": m.inputs}))
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "sentences": sentences.len(),
            "join_words": join_words,
            "models": model_inputs,
            "tokens": annotator.stats.tokens,
            "inputs": annotator.stats.windows,
            "padded_tokens": annotator.stats.padded_tokens,
            "inference_seconds": annotator.stats.inference_seconds,
            "precision": total.precision,
            "recall": total.recall,
            "f1": total.f1,
            "true_entities": total.true_entities,
            "predicted": total.predicted,
            "correct": total.correct,
            "per_type": per_type,
        })
    );
    Ok(ExitCode::SUCCESS)
}

fn eval_re(
    model: &std::path::Path,
    data: &std::path::Path,
    device: Device,
    threads: usize,
    batch_tokens: usize,
    predictions: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let examples = read_data(data, read_re_tsv)?;
    let (dir, settings_file) = split_model_arg(model);
    let settings = settings_file
        .map(|f| ReSettings::read(&f))
        .transpose()
        .context("failed to read the RE settings")?;
    let session = SessionOptions {
        device,
        intra_threads: threads,
    };
    let mut m = ReModel::open(&dir, settings, session)
        .with_context(|| format!("failed to open RE model {}", dir.display()))?;
    let mut stats = ReStats::default();
    let started = std::time::Instant::now();
    let (score, probs) = evaluate_re(&mut m, &examples, batch_tokens, &mut stats)
        .with_context(|| format!("failed to evaluate on {}", data.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some(path) = predictions {
        let mut tsv = String::new();
        for p in &probs {
            let cols: Vec<String> = p.iter().map(|x| x.to_string()).collect();
            tsv.push_str(&cols.join("\t"));
            tsv.push('\n');
        }
        std::fs::write(path, tsv).with_context(|| format!("failed to write {}", path.display()))?;
    }
    let mut out = serde_json::to_value(&score)?;
    out["model"] = m.dir.name.clone().into();
    out["negative"] = m.labels[m.negative].clone().into();
    out["seconds"] = seconds.into();
    out["pairs_per_s"] = (examples.len() as f64 / seconds.max(1e-9)).into();
    out["inference_seconds"] = stats.inference_seconds.into();
    out["padded_tokens"] = stats.padded_tokens.into();
    out["tokens"] = stats.tokens.into();
    println!("{out}");
    Ok(ExitCode::SUCCESS)
}
