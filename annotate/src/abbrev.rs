//! Abbreviation definitions, "long form (SF)" and "SF (long form)", found by the algorithm of
//! Schwartz and Hearst ("A simple algorithm for identifying abbreviation definitions in
//! biomedical text", PSB 2003; about 96% precision and 82% recall on the Medstract corpus), with
//! the character offsets of both forms.
//!
//! The algorithm, as published: a short-form candidate is the text inside parentheses (up to a
//! `;` or `,`) of at most two words and at most ten characters, with a letter, that starts with
//! a letter or digit; its long-form candidate is at most min(|SF| + 5, 2|SF|) words before the
//! parenthesis, within the sentence. The long form is then the shortest stretch of those words
//! that holds the short form's letters and digits in order, matched from the right, the first
//! one at the start of a word. When the parenthesis holds more than two words, the word before
//! it is tried as the short form and the parenthesis as its long form.
//!
//! Beyond the paper: parentheses nest (the short form is read to the matching one); a Greek
//! letter of a short form matches itself or its name spelt out (`TNF-α` in `tumor necrosis
//! factor alpha`); a definition may cross a line break (any whitespace separates words); and
//! parentheses that hold a figure, table or equation reference, a comparison or an equation
//! (`(Fig. 2)`, `(p < 0.05)`, `(n = 12)`) are never short forms.

/// One definition, in character offsets of the passage: `[start, end)` of each form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Definition {
    pub short: (usize, usize),
    pub long: (usize, usize),
}

/// The most characters a short form has, and the most words.
const MAX_SHORT_CHARS: usize = 10;
const MAX_SHORT_WORDS: usize = 2;
/// The most characters read inside one parenthesis.
const MAX_INSIDE: usize = 200;

/// Words that open a parenthesis that refers, not abbreviates.
const REFERENCES: &[&str] = &[
    "fig",
    "figs",
    "figure",
    "figures",
    "table",
    "tables",
    "tab",
    "eq",
    "eqs",
    "equation",
    "ref",
    "refs",
    "suppl",
    "supplementary",
    "see",
    "e.g",
    "i.e",
    "cf",
    "vs",
    "appendix",
    "chapter",
    "section",
    "panel",
];

/// The definitions in `text`, in order.
pub fn definitions(text: &str) -> Vec<Definition> {
    let c: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if c[i] != '(' {
            i += 1;
            continue;
        }
        let Some(close) = matching(&c, i) else {
            i += 1;
            continue;
        };
        if let Some(d) = at_parenthesis(&c, i, close) {
            out.push(d);
        }
        i += 1;
    }
    out
}

