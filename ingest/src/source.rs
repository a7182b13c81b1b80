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
use crate::inflate::{GZIP_MAGIC, Inflated};
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

/// UTF-16 or UTF-32, told by a byte order mark or by `<` in two or four bytes (XML 1.0,
/// appendix F); such files are refused with their encoding named.
fn wide_encoding(head: &[u8]) -> Option<&'static str> {
    const SIGNS: &[(&[u8], &str)] = &[
        (&[0x00, 0x00, 0xFE, 0xFF], "UTF-32"),
        (&[0xFF, 0xFE, 0x00, 0x00], "UTF-32"),
        (&[0x00, 0x00, 0x00, 0x3C], "UTF-32"),
        (&[0x3C, 0x00, 0x00, 0x00], "UTF-32"),
        (&[0xFE, 0xFF], "UTF-16"),
        (&[0xFF, 0xFE], "UTF-16"),
        (&[0x00, 0x3C, 0x00], "UTF-16"),
        (&[0x3C, 0x00, 0x3F, 0x00], "UTF-16"),
        (&[0x3C, 0x00, 0x21, 0x00], "UTF-16"),
    ];
    SIGNS
        .iter()
        .find(|(sign, _)| head.starts_with(sign))
        .map(|(_, name)| *name)
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

/// The input files found under some paths, and what could not be listed.
#[derive(Debug, Default)]
pub struct Expanded {
    /// In order: each path given, or the input files under a directory given (recursively,
    /// in name order).
    pub files: Vec<PathBuf>,
    /// Directories that could not be listed and entries that could not be examined (a dangling
    /// link, a permission error): reported, counted as failed; the others go on.
    pub errors: Vec<SourceError>,
    /// Entries with an input name that are no regular file (a FIFO, a socket, a device): left
    /// out of a directory walk, which would otherwise block on them.
    pub skipped: Vec<PathBuf>,
}

/// Expands directories (recursively, in name order) into the input files under them. A path
/// given explicitly is taken as it is, whatever it is (a FIFO named on the command line is read,
/// as asked); inside a directory only regular files with an input name are taken, and links to
/// directories are followed once.
pub fn expand_paths(paths: &[PathBuf]) -> Expanded {
    let mut out = Expanded::default();
    let mut seen = std::collections::HashSet::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out, &mut seen);
        } else {
            out.files.push(p.clone());
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Expanded, seen: &mut std::collections::HashSet<PathBuf>) {
    // A link back up the tree would make the walk endless: each directory is walked once.
    let real = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    if !seen.insert(real) {
        return;
    }
    let listing = match std::fs::read_dir(dir) {
        Ok(l) => l,
        Err(e) => {
            out.errors.push(io_err(dir, e));
            return;
        }
    };
    let mut entries = Vec::new();
    for e in listing {
        match e {
            Ok(e) => entries.push(e.path()),
            Err(e) => {
                out.errors.push(io_err(dir, e));
            }
        }
    }
    entries.sort();
    let mut dirs = Vec::new();
    for path in entries {
        let input = path
            .file_name()
            .is_some_and(|n| is_input_name(&n.to_string_lossy()));
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => dirs.push(path),
            Ok(m) if m.is_file() => {
                if input {
                    out.files.push(path);
                }
            }
            // Reported by the caller, which knows whether it said so on an earlier scan.
            Ok(_) => {
                if input {
                    out.skipped.push(path);
                }
            }
            Err(e) => {
                if input {
                    out.errors.push(io_err(&path, e));
                } else {
                    tracing::debug!(path = %path.display(), error = %e, "entry skipped: its metadata cannot be read");
                }
            }
        }
    }
    for d in dirs {
        walk(&d, out, seen);
    }
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

/// Decompresses gzip (recognised by its magic bytes, not its name) or passes plain bytes on.
fn decompressed<'a, R: Read + 'a>(
    reader: R,
    name: &str,
) -> Result<Box<dyn BufRead + 'a>, SourceError> {
    let mut raw = BufReader::with_capacity(READ_BUFFER, reader);
    let head = raw.fill_buf().map_err(|e| named_io_err(name, e))?;
    if head.starts_with(&GZIP_MAGIC) {
        Ok(Box::new(BufReader::with_capacity(
            READ_BUFFER,
            MultiGzDecoder::new(raw),
        )))
    } else {
        Ok(Box::new(raw))
    }
}

fn named_io_err(name: &str, source: std::io::Error) -> SourceError {
    SourceError::Io {
        path: name.to_string(),
        source,
    }
}

