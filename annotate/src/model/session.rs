//! ONNX Runtime: one environment per process, loaded from the library `ORT_DYLIB_PATH` names
//! (the `load-dynamic` build of ort), and one session per model, checked against its
//! `config.json` at start-up. All ort calls of the project live in this file.

use std::path::Path;
use std::sync::OnceLock;

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;

use crate::model::ModelDir;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(
        "ONNX Runtime library not configured: set ORT_DYLIB_PATH to libonnxruntime.so (scripts/install-onnxruntime.sh installs it and prints the path)"
    )]
    NoLibrary,
    #[error("failed to load ONNX Runtime from {path}: {reason}")]
    Load { path: String, reason: String },
    #[error("{path}: {reason}")]
    Model { path: String, reason: String },
    #[error("inference failed: {0}")]
    Run(String),
    #[error("device {0:?} is not available in this build (cpu{1})")]
    Device(String, &'static str),
}

/// Where inference runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Cpu,
    /// CUDA device N (needs the `cuda` feature and the onnxruntime-gpu library).
    Cuda(i32),
}

impl std::str::FromStr for Device {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cpu" => Ok(Device::Cpu),
            "cuda" => Ok(Device::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(Device::Cuda)
                .ok_or_else(|| format!("{s:?} is not a device: cpu, cuda or cuda:N")),
        }
    }
}

/// Session settings.
#[derive(Debug, Clone, Copy)]
pub struct SessionOptions {
    pub device: Device,
    /// Threads of one inference (ONNX Runtime's intra-op pool).
    pub intra_threads: usize,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            device: Device::Cpu,
            intra_threads: 1,
        }
    }
}

static ENV: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

/// The process's ONNX Runtime environment, made on first use from `ORT_DYLIB_PATH`.
fn environment() -> Result<&'static ort::environment::Environment, SessionError> {
    let path = std::env::var("ORT_DYLIB_PATH").map_err(|_| SessionError::NoLibrary)?;
    let env = ENV.get_or_init(|| {
        if !Path::new(&path).exists() {
            return Err(format!("{path} does not exist"));
        }
        ort::init_from(&path)
            .map_err(|e| e.to_string())?
            .with_name("pubmine")
            .build()
            .map_err(|e| e.to_string())
    });
    env.as_ref().map_err(|reason| SessionError::Load {
        path,
        reason: reason.clone(),
    })
}

/// An inference session over a BERT-family model taking `input_ids`, `attention_mask` and
/// (when the graph has it) `token_type_ids`, giving `logits` (float32, or float16 widened to
/// f32).
pub struct ModelSession {
    session: Session,
    token_type_ids: bool,
    /// Size of the last output dimension (labels), checked against `id2label`.
    pub n_labels: usize,
    /// Whether the graph's `logits` are float16 (`run` widens them to f32).
    pub logits_f16: bool,
}

impl std::fmt::Debug for ModelSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelSession")
            .field("n_labels", &self.n_labels)
            .finish_non_exhaustive()
    }
}

