//! `pubmine eval`: entity-level precision, recall and F1 of NER models on a CoNLL-style file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use pubmine_annotate::eval::{evaluate, read_conll};
use pubmine_annotate::ner::{Annotator, NerModel, NerOptions};
use pubmine_annotate::session::{Device, SessionOptions};

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
        /// Model directory; repeat to evaluate models together.
        #[arg(long = "model", required = true)]
        models: Vec<PathBuf>,
        /// The CoNLL file.
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value = "cpu")]
        device: Device,
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
}

pub async fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    tokio::task::spawn_blocking(move || match args.command {
        EvalCommand::Ner {
            models,
            data,
            device,
            threads,
        } => eval_ner(&models, &data, device, threads),
    })
    .await?
}

fn eval_ner(
    models: &[PathBuf],
    data: &PathBuf,
    device: Device,
    threads: usize,
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(data)
        .with_context(|| format!("failed to read {}", data.display()))?;
    let sentences = read_conll(&text).with_context(|| format!("in {}", data.display()))?;
    let opts = NerOptions::default();
    let session = SessionOptions {
        device,
        intra_threads: threads,
    };
    let models = models
        .iter()
        .map(|m| {
            NerModel::open(m, session, &opts)
                .with_context(|| format!("failed to open model {}", m.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut annotator = Annotator::new(models, &opts);
    let (total, per_type) = evaluate(&mut annotator, &sentences)?;
    println!(
        "{}",
        serde_json::json!({
            "sentences": sentences.len(),
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
