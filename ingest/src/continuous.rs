//! Continuous mining: [`watch_into`] finds files as they land in a directory; [`sync_into`]
//! follows an NCBI-style HTTP listing of baseline and update files with `.md5` companions. Both
//! give each file to an [`Intake`], which says whether a file (name and md5) is done and ingests
//! it: the ledger of files done (Postgres' `ingested_files`) is the intake's, kept outside this
//! crate (`pubmine_pipeline::ledger`), so that a restart resumes without sending a file twice.
//! Files go strictly in name order, and a pass stops at the first file that fails, so an update
//! file is never applied before the one it follows.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use backon::Retryable;
use futures::future::BoxFuture;
use md5::{Digest, Md5};
use pubmine_stream::error::{Classify, ErrorClass, chain};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

use crate::produce::{FileReport, IngestError};
use crate::source::{expand_paths, is_input_name};

#[derive(Debug, thiserror::Error)]
pub enum ContinuousError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// The ledger of files done (kept by the caller's [`Intake`]) failed.
    #[error(transparent)]
    Ledger(Box<dyn std::error::Error + Send + Sync>),
    #[error("failed to read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The server answered, but not with what was asked for (an HTTP error status, an `.md5`
    /// file without a hash).
    #[error("failed to fetch {url}: {reason}")]
    Http { url: String, reason: String },
    /// The request or its body failed (the connection refused or cut, a timeout).
    #[error("failed to fetch {url}")]
    Fetch {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{name}: md5 {actual} does not match {expected} from its .md5 file")]
    Checksum {
        name: String,
        expected: String,
        actual: String,
    },
}

impl Classify for ContinuousError {
    /// A file's own failure has its class; a download that failed or came back corrupt may
    /// succeed later; a ledger whose retries are spent, or a local file that cannot be read or
    /// written, stops the process.
    fn class(&self) -> ErrorClass {
        match self {
            ContinuousError::Ingest(e) => e.class(),
            ContinuousError::Http { .. }
            | ContinuousError::Fetch { .. }
            | ContinuousError::Checksum { .. } => ErrorClass::Transient,
            ContinuousError::Ledger(_) | ContinuousError::Io { .. } => ErrorClass::Fatal,
        }
    }
}

/// The md5 of a file, as lowercase hex.
pub fn md5_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Md5::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The name a file is recorded under: its file name (no directory), the identity across hosts
/// and spool directories.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// [`md5_file`] on a blocking thread, its error naming the path.
pub async fn md5_of(path: &Path) -> Result<String, ContinuousError> {
    let p = path.to_path_buf();
    let io = |source| ContinuousError::Io {
        path: path.display().to_string(),
        source,
    };
    tokio::task::spawn_blocking(move || md5_file(&p))
        .await
        .map_err(|e| io(std::io::Error::other(e)))?
        .map_err(io)
}

/// A file found by [`watch_into`] or [`sync_into`], ready to ingest.
#[derive(Debug, Clone, Copy)]
pub struct Found<'a> {
    pub path: &'a Path,
    /// The name it is recorded under ([`file_name`], or the listing's name).
    pub name: &'a str,
    pub md5: &'a str,
    /// The origin its records name: the path, or the URL it was downloaded from.
    pub location: &'a str,
}

/// What continuous mining does with the files it finds. `ingest watch` and `ingest sync` give
/// `pubmine_pipeline::ledger::Recorded`: produce the file's records and record the file once the
/// broker has them all. `pubmine run` gives its own, which records a file only once the sinks
/// hold all of it, and counts a file in hand as done so that the next scan does not send it
/// again.
pub trait Intake: Send + Sync {
    /// True when this file (name and content) needs nothing more: recorded as done, or in hand.
    fn is_done<'a>(
        &'a self,
        name: &'a str,
        md5: &'a str,
    ) -> BoxFuture<'a, Result<bool, ContinuousError>>;

    /// Ingests a file; `None` when it needed nothing (done meanwhile, or stopped mid-file, to be
    /// read again on the next run).
    fn ingest<'a>(
        &'a self,
        file: Found<'a>,
    ) -> BoxFuture<'a, Result<Option<FileReport>, ContinuousError>>;
}

