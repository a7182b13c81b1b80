//! The crate's error for annotating documents, and its class (a poison document or a fatal fault).

use pubmine_stream::error::{Classify, ErrorClass};

use crate::model::ModelError;
use crate::model::session::SessionError;
use crate::text::tokenize::TokenizeError;
use crate::text::windows::WindowError;

#[derive(Debug, thiserror::Error)]
pub enum AnnotateError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Tokenize(#[from] TokenizeError),
    #[error(transparent)]
    Window(#[from] WindowError),
    #[error("{path}: {reason}")]
    Settings {
        path: std::path::PathBuf,
        reason: String,
    },
    #[error("{path}: {error}")]
    Heads {
        path: std::path::PathBuf,
        error: crate::model::heads::HeadError,
    },
    /// Tokens prepared for other documents or other models than the annotator's.
    #[error("the prepared tokens do not match these documents and models")]
    NotPrepared,
}

impl Classify for AnnotateError {
    /// A text the tokenizer refuses is the document's fault; everything else (the model, its
    /// session, the settings) is not, and retrying the document elsewhere would fail the same.
    fn class(&self) -> ErrorClass {
        match self {
            AnnotateError::Tokenize(_) => ErrorClass::Poison,
            AnnotateError::Model(_)
            | AnnotateError::Session(_)
            | AnnotateError::Window(_)
            | AnnotateError::Settings { .. }
            | AnnotateError::Heads { .. }
            | AnnotateError::NotPrepared => ErrorClass::Fatal,
        }
    }
}