impl ModelSession {
    /// Opens the model's `model.onnx` and checks its inputs and outputs against `config.json`.
    pub fn open(model: &ModelDir, opts: SessionOptions) -> Result<Self, SessionError> {
        let env = environment()?;
        let path = model.onnx_path();
        let bad = |reason: String| SessionError::Model {
            path: path.display().to_string(),
            reason,
        };
        let mut builder = Session::builder(env)
            .map_err(|e| bad(e.to_string()))?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(|e| bad(e.to_string()))?
            .with_intra_threads(opts.intra_threads.max(1))
            .map_err(|e| bad(e.to_string()))?;
        match opts.device {
            Device::Cpu => {}
            #[cfg(feature = "cuda")]
            Device::Cuda(n) => {
                builder = builder
                    .with_execution_providers([ort::ep::CUDA::default()
                        .with_device_id(n)
                        .build()
                        .error_on_failure()])
                    .map_err(|e| bad(format!("CUDA device {n}: {e}")))?;
            }
            #[cfg(not(feature = "cuda"))]
            Device::Cuda(n) => {
                return Err(SessionError::Device(
                    format!("cuda:{n}"),
                    "; build with --features cuda",
                ));
            }
        }
        let session = builder
            .commit_from_file(&path)
            .map_err(|e| bad(format!("failed to load: {e}")))?;
        let names: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
        for n in &names {
            if !matches!(*n, "input_ids" | "attention_mask" | "token_type_ids") {
                return Err(bad(format!(
                    "unexpected input {n:?}: a BERT-family export takes input_ids, attention_mask and token_type_ids"
                )));
            }
        }
        if !names.contains(&"input_ids") || !names.contains(&"attention_mask") {
            return Err(bad(format!(
                "inputs are {names:?}; input_ids and attention_mask are needed"
            )));
        }
        let logits = session
            .outputs()
            .iter()
            .find(|o| o.name() == "logits")
            .ok_or_else(|| bad("no output named \"logits\"".into()))?;
        let (n_labels, logits_f16) = match logits.dtype() {
            ort::value::ValueType::Tensor { ty, shape, .. } => {
                use ort::value::TensorElementType::{Float16, Float32};
                if !matches!(ty, Float32 | Float16) {
                    return Err(bad(format!(
                        "output \"logits\" holds {ty:?}; float32 or float16 is needed"
                    )));
                }
                let n = shape.last().copied().filter(|d| *d > 0).map(|d| d as usize);
                (n, *ty == Float16)
            }
            _ => return Err(bad("output \"logits\" is not a tensor".into())),
        };
        let want = model.id2label.len();
        if let Some(n) = n_labels
            && n != want
        {
            return Err(bad(format!(
                "logits have {n} labels but config.json id2label has {want}"
            )));
        }
        Ok(ModelSession {
            token_type_ids: names.contains(&"token_type_ids"),
            session,
            n_labels: want,
            logits_f16,
        })
    }
}

impl crate::model::backend::Backend for ModelSession {
    fn run(
        &mut self,
        ids: Vec<i64>,
        mask: Vec<i64>,
        rows: usize,
        cols: usize,
    ) -> Result<Vec<f32>, SessionError> {
        let run = |e: ort::Error| SessionError::Run(e.to_string());
        // A fault of the runtime itself (a device lost, out of memory), injected in tests
        // against the real runtime: `FAILPOINTS=annotate::model-run=N*off->return`.
        fail::fail_point!("annotate::model-run", |reason| Err(SessionError::Run(
            format!(
                "injected fault: {}",
                reason.unwrap_or_else(|| "model run".into())
            )
        )));
        let shape = [rows, cols];
        let input_ids = Tensor::from_array((shape, ids)).map_err(run)?;
        let attention = Tensor::from_array((shape, mask)).map_err(run)?;
        let outputs = if self.token_type_ids {
            let types = Tensor::from_array((shape, vec![0i64; rows * cols])).map_err(run)?;
            self.session
                .run(ort::inputs! {
                    "input_ids" => input_ids,
                    "attention_mask" => attention,
                    "token_type_ids" => types,
                })
                .map_err(run)?
        } else {
            self.session
                .run(ort::inputs! {
                    "input_ids" => input_ids,
                    "attention_mask" => attention,
                })
                .map_err(run)?
        };
        logits_f32(&outputs["logits"]).map_err(run)
    }
}

/// The logits as f32: float32 as they are, float16 (fp16 exports that keep half-precision
/// outputs) widened. Any other element type is an error.
fn logits_f32(value: &ort::value::DynValue) -> Result<Vec<f32>, ort::Error> {
    match value.dtype() {
        ort::value::ValueType::Tensor {
            ty: ort::value::TensorElementType::Float16,
            ..
        } => {
            let (_, data) = value.try_extract_tensor::<half::f16>()?;
            Ok(data.iter().map(|x| x.to_f32()).collect())
        }
        _ => {
            let (_, data) = value.try_extract_tensor::<f32>()?;
            Ok(data.to_vec())
        }
    }
}