/// Settings of `ingest watch`.
#[derive(Debug, Clone)]
pub struct WatchConfig {
    pub dir: PathBuf,
    /// Time between scans.
    pub interval: Duration,
    /// A file modified more recently than this is taken to be still being written.
    pub settle: Duration,
    /// Scan once and return (for scripts and tests).
    pub once: bool,
}

/// Watches a directory (polling, which also works on network file systems) and gives each input
/// file to `intake` once its writer is done with it.
pub async fn watch_into(
    intake: &dyn Intake,
    wcfg: &WatchConfig,
    shutdown: &CancellationToken,
) -> Result<Vec<FileReport>, ContinuousError> {
    let mut reports = Vec::new();
    // Files that cannot be read at all are reported once per (path, size, mtime), not every scan.
    let mut unreadable: HashSet<(PathBuf, u64, SystemTime)> = HashSet::new();
    // Entries that cannot be listed, and non-regular files, are reported once, not every scan.
    let mut reported: HashSet<String> = HashSet::new();
    loop {
        let found = expand_paths(std::slice::from_ref(&wcfg.dir));
        for e in &found.errors {
            if reported.insert(e.to_string()) {
                tracing::error!(error = %e, "entry skipped");
            }
        }
        for p in &found.skipped {
            if reported.insert(p.display().to_string()) {
                tracing::warn!(path = %p.display(), "not a regular file, skipped");
            }
        }
        for path in found.files {
            if shutdown.is_cancelled() {
                return Ok(reports);
            }
            let Ok(meta) = std::fs::metadata(&path) else {
                continue; // removed since the scan
            };
            let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            let age = SystemTime::now()
                .duration_since(mtime)
                .unwrap_or(Duration::ZERO);
            if age < wcfg.settle && !wcfg.once {
                continue;
            }
            let key = (path.clone(), meta.len(), mtime);
            if unreadable.contains(&key) {
                continue;
            }
            let md5 = match md5_of(&path).await {
                Ok(m) => m,
                Err(e) => {
                    tracing::error!(error = %e, "file skipped");
                    unreadable.insert(key);
                    continue;
                }
            };
            let (name, location) = (file_name(&path), path.display().to_string());
            let done = match intake.is_done(&name, &md5).await {
                Ok(done) => done,
                Err(e) => {
                    tracing::error!(error = %e, "scan stopped, will retry");
                    if wcfg.once {
                        return Err(e);
                    }
                    break;
                }
            };
            if done {
                tracing::debug!(file = %name, "already ingested, skipped");
                continue;
            }
            let found = Found {
                path: &path,
                name: &name,
                md5: &md5,
                location: &location,
            };
            match intake.ingest(found).await {
                Ok(Some(r)) => reports.push(r),
                Ok(None) => {}
                Err(ContinuousError::Ingest(e @ IngestError::Source { .. })) => {
                    tracing::error!(error = %e, "file skipped");
                    unreadable.insert(key);
                }
                Err(e) => {
                    // Broker or database trouble: try again on the next scan, in order.
                    tracing::error!(error = %e, "scan stopped, will retry");
                    if wcfg.once {
                        return Err(e);
                    }
                    break;
                }
            }
        }
        if wcfg.once {
            return Ok(reports);
        }
        tokio::select! {
            _ = tokio::time::sleep(wcfg.interval) => {}
            _ = shutdown.cancelled() => return Ok(reports),
        }
    }
}

/// Settings of `ingest sync`.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Listings to follow, such as the baseline and the updatefiles directories.
    pub urls: Vec<String>,
    /// Where files are downloaded before ingest; each is removed once recorded.
    pub spool: PathBuf,
    /// `None`: one pass; otherwise the time between passes.
    pub interval: Option<Duration>,
}

/// A file offered by a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    pub url: String,
    pub md5_url: Option<String>,
}

