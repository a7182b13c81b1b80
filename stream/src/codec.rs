//! The encoding of record values: serde JSON with a `schema_version` field (DESIGN.md).
//! Compression is the producer's job, not the codec's.

use crate::record::{Annotations, DeadLetter, Document, SCHEMA_VERSION};

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("invalid JSON record: {0}")]
    Json(#[from] serde_json::Error),
    #[error("record schema_version {found} is newer than this reader's {SCHEMA_VERSION}")]
    UnsupportedVersion { found: u32 },
}

pub fn encode_document(doc: &Document) -> Vec<u8> {
    // Serialising plain data structs to a Vec cannot fail.
    serde_json::to_vec(doc).unwrap_or_default()
}

pub fn decode_document(bytes: &[u8]) -> Result<Document, CodecError> {
    let doc: Document = serde_json::from_slice(bytes)?;
    if doc.schema_version > SCHEMA_VERSION {
        return Err(CodecError::UnsupportedVersion {
            found: doc.schema_version,
        });
    }
    Ok(doc)
}

pub fn encode_annotations(a: &Annotations) -> Vec<u8> {
    serde_json::to_vec(a).unwrap_or_default()
}

pub fn decode_annotations(bytes: &[u8]) -> Result<Annotations, CodecError> {
    let a: Annotations = serde_json::from_slice(bytes)?;
    if a.schema_version > SCHEMA_VERSION {
        return Err(CodecError::UnsupportedVersion {
            found: a.schema_version,
        });
    }
    Ok(a)
}

pub fn encode_dead_letter(dl: &DeadLetter) -> Vec<u8> {
    serde_json::to_vec(dl).unwrap_or_default()
}

pub fn decode_dead_letter(bytes: &[u8]) -> Result<DeadLetter, CodecError> {
    Ok(serde_json::from_slice(bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Passage, PassageKind, SourceKind};

    #[test]
    fn round_trips_and_refuses_future_versions() {
        let mut doc = Document::new(SourceKind::Pmc, "pmc:PMC1".into());
        doc.passages
            .push(Passage::new(PassageKind::Paragraph, "β-catenin ≥ 2".into()));
        let bytes = encode_document(&doc);
        assert_eq!(decode_document(&bytes).unwrap(), doc);

        doc.schema_version = SCHEMA_VERSION + 1;
        let err = decode_document(&encode_document(&doc)).unwrap_err();
        assert!(
            matches!(err, CodecError::UnsupportedVersion { .. }),
            "{err}"
        );
        assert!(decode_document(b"{not json").is_err());
    }
}
