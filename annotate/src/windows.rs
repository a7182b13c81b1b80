//! Sliding windows over a passage's tokens, so that no text is ever truncated.
//!
//! A model sees at most `max_len` tokens, [CLS] and [SEP] included, so a window holds at most
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
/// at least `stride`. The last window is aligned to the end of the passage, so it is full too.
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
    let step = body - stride;
    let mut out = Vec::with_capacity(n / step + 1);
    let mut start = 0;
    loop {
        if start + body >= n {
            out.push(Window {
                start: n - body,
                end: n,
            });
            return Ok(out);
        }
        out.push(Window {
            start,
            end: start + body,
        });
        start += step;
    }
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
    fn long_passages_overlap_and_end_aligned() {
        let w = windows(1000, 510, 128).unwrap();
        assert_eq!(
            w,
            vec![
                Window { start: 0, end: 510 },
                Window {
                    start: 382,
                    end: 892
                },
                Window {
                    start: 490,
                    end: 1000
                },
            ]
        );
        let a = assign(&w, 1000);
        assert_eq!(a[0], 0);
        assert_eq!(a[999], 2);
        // Token 450: 450 in window 0 has context min(450, 59) = 59; in window 1 min(68, 441) = 68.
        assert_eq!(a[450], 1);
    }

    proptest! {
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