/// Parses one XML document from `reader`, whichever format it is. A document declared in
/// ISO-8859-1 (Latin-1) or windows-1252 is decoded to UTF-8 as it is read (byte positions then
/// count the UTF-8 bytes); other encodings than UTF-8 are refused.
pub fn parse<'a, R: BufRead + 'a>(mut reader: R, name: &str) -> Result<Records<'a>, SourceError> {
    let head = reader.fill_buf().map_err(|e| SourceError::Io {
        path: name.to_string(),
        source: e,
    })?;
    let refuse = |encoding: &str| SourceError::Encoding {
        path: name.to_string(),
        encoding: encoding.to_string(),
    };
    // A byte order mark or the first characters in a wider encoding, before looking for the
    // root element (which such a file would seem not to have).
    if let Some(wide) = wide_encoding(head) {
        return Err(refuse(wide));
    }
    let format = sniff(head).map_err(|root| SourceError::UnknownFormat {
        path: name.to_string(),
        root,
    })?;
    let reader: Box<dyn Read + 'a> = match declared_encoding(head) {
        None => Box::new(reader),
        Some(enc) => match enc.to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" | "us-ascii" | "ascii" => Box::new(reader),
            "iso-8859-1" | "iso8859-1" | "latin1" | "latin-1" | "l1" | "iso_8859-1" => {
                Box::new(crate::text::SingleByte::latin1(reader))
            }
            "windows-1252" | "cp1252" => Box::new(crate::text::SingleByte::windows_1252(reader)),
            _ => return Err(refuse(&enc)),
        },
    };
    Ok(match format {
        Format::Medline => Box::new(MedlineParser::new(reader)),
        Format::Jats => Box::new(JatsParser::new(reader)),
    })
}

/// The `encoding` of the XML declaration at the start of `head`, if any.
pub fn declared_encoding(head: &[u8]) -> Option<String> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let decl = head.strip_prefix(b"<?xml")?;
    let decl = &decl[..memchr::memmem::find(decl, b"?>")?];
    let at = memchr::memmem::find(decl, b"encoding")?;
    let rest = decl[at + 8..]
        .trim_ascii_start()
        .strip_prefix(b"=")?
        .trim_ascii_start();
    let quote = *rest.first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let value = &rest[1..];
    let end = memchr::memchr(quote, value)?;
    Some(String::from_utf8_lossy(&value[..end]).into_owned())
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
    let file = File::open(path).map_err(|e| io_err(path, e))?;
    let counting = Counting {
        inner: file,
        count: read_bytes,
    };
    let name = path.display().to_string();
    let mut raw = BufReader::with_capacity(READ_BUFFER, counting);
    let head = raw.fill_buf().map_err(|e| io_err(path, e))?;
    if head.starts_with(&GZIP_MAGIC) {
        // Inflated on a thread of its own, ahead of the parsers.
        let plain = Inflated::spawn(raw).map_err(|e| io_err(path, e))?;
        visit_plain(plain, &name, is_archive(path), visit, on_error)
    } else {
        visit_reader(raw, &name, is_archive(path), visit, on_error)
    }
}

/// [`visit_file`] on the bytes of a file read from `reader`: `name` labels its records and
/// errors, `archive` says it is a `.tar.gz` package (else plain or gzip-compressed XML).
pub fn visit_reader<R: Read>(
    reader: R,
    name: &str,
    archive: bool,
    visit: &mut dyn FnMut(&str, Records<'_>) -> bool,
    on_error: &mut dyn FnMut(SourceError),
) -> Result<(), SourceError> {
    if archive {
        let gz = MultiGzDecoder::new(BufReader::with_capacity(READ_BUFFER, reader));
        visit_plain(gz, name, true, visit, on_error)
    } else {
        visit_plain(reader, name, false, visit, on_error)
    }
}

/// [`visit_reader`] on bytes already inflated: a tar archive when `archive`, else XML (gzip
/// inside is still inflated, inline).
fn visit_plain<R: Read>(
    reader: R,
    name: &str,
    archive: bool,
    visit: &mut dyn FnMut(&str, Records<'_>) -> bool,
    on_error: &mut dyn FnMut(SourceError),
) -> Result<(), SourceError> {
    let io = |e| named_io_err(name, e);
    if archive {
        let mut archive = tar::Archive::new(reader);
        for entry in archive.entries().map_err(io)? {
            let entry = entry.map_err(io)?;
            let member = entry.path().map(|p| p.to_path_buf()).map_err(io)?;
            let member_name = member.display().to_string();
            let lower = member_name.to_ascii_lowercase();
            let xml_name = lower.ends_with(".nxml") || lower.ends_with(".xml");
            let kind = entry.header().entry_type();
            if (kind.is_symlink() || kind.is_hard_link()) && xml_name {
                // A link is never followed: it could point anywhere.
                on_error(SourceError::LinkEntry {
                    path: name.to_string(),
                    entry: member_name,
                });
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            if !is_safe_member(&member) {
                on_error(SourceError::UnsafeEntry {
                    path: name.to_string(),
                    entry: member_name,
                });
                continue;
            }
            if !xml_name {
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
        let reader = decompressed(reader, name)?;
        let records = parse(reader, name)?;
        visit(name, records);
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
    fn wide_encodings_are_named() {
        let utf16le: Vec<u8> = "<?xml version=\"1.0\"?><PubmedArticleSet>"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let utf16be: Vec<u8> = "<PubmedArticleSet>"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(wide_encoding(&utf16le), Some("UTF-16"));
        assert_eq!(wide_encoding(&utf16be), Some("UTF-16"));
        let with_bom = [&[0xFF, 0xFE][..], &utf16le].concat();
        assert_eq!(wide_encoding(&with_bom), Some("UTF-16"));
        assert_eq!(
            wide_encoding(&[0xFF, 0xFE, 0, 0, b'<', 0, 0, 0]),
            Some("UTF-32")
        );
        assert_eq!(wide_encoding(b"<?xml version='1.0'?>"), None);
        assert_eq!(wide_encoding(b"\xEF\xBB\xBF<?xml version='1.0'?>"), None);
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
