//! Progress of file ingest: a bar on a terminal (bytes and articles per second), nothing
//! otherwise (the structured logs say what was done).

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

/// Tracks one file: bytes read from disk (compressed, as the file size is) and articles parsed.
#[derive(Debug)]
pub struct FileProgress {
    bar: Option<ProgressBar>,
    /// Bytes of the file read so far; the reader adds to it.
    pub bytes: Arc<AtomicU64>,
    articles: AtomicU64,
    started: Instant,
}

impl FileProgress {
    /// A bar when stderr is a terminal and `enabled`.
    pub fn new(label: &str, total_bytes: u64, enabled: bool) -> Self {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total_bytes);
            let style = ProgressStyle::with_template(
                "{prefix:.bold} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(label.to_string());
            bar
        });
        FileProgress {
            bar,
            bytes: Arc::new(AtomicU64::new(0)),
            articles: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    /// Counts `n` more articles and refreshes the bar.
    pub fn add_articles(&self, n: u64) {
        let total = self.articles.fetch_add(n, Ordering::Relaxed) + n;
        self.refresh(total);
    }

    fn refresh(&self, articles: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(self.bytes.load(Ordering::Relaxed));
            let secs = self.started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!(
                "{articles} articles, {:.0} articles/s",
                articles as f64 / secs
            ));
        }
    }

    /// Shows the final count and leaves the bar on screen.
    pub fn finish(&self, articles: u64) {
        self.refresh(articles);
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
