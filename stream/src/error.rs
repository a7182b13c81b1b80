//! The class of an error that can stop a record, shared by every stage: it decides what the
//! stage does next (docs/architecture.md, "What users rely on").

/// What a stage does about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorClass {
    /// The record itself is at fault: it goes to the dead letters with the reason, and the
    /// stream goes on past it.
    Poison,
    /// The fault is outside the record and may pass (the broker or the database away for a
    /// while): the same work is retried with backoff.
    Transient,
    /// The process cannot go on (a model session failing, a device lost, a bad configuration):
    /// it stops without committing past the records not done, and exits non-zero so that a
    /// supervisor restarts it and those records are processed again.
    Fatal,
}

impl ErrorClass {
    /// The class's name, for logs, metrics and dead letters.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Poison => "poison",
            ErrorClass::Transient => "transient",
            ErrorClass::Fatal => "fatal",
        }
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error that knows its class.
pub trait Classify {
    fn class(&self) -> ErrorClass;
}

/// An error and its sources, joined with `: ` (a source whose text the message already holds is
/// not repeated): the reason a dead letter carries, and the text of a logged error whose
/// sources say what failed underneath (a refused connection under a failed fetch).
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !out.contains(&s_text) {
            out.push_str(": ");
            out.push_str(&s_text);
        }
        source = s.source();
    }
    out
}
