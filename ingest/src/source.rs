//! Inputs: plain or gzip-compressed XML files, PMC OA `.tar.gz` packages, and directories of
//! them. Each XML document found is sniffed (MEDLINE or JATS) and parsed as a stream of records.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;
use pubmine_stream::record::DocumentRecord;

use crate::error::{RecordError, SourceError};
use crate::jats::{JatsParser, root_is_jats};
use crate::medline::MedlineParser;
use crate::xml::root_name;

const READ_BUFFER: usize = 1 << 20;

/// The kinds of XML ingest reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `PubmedArticleSet`: PubMed baseline, update files, efetch output.
    Medline,
    /// JATS/NLM `article`, efetch `pmc-articleset`, OAI-PMH `GetRecord`.
    Jats,
}

/// Decides the format from the root element of the first bytes of a document.
pub fn sniff(head: &[u8]) -> Result<Format, String> {
    match root_name(head) {
        Some(r) if r == "PubmedArticleSet" => Ok(Format::Medline),
        Some(r) if root_is_jats(&r) => Ok(Format::Jats),
        Some(r) => Err(r),
        None => Err(String::new()),
    }
}

/// What a visitor receives for each XML document of an input: its name (a path, or
/// `archive.tar.gz!member`) and the records.
pub type Records<'a> = Box<dyn Iterator<Item = Result<DocumentRecord, RecordError>> + 'a>;

/// True for the file names ingest reads from a directory.
pub fn is_input_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [".xml", ".xml.gz", ".nxml", ".nxml.gz", ".tar.gz", ".tgz"]
        .iter()
        .any(|s| n.ends_with(s))
}

fn is_archive(path: &Path) -> bool {
    let n = path.to_string_lossy().to_ascii_lowercase();
    n.ends_with(".tar.gz") || n.ends_with(".tgz")
}

/// Expands directories (recursively, in name order) into the input files under them.
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, SourceError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| io_err(p, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            let (dirs, files): (Vec<_>, Vec<_>) = entries.into_iter().partition(|e| e.is_dir());
            out.extend(files.into_iter().filter(|f| {
                f.file_name()
                    .is_some_and(|n| is_input_name(&n.to_string_lossy()))
            }));
            out.extend(expand_paths(&dirs)?);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn io_err(path: &Path, source: std::io::Error) -> SourceError {
    SourceError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Counts the bytes read from the underlying file, for progress.
#[derive(Debug)]
pub struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens a file, decompressing gzip (recognised by its magic bytes, not its name).
fn open_decompressed(
    path: &Path,
    read_bytes: Arc<AtomicU64>,
) -> Result<Box<dyn BufRead + Send>, SourceError> {
    let file = File::open(path).map_err(|e| io_err(path, e))?;
    let mut raw = BufReader::with_capacity(
        READ_BUFFER,
        Counting {
            inner: file,
            count: read_bytes,
        },
    );
    let head = raw.fill_buf().map_err(|e| io_err(path, e))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::with_capacity(
            READ_BUFFER,
            MultiGzDecoder::new(raw),
        )))
    } else {
        Ok(Box::new(raw))
    }
}

/// Parses one XML document from `reader`, whichever format it is.
pub fn parse<'a, R: BufRead + 'a>(mut reader: R, name: &str) -> Result<Records<'a>, SourceError> {
    let head = reader.fill_buf().map_err(|e| SourceError::Io {
        path: name.to_string(),
        source: e,
    })?;
    match sniff(head) {
        Ok(Format::Medline) => Ok(Box::new(MedlineParser::new(reader))),
        Ok(Format::Jats) => Ok(Box::new(JatsParser::new(reader))),
        Err(root) => Err(SourceError::UnknownFormat {
            path: name.to_string(),
            root,
        }),
    }
}

/// Calls `visit` with the records of each XML document in the file at `path`: the file itself,
/// or each `.xml`/`.nxml` member of a `.tar.gz` package. `read_bytes` counts the file's bytes
/// read so far. An archive member whose path would escape the extraction root (absolute, or with
/// `..`) is refused and reported through `on_error`; the rest of the archive goes on.
pub fn visit_file(
    path: &Path,
    read_bytes: Arc<AtomicU64>,
    visit: &mut dyn FnMut(&str, Records<'_>) -> bool,
    on_error: &mut dyn FnMut(SourceError),
) -> Result<(), SourceError> {
    let name = path.display().to_string();
    if is_archive(path) {
        let file = File::open(path).map_err(|e| io_err(path, e))?;
        let gz = MultiGzDecoder::new(BufReader::with_capacity(
            READ_BUFFER,
            Counting {
                inner: file,
                count: read_bytes,
            },
        ));
        let mut archive = tar::Archive::new(gz);
        for entry in archive.entries().map_err(|e| io_err(path, e))? {
            let entry = entry.map_err(|e| io_err(path, e))?;
            let member = entry
                .path()
                .map(|p| p.to_path_buf())
                .map_err(|e| io_err(path, e))?;
            let member_name = member.display().to_string();
            if !entry.header().entry_type().is_file() {
                continue;
            }
            if !is_safe_member(&member) {
                on_error(SourceError::UnsafeEntry {
                    path: name.clone(),
                    entry: member_name,
                });
                continue;
            }
            let lower = member_name.to_ascii_lowercase();
            if !(lower.ends_with(".nxml") || lower.ends_with(".xml")) {
                continue;
            }
            let label = format!("{name}!{member_name}");
            match parse(BufReader::with_capacity(READ_BUFFER, entry), &label) {
                Ok(records) => {
                    if !visit(&label, records) {
                        return Ok(());
                    }
                }
                Err(e) => on_error(e),
            }
        }
        Ok(())
    } else {
        let reader = open_decompressed(path, read_bytes)?;
        let records = parse(reader, &name)?;
        visit(&name, records);
        Ok(())
    }
}

/// True for a relative archive path that stays inside the extraction root.
pub fn is_safe_member(p: &Path) -> bool {
    p.components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_formats() {
        assert_eq!(
            sniff(b"<?xml version='1.0'?><PubmedArticleSet>"),
            Ok(Format::Medline)
        );
        assert_eq!(
            sniff(b"<!DOCTYPE article><article article-type='x'>"),
            Ok(Format::Jats)
        );
        assert_eq!(sniff(b"<pmc-articleset><article>"), Ok(Format::Jats));
        assert_eq!(sniff(b"<html><body>"), Err("html".into()));
    }

    #[test]
    fn archive_members_must_stay_inside() {
        assert!(is_safe_member(Path::new("PMC1/a.nxml")));
        assert!(is_safe_member(Path::new("./PMC1/a.nxml")));
        assert!(!is_safe_member(Path::new("../a.nxml")));
        assert!(!is_safe_member(Path::new("PMC1/../../a.nxml")));
        assert!(!is_safe_member(Path::new("/etc/a.nxml")));
    }

    #[test]
    fn input_names() {
        assert!(is_input_name("pubmed25n0001.xml.gz"));
        assert!(is_input_name("PMC1.NXML"));
        assert!(is_input_name(
            "oa_comm_xml.PMC000xxxxxx.baseline.2025.tar.gz"
        ));
        assert!(!is_input_name("pubmed25n0001.xml.gz.md5"));
    }
}
