//! `pubmine annotate`: NER over documents, and relation extraction between the mentions found
//! when RE models are given. With `--input`, JSON lines from `ingest parse` (a file or `-` for
//! stdin) to annotation JSON lines on stdout, with no broker: the same worker, over the
//! JSON-lines transport (`pubmine_stream::jsonl`).

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use pubmine_annotate::annotator::Annotator;
use pubmine_annotate::model::open::{ModelSpec, open_annotator};
use pubmine_annotate::model::session::{Device, SessionOptions};
use pubmine_annotate::ner::{NerInputs, NerOptions, NerSettings};
use pubmine_annotate::normalize::VocabSpec;
use pubmine_annotate::worker::WorkerConfig;
use pubmine_stream::{shutdown, topics};

#[derive(Debug, Args)]
pub struct AnnotateArgs {
    #[command(flatten)]
    pub models: ModelArgs,
    /// Documents as JSON lines (`pubmine ingest parse` output; `-` reads stdin): annotations
    /// are printed, no broker used. Without it, the worker consumes the documents topic.
    #[arg(long)]
    input: Option<PathBuf>,
    /// The cluster (worker mode).
    #[command(flatten)]
    broker: super::BrokerOpts,
    /// Consumer group of the annotate workers.
    #[arg(
        long,
        env = "PUBMINE_ANNOTATE_GROUP",
        default_value = "pubmine-annotate"
    )]
    group: String,
    /// Topic documents are read from.
    #[arg(long, env = "PUBMINE_DOCUMENTS_TOPIC", default_value = topics::DOCUMENTS)]
    input_topic: String,
    /// Topic annotations are written to.
    #[arg(long, env = "PUBMINE_ANNOTATIONS_TOPIC", default_value = topics::ANNOTATIONS)]
    output_topic: String,
    /// Topic records that cannot be annotated go to.
    #[arg(long, env = "PUBMINE_DEAD_LETTER_TOPIC", default_value = topics::DEAD_LETTER)]
    dead_letter_topic: String,
    /// How long a batch waits to fill after its first document (worker mode).
    #[arg(long, default_value = "200ms", value_parser = super::parse_duration)]
    linger: std::time::Duration,
    /// Documents annotated together (their windows are batched together).
    #[arg(long, default_value_t = 32)]
    docs_per_batch: usize,
    #[command(flatten)]
    metrics: super::MetricsOpts,
}

/// The models to run and how: shared by every command that annotates.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// A NER model directory (model.onnx, config.json, tokenizer.json or vocab.txt); repeat for
    /// several models (BioBERT ships one per entity type; a multi-head model finds several types
    /// in one pass). `DIR=TYPE` names the entity type of a model whose labels are bare B/I/O
    /// (single-type BioBERT checkpoints); `DIR/HEAD` runs one head of a multi-head model.
    #[arg(
        long = "model",
        env = "PUBMINE_NER_MODELS",
        value_delimiter = ',',
        required = true
    )]
    models: Vec<PathBuf>,
    /// A relation-extraction model directory (sequence classification, BioBERT-style tagged
    /// input), run on the mentions the NER models find; repeatable. Its settings (entity type
    /// pairs, tags, negative label, threshold, ...) are read from DIR/re.json, or from FILE with
    /// `DIR=FILE`.
    #[arg(long = "re-model", env = "PUBMINE_RE_MODELS", value_delimiter = ',')]
    re_models: Vec<PathBuf>,
    /// cpu, cuda or cuda:N (CUDA needs the `cuda` build feature and onnxruntime-gpu).
    #[arg(long, env = "PUBMINE_DEVICE", default_value = "cpu")]
    device: Device,
    /// ONNX Runtime threads per inference.
    #[arg(long, env = "PUBMINE_INTRA_THREADS", default_value_t = 2)]
    threads: usize,
    #[command(flatten)]
    inputs: InputArgs,
    /// Padded tokens per inference batch.
    #[arg(long, default_value_t = 8192)]
    batch_tokens: usize,
    /// Largest share of a window's token slots that may be padding in its batch: windows of
    /// very different lengths go to different batches. 1 batches by --batch-tokens alone (fuller
    /// batches, which a GPU may prefer).
    #[arg(long, default_value_t = pubmine_annotate::ner::DEFAULT_MAX_PADDING, value_parser = share)]
    max_padding: f64,
    /// The most characters of one document annotated (all its passages); a larger document is
    /// a dead letter with that reason, never a process out of memory (annotate needs about 36
    /// bytes a character of a document, past the models' own memory).
    #[arg(long, env = "PUBMINE_MAX_DOCUMENT_CHARS",
          default_value_t = pubmine_annotate::ner::DEFAULT_MAX_DOCUMENT_CHARS as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_document_chars: u64,
    /// Leave abbreviations alone: by default each document's definitions ("long form (SF)") are
    /// found, and a short form's occurrences take its long form's type (those the models missed
    /// become mentions of the model `abbreviation`).
    #[arg(long, env = "PUBMINE_NO_ABBREVIATIONS")]
    no_abbreviations: bool,
    /// A vocabulary directory made by `pubmine vocab import`, to normalize mentions to concepts
    /// (MeSH, NCBI Gene, NCBI Taxonomy ids); repeat for several, tried in order. Without it the
    /// compiled-in default is used: MeSH descriptors by their preferred labels.
    #[arg(
        long = "vocab",
        env = "PUBMINE_VOCABS",
        value_delimiter = ',',
        conflicts_with = "no_vocab"
    )]
    vocabs: Vec<PathBuf>,
    /// Give mentions no concepts.
    #[arg(long, env = "PUBMINE_NO_VOCAB")]
    no_vocab: bool,
    #[command(flatten)]
    fuzzy: FuzzyArgs,
}

