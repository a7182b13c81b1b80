//! What a run shows while it works. On a terminal: one line, redrawn in place (files done,
//! documents parsed, annotated, stored and indexed, tokens/s, dead letters), with the log
//! messages printed above it rather than into it. Otherwise: a structured `progress` log event
//! every few seconds while anything moves.

use std::collections::VecDeque;
use std::io::{IsTerminal as _, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// The line on screen, when one is: log messages move it down rather than break it.
static LINE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Where log messages go: stderr, with the run's progress line (when one is drawn) kept below
/// them. Give it to the log subscriber as its writer; with no line drawn it is plain stderr.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let line = LINE.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match line {
            Some(line) => line.suspend(|| std::io::stderr().write_all(buf))?,
            None => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Progress {
    /// Files recorded as done, and files read whose records are still on their way.
    pub files_done: u64,
    pub files_in_hand: u64,
    /// Documents parsed (in the documents channel), annotated, stored, indexed: positions, so
    /// a deletion counts as a document.
    pub parsed: i64,
    pub annotated: i64,
    pub stored: i64,
    pub indexed: i64,
    pub dead_letters: i64,
    /// Over the last few seconds.
    pub tokens_per_s: f64,
}

impl Progress {
    /// The terminal line, short enough for 80 columns with numbers of three digits.
    pub fn line(&self) -> String {
        let files = match self.files_in_hand {
            0 => format!("{} files", self.files_done),
            n => format!("{}+{n} files", self.files_done),
        };
        format!(
            "{files} · {} parsed → {} annotated → {} stored, {} indexed · {} dead · {} tok/s",
            self.parsed,
            self.annotated,
            self.stored,
            self.indexed,
            self.dead_letters,
            compact(self.tokens_per_s)
        )
    }

    /// Whether any count differs from `other` (the rate aside).
    fn moved(&self, other: &Progress) -> bool {
        let counts = |p: &Progress| {
            (
                p.files_done,
                p.files_in_hand,
                p.parsed,
                p.annotated,
                p.stored,
                p.indexed,
                p.dead_letters,
            )
        };
        counts(self) != counts(other)
    }
}

/// 950, 12.3k, 4.5M.
fn compact(x: f64) -> String {
    match x {
        x if x >= 1e6 => format!("{:.1}M", x / 1e6),
        x if x >= 1e4 => format!("{:.1}k", x / 1e3),
        x => format!("{x:.0}"),
    }
}

/// A rate over a sliding window of samples of a growing count.
#[derive(Debug)]
pub struct Rate {
    window: Duration,
    samples: VecDeque<(Instant, u64)>,
}

impl Rate {
    pub fn new(window: Duration) -> Self {
        Rate {
            window,
            samples: VecDeque::new(),
        }
    }

    /// Adds the count as of `now`; the rate per second over the window that ends there.
    pub fn sample(&mut self, now: Instant, count: u64) -> f64 {
        self.samples.push_back((now, count));
        while let Some(&(t, _)) = self.samples.front() {
            if now.duration_since(t) > self.window && self.samples.len() > 2 {
                self.samples.pop_front();
            } else {
                break;
            }
        }
        let (Some(&(t0, c0)), Some(&(t1, c1))) = (self.samples.front(), self.samples.back()) else {
            return 0.0;
        };
        let dt = t1.duration_since(t0).as_secs_f64();
        if dt <= 0.0 {
            return 0.0;
        }
        c1.saturating_sub(c0) as f64 / dt
    }
}

/// How often a run without a terminal logs where it stands.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// The run's display: a line on a terminal, or log events.
#[derive(Debug)]
pub enum Display {
    Line(ProgressBar),
    Log { last: Progress, at: Instant },
}

impl Display {
    /// A line when `terminal` is asked for and stderr is one; log events otherwise.
    pub fn new(terminal: bool) -> Self {
        if terminal && std::io::stderr().is_terminal() {
            let line = ProgressBar::new_spinner();
            let style = ProgressStyle::with_template("{spinner} {elapsed} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            line.set_style(style);
            line.enable_steady_tick(Duration::from_millis(250));
            *LINE.lock().unwrap_or_else(|e| e.into_inner()) = Some(line.clone());
            Display::Line(line)
        } else {
            Display::Log {
                last: Progress::default(),
                at: Instant::now(),
            }
        }
    }

    pub fn show(&mut self, p: &Progress) {
        match self {
            Display::Line(line) => line.set_message(p.line()),
            Display::Log { last, at } => {
                if at.elapsed() >= LOG_EVERY && p.moved(last) {
                    *last = *p;
                    *at = Instant::now();
                    tracing::info!(
                        files_done = p.files_done,
                        files_in_hand = p.files_in_hand,
                        parsed = p.parsed,
                        annotated = p.annotated,
                        stored = p.stored,
                        indexed = p.indexed,
                        dead_letters = p.dead_letters,
                        tokens_per_s = p.tokens_per_s.round(),
                        "progress"
                    );
                }
            }
        }
    }

    /// Takes the line off the screen (the summary follows).
    pub fn finish(self) {
        if let Display::Line(line) = self {
            *LINE.lock().unwrap_or_else(|e| e.into_inner()) = None;
            line.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_over_the_window() {
        let t = Instant::now();
        let mut r = Rate::new(Duration::from_secs(10));
        assert_eq!(r.sample(t, 0), 0.0);
        assert_eq!(r.sample(t + Duration::from_secs(2), 1000), 500.0);
        // Older samples leave the window: the rate is the recent one.
        r.sample(t + Duration::from_secs(20), 1000);
        let recent = r.sample(t + Duration::from_secs(25), 3000);
        assert!((recent - 400.0).abs() < 1e-9, "{recent}");
    }

    #[test]
    fn the_line_says_each_stage() {
        let p = Progress {
            files_done: 2,
            files_in_hand: 1,
            parsed: 300,
            annotated: 200,
            stored: 150,
            indexed: 100,
            dead_letters: 3,
            tokens_per_s: 1234.4,
        };
        assert_eq!(
            p.line(),
            "2+1 files · 300 parsed → 200 annotated → 150 stored, 100 indexed · 3 dead · 1234 tok/s"
        );
        let busy = Progress {
            files_in_hand: 0,
            tokens_per_s: 21_622.0,
            ..p
        };
        assert!(busy.line().starts_with("2 files · ") && busy.line().ends_with("21.6k tok/s"));
        assert!(!p.moved(&Progress {
            tokens_per_s: 1.0,
            ..p
        }));
        assert!(p.moved(&Progress { stored: 151, ..p }));
    }
}