/// The index of the `)` that closes the `(` at `open`, within [`MAX_INSIDE`] characters.
fn matching(c: &[char], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, &ch) in c.iter().enumerate().skip(open).take(MAX_INSIDE + 2) {
        match ch {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

/// `[start, end)` trimmed of whitespace.
fn trim(c: &[char], mut start: usize, mut end: usize) -> (usize, usize) {
    while start < end && c[start].is_whitespace() {
        start += 1;
    }
    while end > start && c[end - 1].is_whitespace() {
        end -= 1;
    }
    (start, end)
}

fn words(c: &[char], (start, end): (usize, usize)) -> usize {
    let mut n = 0;
    let mut in_word = false;
    for &ch in &c[start..end] {
        if ch.is_whitespace() {
            in_word = false;
        } else if !in_word {
            in_word = true;
            n += 1;
        }
    }
    n
}

/// The definition a parenthesis `(open ... close)` gives, if any.
fn at_parenthesis(c: &[char], open: usize, close: usize) -> Option<Definition> {
    // The inside, up to a `;` or `,` at its own level.
    let mut end = close;
    let mut depth = 0usize;
    for (k, &ch) in c.iter().enumerate().take(close).skip(open + 1) {
        match ch {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ';' | ',' if depth == 0 => {
                end = k;
                break;
            }
            _ => {}
        }
    }
    let inside = trim(c, open + 1, end);
    if inside.0 == inside.1 {
        return None;
    }
    let sentence = sentence_start(c, open);
    if words(c, inside) <= MAX_SHORT_WORDS {
        // long form (SF)
        let short = inside;
        if !is_short_form(&c[short.0..short.1]) {
            return None;
        }
        let sf_len = short.1 - short.0;
        let max_words = (sf_len + 5).min(sf_len * 2);
        let before = last_words(c, sentence, open, max_words)?;
        let long = long_form(&c[short.0..short.1], c, before)?;
        valid(c, short, long, max_words).then_some(Definition { short, long })
    } else {
        // SF (long form): the word just before the parenthesis.
        let word_end = trim(c, sentence, open).1;
        let mut word_start = word_end;
        while word_start > sentence && !c[word_start - 1].is_whitespace() {
            word_start -= 1;
        }
        let short = (word_start, word_end);
        // A word before a parenthesis is mostly a word: only one that looks like an acronym
        // (a capital after the first letter, or a digit) is taken for a short form here.
        let acronym = c[short.0..short.1]
            .iter()
            .skip(1)
            .any(|ch| ch.is_uppercase() || ch.is_ascii_digit());
        if short.0 == short.1 || !acronym || !is_short_form(&c[short.0..short.1]) {
            return None;
        }
        let sf_len = short.1 - short.0;
        let max_words = (sf_len + 5).min(sf_len * 2);
        let long = long_form(&c[short.0..short.1], c, inside)?;
        // The long form is the whole parenthesis, not the end of it.
        (long.0 == inside.0 && valid(c, short, long, max_words))
            .then_some(Definition { short, long })
    }
}

/// Where the sentence holding `at` starts: after the last `.`, `?` or `!` followed by
/// whitespace (a decimal point or an abbreviation's dot inside a word does not end one).
fn sentence_start(c: &[char], at: usize) -> usize {
    let mut k = at;
    while k > 1 {
        if matches!(c[k - 2], '.' | '?' | '!') && c[k - 1].is_whitespace() {
            return k;
        }
        k -= 1;
    }
    0
}

/// The span of at most `max_words` words that end just before `end`, from `from` on.
fn last_words(c: &[char], from: usize, end: usize, max_words: usize) -> Option<(usize, usize)> {
    let (from, end) = trim(c, from, end);
    if from == end {
        return None;
    }
    let mut start = end;
    let mut n = 0;
    while start > from {
        // Back over one word and the whitespace before it.
        while start > from && !c[start - 1].is_whitespace() {
            start -= 1;
        }
        n += 1;
        if n == max_words {
            break;
        }
        while start > from && c[start - 1].is_whitespace() {
            start -= 1;
        }
    }
    Some(trim(c, start, end))
}

/// A short form: a letter in it, a letter or digit first, at most ten characters and two words,
/// and not a reference, comparison or equation.
fn is_short_form(sf: &[char]) -> bool {
    let Some(&first) = sf.first() else {
        return false;
    };
    if sf.len() < 2 || sf.len() > MAX_SHORT_CHARS || !first.is_alphanumeric() {
        return false;
    }
    if !sf.iter().any(|ch| ch.is_alphabetic()) {
        return false;
    }
    if sf.iter().any(|ch| {
        matches!(
            ch,
            '=' | '<' | '>' | '±' | '≤' | '≥' | '%' | '×' | '(' | ')' | '[' | ']'
        )
    }) || sf.last() == Some(&'.')
    {
        return false;
    }
    let first_word: String = sf
        .iter()
        .take_while(|ch| ch.is_alphanumeric() || **ch == '.')
        .collect::<String>()
        .trim_end_matches('.')
        .to_lowercase();
    !REFERENCES.contains(&first_word.as_str())
}

/// The names of the Greek letters, for a short form that writes one where its long form spells
/// it out.
fn greek_initial(ch: char) -> Option<char> {
    const GREEK: &str = "αaβbγgδdεeζzηeθtιiκkλlμmνnξxοoπpρrσsςsτtυuφpχcψpωo";
    let letters: Vec<char> = GREEK.chars().collect();
    letters
        .chunks(2)
        .find(|pair| pair[0] == ch)
        .map(|pair| pair[1])
}

fn lower(ch: char) -> char {
    ch.to_lowercase().next().unwrap_or(ch)
}

/// The long form of `sf` within `span` of `c` (Schwartz and Hearst's `findBestLongForm`).
fn long_form(sf: &[char], c: &[char], span: (usize, usize)) -> Option<(usize, usize)> {
    let lf = &c[span.0..span.1];
    let mut s = sf.len();
    let mut l = lf.len();
    while s > 0 {
        let ch = lower(sf[s - 1]);
        if !ch.is_alphanumeric() {
            s -= 1;
            continue;
        }
        let greek = greek_initial(ch);
        let first = s == 1;
        loop {
            if l == 0 {
                return None;
            }
            let here = lower(lf[l - 1]);
            let at_word_start = l < 2 || !lf[l - 2].is_alphanumeric();
            if (here == ch || Some(here) == greek) && (!first || at_word_start) {
                break;
            }
            l -= 1;
        }
        l -= 1;
        s -= 1;
    }
    // Back to the start of the word holding the first letter matched.
    let mut start = l;
    while start > 0 && !lf[start - 1].is_whitespace() {
        start -= 1;
    }
    // Not the bracket or quote that opens the word.
    while matches!(lf[start], '(' | '[' | '{' | '"' | '\'' | '“' | '‘') {
        start += 1;
    }
    Some((span.0 + start, span.1))
}

/// The paper's checks of a pair: the long form longer than the short form, of at most
/// `max_words` words, and not holding the short form as a word of its own; and, beyond the
/// paper, no `;`, `=` or comma between words in the long form, and its brackets balanced (a long form that runs
/// out of a parenthesis is a stretch of text, not a name).
fn valid(c: &[char], short: (usize, usize), long: (usize, usize), max_words: usize) -> bool {
    let (sf, lf) = (&c[short.0..short.1], &c[long.0..long.1]);
    if lf.len() <= sf.len() || words(c, long) > max_words {
        return false;
    }
    // A comma between words: a list, not a name (a chemical name's `3,5-` is one word).
    if lf.windows(2).any(|w| w[0] == ',' && w[1].is_whitespace()) {
        return false;
    }
    let mut depth = 0i32;
    for ch in lf {
        match ch {
            ';' | '=' => return false,
            '(' | '[' => depth += 1,
            ')' | ']' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    if depth != 0 {
        return false;
    }
    let sf: String = sf.iter().collect::<String>().to_lowercase();
    let lf: String = lf.iter().collect::<String>().to_lowercase();
    !lf.split(|ch: char| !ch.is_alphanumeric()).any(|w| w == sf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The (short, long) texts found in `text`.
    fn found(text: &str) -> Vec<(String, String)> {
        let c: Vec<char> = text.chars().collect();
        let s = |(a, b): (usize, usize)| c[a..b].iter().collect::<String>();
        definitions(text)
            .into_iter()
            .map(|d| (s(d.short), s(d.long)))
            .collect()
    }

    fn pair(short: &str, long: &str) -> Vec<(String, String)> {
        vec![(short.into(), long.into())]
    }

    #[test]
    fn the_papers_examples() {
        // Schwartz and Hearst's own examples.
        assert_eq!(
            found("We studied the heat shock transcription factor (HSF) in yeast."),
            pair("HSF", "heat shock transcription factor")
        );
        assert_eq!(
            found(
                "Mutations in the transcription factor TFIID (transcription factor II D) were seen."
            ),
            pair("TFIID", "transcription factor II D")
        );
        // The first letter of the short form starts a word of the long form: not "symbiosis".
        assert_eq!(
            found("Three isolates of Gram-positive bacteria formed a symbiosis in the gut (GPB)."),
            Vec::<(String, String)>::new()
        );
    }

    #[test]
    fn biomedical_short_forms() {
        assert_eq!(
            found("Patients with non-small cell lung cancer (NSCLC) were enrolled."),
            pair("NSCLC", "non-small cell lung cancer")
        );
        assert_eq!(
            found("Acetylsalicylic acid (ASA; aspirin) lowers risk."),
            pair("ASA", "Acetylsalicylic acid")
        );
        // Digits and Greek letters in the short form.
        assert_eq!(
            found("Levels of interleukin-6 (IL-6) rose."),
            pair("IL-6", "interleukin-6")
        );
        assert_eq!(
            found("We measured tumor necrosis factor alpha (TNF-α) in serum."),
            pair("TNF-α", "tumor necrosis factor alpha")
        );
        assert_eq!(
            found("Serum transforming growth factor-β (TGF-β) was high."),
            pair("TGF-β", "transforming growth factor-β")
        );
    }

    #[test]
    fn short_form_first() {
        assert_eq!(
            found("We found that NSCLC (non-small cell lung cancer) responded."),
            pair("NSCLC", "non-small cell lung cancer")
        );
    }

    #[test]
    fn nesting_and_line_breaks() {
        // A definition across a line break.
        assert_eq!(
            found("chronic obstructive\npulmonary disease (COPD) in smokers"),
            pair("COPD", "chronic obstructive\npulmonary disease")
        );
        // The outer parenthesis nests another: the short form is read up to its own `;`.
        assert_eq!(
            found("magnetic resonance imaging (MRI; see methods (below)) was done"),
            pair("MRI", "magnetic resonance imaging")
        );
        // The inner parenthesis of a nested pair is read on its own.
        assert_eq!(
            found("in the cohort (body mass index (BMI) above 30)"),
            pair("BMI", "body mass index")
        );
    }

    #[test]
    fn parentheses_that_are_not_abbreviations() {
        for text in [
            "Risk fell significantly (p < 0.05) in both arms.",
            "Twelve mice were treated (n = 12).",
            "Staining was strong (Fig. 2) in the tumour.",
            "As shown before (Table 1), doses varied.",
            "The dose was high (10 mg) and the rate low (5%).",
            "Mice (C57BL/6) were used.",
            "the drug was given (twice daily) to all",
            "an unclosed parenthesis (ABC at the end",
            // A word before a parenthesis that is not an acronym.
            "funded by Norway (Norwegian Cancer Society) and others",
            "that is (i. e. in time) the lysis",
            // Long forms that run out of a parenthesis.
            "levels of T3 (T4), but not 3,5,3′-triiodothyronine, fell",
            "LipT (34 kDa), 3 µg; LipU (33 kDa), 1 µg",
            "bile salts N-lauroylsarcosine, sodium taurodeoxycholate (NaTDC) were added",
        ] {
            assert_eq!(found(text), Vec::<(String, String)>::new(), "{text}");
        }
    }

    #[test]
    fn offsets_are_characters() {
        let text = "Naïve β-cells: heat shock protein (HSP) rose.";
        let d = definitions(text);
        assert_eq!(d.len(), 1);
        let c: Vec<char> = text.chars().collect();
        assert_eq!(
            c[d[0].short.0..d[0].short.1].iter().collect::<String>(),
            "HSP"
        );
        assert_eq!(d[0].long.0, 15);
    }
}
