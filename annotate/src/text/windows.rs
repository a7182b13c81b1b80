//! Sliding windows over a passage's tokens, so that no text is ever truncated.
//!
//! A model sees at most `max_len` tokens, `[CLS]` and `[SEP]` included, so a window holds at most
//! `max_len - 2` passage tokens. Consecutive windows overlap by `stride` tokens. Each token then
//! takes its label from the window in which it has the most context on both sides: the window
//! maximising `min(tokens before it, tokens after it)`.

/// Tokens `start..end` of a passage, fed to the model as `[CLS] tokens [SEP]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: usize,
    pub end: usize,
}

impl Window {
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// Context the window gives token `i`: the smaller of the tokens before and after it.
    fn context(&self, i: usize) -> usize {
        (i - self.start).min(self.end - 1 - i)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stride {stride} must be smaller than the {body} passage tokens a window holds")]
pub struct WindowError {
    pub body: usize,
    pub stride: usize,
}

/// Windows covering `n` tokens, each at most `body` tokens long, consecutive ones overlapping by
/// at least `stride`. A passage longer than `body` gets the fewest windows that can do this, all
/// of one length and spread evenly from its start to its end, so the overlaps are as small as the
/// stride allows (a passage of 600 tokens: two windows of 364, not 510 + 510).
pub fn windows(n: usize, body: usize, stride: usize) -> Result<Vec<Window>, WindowError> {
    if body == 0 || stride >= body {
        return Err(WindowError { body, stride });
    }
    if n <= body {
        return Ok(if n == 0 {
            Vec::new()
        } else {
            vec![Window { start: 0, end: n }]
        });
    }
    // k windows of `len` tokens overlapping by `stride` cover k * len - (k - 1) * stride tokens
    let k = (n - stride).div_ceil(body - stride); // >= 2, as n > body
    let len = (n + (k - 1) * stride).div_ceil(k); // <= body, by the choice of k
    // starts from 0 to n - len; each step is at most ceil((n - len) / (k - 1)) <= len - stride
    Ok((0..k)
        .map(|i| {
            let start = i * (n - len) / (k - 1);
            Window {
                start,
                end: start + len,
            }
        })
        .collect())
}

/// Inputs for a passage split into sentences: `starts` are the first token of each sentence, in
/// increasing order (the first 0), and `n` the passage's tokens. With `pack`, consecutive whole
/// sentences share an input while they fit in `body` tokens; without, each sentence is an input
/// of its own. A sentence longer than `body` is covered by [`windows`] of its own, so no input
/// ever holds part of a sentence beside another sentence.
pub fn sentence_windows(
    starts: &[usize],
    n: usize,
    body: usize,
    stride: usize,
    pack: bool,
) -> Result<Vec<Window>, WindowError> {
    if body == 0 || stride >= body {
        return Err(WindowError { body, stride });
    }
    let mut out = Vec::new();
    // the sentences as token ranges, empty ones (no tokens) left out
    let mut bounds: Vec<(usize, usize)> = Vec::with_capacity(starts.len());
    for (k, &s) in starts.iter().enumerate() {
        let e = starts.get(k + 1).copied().unwrap_or(n).min(n);
        if s < e {
            bounds.push((s, e));
        }
    }
    let mut open: Option<Window> = None; // sentences packed so far
    for (s, e) in bounds {
        if e - s > body {
            out.extend(open.take());
            out.extend(windows(e - s, body, stride)?.into_iter().map(|w| Window {
                start: s + w.start,
                end: s + w.end,
            }));
            continue;
        }
        match open.as_mut() {
            Some(w) if pack && e - w.start <= body => w.end = e,
            _ => {
                out.extend(open.take());
                open = Some(Window { start: s, end: e });
            }
        }
    }
    out.extend(open);
    Ok(out)
}

/// For each of the `n` tokens, the index of the window (in `windows`, sorted by start) in which
/// it has the most context; ties go to the earlier window.
pub fn assign(windows: &[Window], n: usize) -> Vec<usize> {
    let mut best: Vec<(usize, usize)> = vec![(usize::MAX, 0); n]; // (window, context)
    for (w, win) in windows.iter().enumerate() {
        for (i, slot) in best.iter_mut().enumerate().take(win.end).skip(win.start) {
            let c = win.context(i);
            if slot.0 == usize::MAX || c > slot.1 {
                *slot = (w, c);
            }
        }
    }
    best.into_iter().map(|(w, _)| w).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_and_exact_passages_are_one_window() {
        assert_eq!(windows(0, 510, 128).unwrap(), vec![]);
        assert_eq!(
            windows(5, 510, 128).unwrap(),
            vec![Window { start: 0, end: 5 }]
        );
        assert_eq!(windows(510, 510, 128).unwrap().len(), 1);
        assert!(windows(10, 4, 4).is_err());
    }

    #[test]
    fn long_passages_get_even_windows_overlapping_by_the_stride() {
        // 1000 tokens: 3 windows of ceil((1000 + 2 * 128) / 3) = 419, starts 0, 290, 581
        let w = windows(1000, 510, 128).unwrap();
        assert_eq!(
            w,
            vec![
                Window { start: 0, end: 419 },
                Window {
                    start: 290,
                    end: 709
                },
                Window {
                    start: 581,
                    end: 1000
                },
            ]
        );
        let a = assign(&w, 1000);
        assert_eq!(a[0], 0);
        assert_eq!(a[999], 2);
        // Token 360: in window 0 context min(360, 58) = 58; in window 1 min(70, 348) = 70.
        assert_eq!(a[360], 1);
        // 600 tokens: two windows of 364 (overlap 128), not 510 + 510
        assert_eq!(
            windows(600, 510, 128).unwrap(),
            vec![
                Window { start: 0, end: 364 },
                Window {
                    start: 236,
                    end: 600
                }
            ]
        );
        // one token over: two windows of (511 + 128) / 2 rounded up
        assert_eq!(
            windows(511, 510, 128).unwrap(),
            vec![
                Window { start: 0, end: 320 },
                Window {
                    start: 191,
                    end: 511
                }
            ]
        );
    }

    #[test]
    fn sentences_are_inputs_of_their_own_or_packed() {
        // sentences of 3, 4, 2 and 12 tokens; windows of 6 tokens, overlap 2
        let starts = [0, 3, 7, 9];
        let w = |start, end| Window { start, end };
        assert_eq!(
            sentence_windows(&starts, 21, 6, 2, false).unwrap(),
            vec![w(0, 3), w(3, 7), w(7, 9), w(9, 15), w(12, 18), w(15, 21)]
        );
        // packed: 3 + 4 > 6, so the second starts a new input, which the third joins
        assert_eq!(
            sentence_windows(&starts, 21, 6, 2, true).unwrap(),
            vec![w(0, 3), w(3, 9), w(9, 15), w(12, 18), w(15, 21)]
        );
        // sentences without tokens are skipped; no sentences at all: no inputs
        assert_eq!(
            sentence_windows(&[0, 0, 2, 2], 4, 6, 2, false).unwrap(),
            vec![w(0, 2), w(2, 4)]
        );
        assert_eq!(sentence_windows(&[0], 0, 6, 2, true).unwrap(), vec![]);
        assert!(sentence_windows(&[0], 5, 2, 2, true).is_err());
    }

    proptest! {
        #[test]
        fn sentence_windows_cover_every_token_and_never_mix_a_cut_sentence(
            lens in proptest::collection::vec(0usize..40, 0..30),
            body in 4usize..64, stride_frac in 0.0f64..0.9, pack in any::<bool>(),
        ) {
            let stride = ((body as f64) * stride_frac) as usize;
            prop_assume!(stride < body);
            let mut starts = Vec::new();
            let mut n = 0;
            for l in &lens {
                starts.push(n);
                n += l;
            }
            if starts.is_empty() {
                starts.push(0);
            }
            let w = sentence_windows(&starts, n, body, stride, pack).unwrap();
            let a = assign(&w, n);
            prop_assert_eq!(a.len(), n);
            let sentence_of = |i: usize| starts.iter().rposition(|&s| s <= i).unwrap();
            for pair in w.windows(2) {
                prop_assert!(pair[0].start < pair[1].start);
            }
            for win in &w {
                prop_assert!(!win.is_empty() && win.len() <= body && win.end <= n);
                let (first, last) = (sentence_of(win.start), sentence_of(win.end - 1));
                if first != last {
                    // several sentences: all of each, and packing asked for
                    prop_assert!(pack);
                    prop_assert_eq!(starts[first], win.start);
                    prop_assert!(starts.get(last + 1).is_none_or(|&s| s == win.end));
                }
                if !pack {
                    prop_assert_eq!(first, last);
                }
            }
            for (i, &wi) in a.iter().enumerate() {
                prop_assert!(w[wi].start <= i && i < w[wi].end);
            }
        }

        #[test]
        fn windows_cover_every_token_and_respect_the_limits(
            n in 0usize..3000, body in 2usize..600, stride_frac in 0.0f64..0.95
        ) {
            let stride = ((body as f64) * stride_frac) as usize;
            prop_assume!(stride < body);
            let w = windows(n, body, stride).unwrap();
            let a = assign(&w, n);
            prop_assert_eq!(a.len(), n);
            for win in &w {
                prop_assert!(!win.is_empty() && win.len() <= body && win.end <= n);
            }
            for pair in w.windows(2) {
                prop_assert!(pair[0].start < pair[1].start);
                prop_assert!(pair[0].end >= pair[1].start + stride, "overlap below stride");
            }
            if n > body {
                // the fewest windows, and overlaps no longer than the stride needs (rounding
                // aside): no token slots wasted
                let k = (n - stride).div_ceil(body - stride);
                prop_assert_eq!(w.len(), k);
                prop_assert_eq!(w[0].start, 0);
                prop_assert_eq!(w[k - 1].end, n);
                let slots: usize = w.iter().map(Window::len).sum();
                prop_assert!(slots < n + (k - 1) * stride + k, "{} slots for {} tokens", slots, n);
            }
            for (i, &wi) in a.iter().enumerate() {
                let win = w[wi];
                prop_assert!(win.start <= i && i < win.end);
                // No other window gives the token more context.
                for other in w.iter().filter(|o| o.start <= i && i < o.end) {
                    prop_assert!(other.context(i) <= win.context(i));
                }
            }
        }
    }
}
