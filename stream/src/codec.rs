//! The encoding of record values: serde JSON with a `schema_version` field (docs/architecture.md).
//! Compression is the producer's job, not the codec's.

use crate::record::{Annotations, DeadLetter, Document, SCHEMA_VERSION};

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("invalid JSON record: {0}")]
    Json(#[from] serde_json::Error),
    #[error("record schema_version {found} is newer than this reader's {SCHEMA_VERSION}")]
    UnsupportedVersion { found: u32 },
    /// A score beyond the range of `f32` reads as infinite, and would be written back as `null`,
    /// which no reader takes: such a record is refused when read.
    #[error("a {what} score is not a finite number")]
    NonFiniteScore { what: &'static str },
    /// A deletion must name what it deletes.
    #[error("a deletion (\"deleted\": true) without an \"id\"")]
    DeletionWithoutId,
}

impl crate::error::Classify for CodecError {
    /// A record that does not decode is the record's fault: set aside, the stream goes on.
    fn class(&self) -> crate::error::ErrorClass {
        crate::error::ErrorClass::Poison
    }
}

pub fn encode_document(doc: &Document) -> Vec<u8> {
    // Serialising plain data structs to a Vec cannot fail.
    serde_json::to_vec(doc).unwrap_or_default()
}

pub fn decode_document(bytes: &[u8]) -> Result<Document, CodecError> {
    let doc: Document = serde_json::from_slice(bytes).map_err(|e| {
        // A tombstone line of the file modes that names no id reaches here as a value.
        match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(v) if v.get("deleted") == Some(&serde_json::Value::Bool(true)) => {
                CodecError::DeletionWithoutId
            }
            _ => CodecError::Json(e),
        }
    })?;
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
    if a.mentions.iter().any(|m| !m.score.is_finite()) {
        return Err(CodecError::NonFiniteScore { what: "mention" });
    }
    if a.relations.iter().any(|r| !r.score.is_finite()) {
        return Err(CodecError::NonFiniteScore { what: "relation" });
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

    #[test]
    fn refuses_scores_out_of_f32_range() {
        // 1e39 reads as an infinite f32, which would be written back as null.
        let json = |mention: &str, relation: &str| {
            format!(
                r#"{{"schema_version":1,"id":"pmid:1","models":[],
                "mentions":[{{"passage":0,"start":0,"end":1,"text":"a","type":"Gene","score":{mention},"model":"m"}}],
                "relations":[{{"subject":0,"object":0,"type":"r","score":{relation},"model":"m"}}]}}"#
            )
        };
        let a = decode_annotations(json("0.5", "3.4e38").as_bytes()).unwrap();
        assert_eq!(decode_annotations(&encode_annotations(&a)).unwrap(), a);
        for (m, r) in [("1e39", "0.5"), ("0.5", "-1e300")] {
            let err = decode_annotations(json(m, r).as_bytes()).unwrap_err();
            assert!(matches!(err, CodecError::NonFiniteScore { .. }), "{err}");
        }
    }
}