/// The input files linked from an HTML directory listing (as NCBI and any web server's
/// auto-index serve them), with their `.md5` companions, in name order.
pub fn parse_listing(base: &str, html: &str) -> Vec<Listed> {
    let base = if base.ends_with('/') {
        base.to_string()
    } else {
        format!("{base}/")
    };
    let mut names: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("href=") {
        rest = &rest[i + 5..];
        let quote = rest.chars().next().unwrap_or(' ');
        let (href, after) = if quote == '"' || quote == '\'' {
            match rest[1..].find(quote) {
                Some(j) => (&rest[1..1 + j], &rest[1 + j..]),
                None => break,
            }
        } else {
            let j = rest
                .find(|c: char| c.is_whitespace() || c == '>')
                .unwrap_or(rest.len());
            (&rest[..j], &rest[j..])
        };
        rest = after;
        let href = href.split(['?', '#']).next().unwrap_or("");
        let name = href.rsplit('/').next().unwrap_or("");
        if !name.is_empty() && !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    let mut out: Vec<Listed> = names
        .iter()
        .filter(|n| is_input_name(n))
        .map(|n| {
            let md5 = format!("{n}.md5");
            Listed {
                name: n.clone(),
                url: format!("{base}{n}"),
                md5_url: names.contains(&md5).then(|| format!("{base}{md5}")),
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The hash in an `.md5` file: NCBI's `MD5(name)= hex` or md5sum's `hex  name`.
pub fn parse_md5(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || c == '=' || c == '(' || c == ')')
        .find(|w| w.len() == 32 && w.chars().all(|c| c.is_ascii_hexdigit()))
        .map(|w| w.to_ascii_lowercase())
}

async fn get_text(client: &reqwest::Client, url: &str) -> Result<String, ContinuousError> {
    let http = |reason: String| ContinuousError::Http {
        url: url.to_string(),
        reason,
    };
    let fetch = |source| ContinuousError::Fetch {
        url: url.to_string(),
        source,
    };
    let resp = client.get(url).send().await.map_err(fetch)?;
    if !resp.status().is_success() {
        return Err(http(format!("HTTP {}", resp.status())));
    }
    resp.text().await.map_err(fetch)
}

/// Downloads `url` to `dest` and returns the md5 of what was written.
async fn download(
    client: &reqwest::Client,
    url: &str,
    dest: &Path,
) -> Result<String, ContinuousError> {
    let http = |reason: String| ContinuousError::Http {
        url: url.to_string(),
        reason,
    };
    let fetch = |source| ContinuousError::Fetch {
        url: url.to_string(),
        source,
    };
    let io = |e: std::io::Error| ContinuousError::Io {
        path: dest.display().to_string(),
        source: e,
    };
    let mut resp = client.get(url).send().await.map_err(fetch)?;
    if !resp.status().is_success() {
        return Err(http(format!("HTTP {}", resp.status())));
    }
    let mut file = tokio::fs::File::create(dest).await.map_err(io)?;
    let mut h = Md5::new();
    while let Some(chunk) = resp.chunk().await.map_err(fetch)? {
        h.update(&chunk);
        file.write_all(&chunk).await.map_err(io)?;
    }
    file.sync_all().await.map_err(io)?;
    Ok(hex(&h.finalize()))
}

/// Follows the listings: verifies and downloads, in name order, every file `intake` does not hold
/// done, and gives it to `intake`; with an interval, checks again after each pass until shutdown.
pub async fn sync_into(
    intake: &dyn Intake,
    scfg: &SyncConfig,
    shutdown: &CancellationToken,
) -> Result<Vec<FileReport>, ContinuousError> {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(120))
        .user_agent(concat!("pubmine/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|source| ContinuousError::Fetch {
            url: String::new(),
            source,
        })?;
    tokio::fs::create_dir_all(&scfg.spool)
        .await
        .map_err(|e| ContinuousError::Io {
            path: scfg.spool.display().to_string(),
            source: e,
        })?;
    let mut reports = Vec::new();
    loop {
        match sync_pass(&client, intake, scfg, shutdown, &mut reports).await {
            Ok(()) => {}
            Err(e) if scfg.interval.is_some() => {
                tracing::error!(error = %chain(&e), "sync pass stopped, will retry");
            }
            Err(e) => return Err(e),
        }
        let Some(interval) = scfg.interval else {
            return Ok(reports);
        };
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.cancelled() => return Ok(reports),
        }
    }
}

async fn sync_pass(
    client: &reqwest::Client,
    intake: &dyn Intake,
    scfg: &SyncConfig,
    shutdown: &CancellationToken,
    reports: &mut Vec<FileReport>,
) -> Result<(), ContinuousError> {
    let retry =
        pubmine_stream::retry::policy(Duration::from_millis(200), Duration::from_secs(10), Some(4));
    let transient = |e: &ContinuousError| e.class() == ErrorClass::Transient;
    let mut listed = Vec::new();
    for url in &scfg.urls {
        let html = (|| get_text(client, url))
            .retry(retry)
            .when(transient)
            .await?;
        listed.extend(parse_listing(url, &html));
    }
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    tracing::info!(files = listed.len(), "listing read");
    for file in listed {
        if shutdown.is_cancelled() {
            return Ok(());
        }
        let expected = match &file.md5_url {
            Some(u) => {
                let text = (|| get_text(client, u))
                    .retry(retry)
                    .when(transient)
                    .await?;
                Some(parse_md5(&text).ok_or_else(|| ContinuousError::Http {
                    url: u.clone(),
                    reason: "no md5 hash in the file".into(),
                })?)
            }
            None => None,
        };
        if let Some(md5) = &expected
            && intake.is_done(&file.name, md5).await?
        {
            continue;
        }
        let dest = scfg.spool.join(&file.name);
        // Downloaded under a temporary name and renamed once verified, so a partial or corrupt
        // download is never taken for a complete one.
        let partial = scfg.spool.join(format!("{}.part", file.name));
        let fetch = || async {
            let actual = download(client, &file.url, &partial).await?;
            match &expected {
                Some(want) if *want != actual => Err(ContinuousError::Checksum {
                    name: file.name.clone(),
                    expected: want.clone(),
                    actual,
                }),
                _ => Ok(actual),
            }
        };
        let fetched = fetch
            .retry(retry)
            .when(transient)
            .notify(
                |e, after| tracing::warn!(error = %chain(e), retry_in = ?after, "download failed"),
            )
            .await;
        let md5 = match fetched {
            Ok(md5) => md5,
            Err(e) => {
                let _ = tokio::fs::remove_file(&partial).await;
                return Err(e);
            }
        };
        tokio::fs::rename(&partial, &dest)
            .await
            .map_err(|e| ContinuousError::Io {
                path: dest.display().to_string(),
                source: e,
            })?;
        if expected.is_none() {
            tracing::warn!(file = %file.name, "no .md5 companion; content not verified");
        }
        let found = Found {
            path: &dest,
            name: &file.name,
            md5: &md5,
            location: &file.url,
        };
        let result = intake.ingest(found).await;
        let _ = tokio::fs::remove_file(&dest).await;
        if let Some(r) = result? {
            reports.push(r);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_links_and_md5_companions() {
        let html = r#"<html><body><pre>
<a href="../">../</a>
<a href="pubmed25n0002.xml.gz">pubmed25n0002.xml.gz</a> 2025-01-01 12M
<a href="pubmed25n0002.xml.gz.md5">pubmed25n0002.xml.gz.md5</a>
<a href='pubmed25n0001.xml.gz'>pubmed25n0001.xml.gz</a>
<a href="/pubmed/baseline/pubmed25n0001.xml.gz.md5">md5</a>
<a href=README.txt>README.txt</a>
</pre></body></html>"#;
        let l = parse_listing("http://h/pubmed/baseline", html);
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].name, "pubmed25n0001.xml.gz");
        assert_eq!(l[0].url, "http://h/pubmed/baseline/pubmed25n0001.xml.gz");
        assert_eq!(
            l[0].md5_url.as_deref(),
            Some("http://h/pubmed/baseline/pubmed25n0001.xml.gz.md5")
        );
        assert!(l[1].md5_url.is_some());
    }

    #[test]
    fn md5_file_formats() {
        let want = Some("0123456789abcdef0123456789abcdef".to_string());
        assert_eq!(
            parse_md5("MD5(pubmed25n0001.xml.gz)= 0123456789abcdef0123456789ABCDEF\n"),
            want
        );
        assert_eq!(
            parse_md5("0123456789abcdef0123456789abcdef  pubmed25n0001.xml.gz"),
            want
        );
        assert_eq!(parse_md5("nothing here"), None);
    }
}