/// The fallback matcher of normalization: shared by every command that normalizes.
#[derive(Debug, Args)]
pub struct FuzzyArgs {
    /// Least similarity (0 to 1, character trigrams) at which a disease or chemical mention that
    /// no vocabulary name matches takes the concept of the most similar name.
    #[arg(long = "fuzzy-threshold", env = "PUBMINE_FUZZY_THRESHOLD",
          default_value_t = pubmine_annotate::normalize::DEFAULT_FUZZY_THRESHOLD,
          value_parser = share, conflicts_with = "no_fuzzy")]
    fuzzy_threshold: f64,
    /// Exact names (and their spelling, numeral and word-order variants) only: no fallback
    /// matcher.
    #[arg(long, env = "PUBMINE_NO_FUZZY")]
    no_fuzzy: bool,
}

impl FuzzyArgs {
    pub fn threshold(&self) -> Option<f64> {
        (!self.no_fuzzy).then_some(self.fuzzy_threshold)
    }
}

impl ModelArgs {
    /// Opens the models (pubmine_annotate::model::open).
    pub fn open(&self) -> anyhow::Result<Annotator> {
        let spec = ModelSpec {
            ner: self.models.clone(),
            re: self.re_models.clone(),
            options: NerOptions {
                batch_tokens: self.batch_tokens,
                max_padding: self.max_padding,
                max_document_chars: self.max_document_chars as usize,
                ..self.inputs.options()
            },
            session: SessionOptions {
                device: self.device,
                intra_threads: self.threads,
            },
            vocab: if self.no_vocab {
                VocabSpec::Off
            } else {
                VocabSpec::dirs_or_default(self.vocabs.clone())
            },
            fuzzy_threshold: self.fuzzy.threshold(),
        };
        Ok(open_annotator(&spec)?.with_abbreviations(!self.no_abbreviations))
    }
}

/// What the NER models are shown, over each model's own `ner.json`: shared by every command that
/// runs NER models.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Tokens per model input, [CLS] and [SEP] included, for every model, or `NAME=N` for the
    /// model whose directory is named NAME; repeatable (default: the model's ner.json, else
    /// 128, the length BioBERT's NER checkpoints are fine-tuned on).
    #[arg(long = "max-len", value_parser = per_model::<usize>)]
    max_len: Vec<(Option<String>, usize)>,
    /// What a model is shown: `sentences` (each sentence an input), `packed-sentences` (whole
    /// sentences packed while they fit) or `passages` (windows over whole passages, for a
    /// checkpoint trained on documents); `NAME=MODE` for one model; repeatable (default: the
    /// model's ner.json, else sentences).
    #[arg(long = "ner-inputs", value_parser = per_model::<NerInputs>)]
    ner_inputs: Vec<(Option<String>, NerInputs)>,
    /// Tokens shared by consecutive windows of a text longer than an input (default: a
    /// quarter of the input).
    #[arg(long)]
    stride: Option<usize>,
}

impl InputArgs {
    /// The options these arguments give, with the default batching.
    pub fn options(&self) -> NerOptions {
        let mut o = NerOptions {
            stride: self.stride,
            ..NerOptions::default()
        };
        let mut set = |name: &Option<String>, f: &dyn Fn(&mut NerSettings)| match name {
            None => f(&mut o.all),
            Some(n) => {
                let mut s = NerSettings::default();
                f(&mut s);
                o.per_model.push((n.clone(), s));
            }
        };
        for (name, n) in &self.max_len {
            set(name, &|s| s.max_len = Some(*n));
        }
        for (name, i) in &self.ner_inputs {
            set(name, &|s| s.inputs = Some(*i));
        }
        o
    }
}

/// `VALUE` or `NAME=VALUE`.
fn per_model<T: std::str::FromStr>(s: &str) -> Result<(Option<String>, T), String>
where
    T::Err: std::fmt::Display,
{
    let (name, v) = match s.rsplit_once('=') {
        Some((n, v)) if !n.is_empty() => (Some(n.to_string()), v),
        _ => (None, s),
    };
    v.parse::<T>()
        .map(|v| (name, v))
        .map_err(|e| format!("{v:?}: {e}"))
}

/// A share between 0 and 1.
fn share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(format!(
            "{s:?} is not a share between 0 and 1 (such as 0.1)"
        )),
    }
}

pub async fn run(args: AnnotateArgs) -> anyhow::Result<ExitCode> {
    pubmine_annotate::faults::from_env().map_err(anyhow::Error::msg)?;
    match args.input.clone() {
        Some(input) => annotate_lines(args, input).await,
        None => worker(args).await,
    }
}

async fn worker(args: AnnotateArgs) -> anyhow::Result<ExitCode> {
    let health = args.metrics.start().await?;
    let kafka = args
        .broker
        .config("use --input FILE to annotate JSON lines without one")?;
    health.broker(&kafka)?;
    let loaded = health.models();
    let annotator = args.models.open()?;
    loaded();
    kafka
        .ensure_topics(&[&args.output_topic, &args.dead_letter_topic], 6, 1)
        .await
        .context("failed to create the topics")?;
    let consumer = kafka.consumer(&args.group, &[&args.input_topic])?;
    health.lag(&consumer)?;
    let producer = kafka.producer()?;
    let cfg = WorkerConfig {
        output_topic: args.output_topic.clone(),
        dead_letter_topic: args.dead_letter_topic.clone(),
        batch_docs: args.docs_per_batch,
        linger: args.linger,
        tokens: None,
    };
    tracing::info!(group = %args.group, input = %args.input_topic, output = %args.output_topic, "annotate worker started");
    let token = shutdown::on_signal();
    let stats = pubmine_annotate::worker::run(&consumer, &producer, annotator, &cfg, &token)
        .await
        .inspect_err(|e| {
            use pubmine_stream::error::Classify as _;
            tracing::error!(class = %e.class(), "the annotate worker stops: nothing past the last finished batch is committed");
        })
        .context("the annotate worker failed")?;
    tracing::info!(
        documents = stats.documents,
        tombstones = stats.tombstones,
        dead_lettered = stats.dead_lettered,
        mentions = stats.mentions,
        relations = stats.relations,
        "annotate worker stopped"
    );
    Ok(ExitCode::SUCCESS)
}

/// `--input`: the annotate worker over the JSON-lines transport (lines of `input` in, lines on
/// stdout out, dead letters as `error:` lines on stderr), the same stage as over Kafka.
async fn annotate_lines(args: AnnotateArgs, input: PathBuf) -> anyhow::Result<ExitCode> {
    use pubmine_stream::jsonl::{JsonLinesConsumer, JsonLinesProducer};
    use pubmine_stream::transport::Producer as _;
    let annotator = args.models.open()?;
    let started = std::time::Instant::now();
    let reader: Box<dyn BufRead + Send> = if input.as_os_str() == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(&input)
                .with_context(|| format!("failed to open {}", input.display()))?,
        ))
    };
    let consumer = JsonLinesConsumer::new(&input.display().to_string(), reader);
    let cfg = WorkerConfig {
        output_topic: args.output_topic.clone(),
        dead_letter_topic: args.dead_letter_topic.clone(),
        batch_docs: args.docs_per_batch,
        linger: args.linger,
        tokens: None,
    };
    let producer = JsonLinesProducer::new(
        &cfg.dead_letter_topic,
        Box::new(std::io::BufWriter::new(std::io::stdout())),
        Box::new(std::io::stderr()),
    );
    let token = shutdown::on_signal();
    let stats = pubmine_annotate::worker::run(&consumer, &producer, annotator, &cfg, &token)
        .await
        .context("annotation failed")?;
    producer.flush().await?;
    let seconds = started.elapsed().as_secs_f64();
    let st = stats.annotator;
    tracing::info!(
        documents = st.documents,
        tokens = st.tokens,
        windows = st.windows,
        padded_tokens = st.padded_tokens,
        batches = st.batches,
        seconds,
        tokens_per_s = st.tokens as f64 / seconds,
        inference_seconds = st.inference_seconds,
        dead_lettered = stats.dead_lettered,
        "annotated"
    );
    if !args.models.re_models.is_empty() {
        let re = st.re;
        tracing::info!(
            sentences = re.sentences,
            pairs = re.pairs,
            pairs_capped = re.pairs_capped,
            pairs_too_long = re.pairs_too_long,
            relations = re.relations,
            batches = re.batches,
            inference_seconds = re.inference_seconds,
            "relations extracted"
        );
    }
    Ok(if stats.dead_lettered == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
