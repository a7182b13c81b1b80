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

use pubmine_stream::record::{ABBREVIATION_MODEL, Abbreviation, Document, Mention};

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

/// The version of [`resolve`]'s rules, the "hash" of the abbreviation pseudo-model
/// ([`pubmine_stream::record::ABBREVIATION_MODEL`]): mentions it added are replaced when the
/// rules change.
pub const RULES_VERSION: &str = "schwartz-hearst-1";

/// The abbreviations `doc` defines, in passage and offset order, with the text of both forms.
pub fn defined(doc: &Document) -> Vec<Abbreviation> {
    let mut found = Vec::new();
    for (p, passage) in doc.passages.iter().enumerate() {
        let chars: Vec<char> = passage.text.chars().collect();
        for d in definitions(&passage.text) {
            let slice = |(a, b): (usize, usize)| chars[a..b].iter().collect::<String>();
            found.push(Abbreviation {
                passage: p as u32,
                short_start: d.short.0 as u32,
                short_end: d.short.1 as u32,
                short: slice(d.short),
                long_start: d.long.0 as u32,
                long_end: d.long.1 as u32,
                long: slice(d.long),
            });
        }
    }
    found
}

/// The abbreviations `doc` defines ([`defined`]), and what they do to its `mentions` (every model's, in
/// passage and offset order, as they leave the NER models):
///
/// - A long form takes the type of the mention that ends where it ends and lies within it (the
///   head of an English noun phrase is its last word: "non-small cell lung cancer" is a
///   Disease when "lung cancer" is one), the longest such mention when there are several. A
///   long form without one types nothing.
/// - Each occurrence of a typed short form in the document (a whole word, case as defined;
///   anywhere in the document, the definition's own included) that a mention marks exactly
///   takes the long form's type; one that no mention touches becomes a mention of that type, with
///   the long form's mention's score and the model [`ABBREVIATION_MODEL`]; one that a mention
///   overlaps otherwise is left to that mention.
/// - A short form defined twice keeps its first definition's type.
///
/// Returns the abbreviations, in passage and offset order; `mentions` stays in that order.
pub fn resolve(doc: &Document, mentions: &mut Vec<Mention>) -> Vec<Abbreviation> {
    let found = defined(doc);
    // Short form -> (type, score) of its long form.
    let mut typed: Vec<(String, String, f32)> = Vec::new();
    for a in &found {
        let head = mentions
            .iter()
            .filter(|m| m.passage == a.passage && m.end == a.long_end && m.start >= a.long_start)
            .min_by_key(|m| m.start);
        if let Some(m) = head
            && !typed.iter().any(|(s, _, _)| *s == a.short)
        {
            typed.push((a.short.clone(), m.ty.clone(), m.score));
        }
    }
    if typed.is_empty() {
        return found;
    }
    let mut added = Vec::new();
    for (p, passage) in doc.passages.iter().enumerate() {
        let p = p as u32;
        let chars: Vec<char> = passage.text.chars().collect();
        for (short, ty, score) in &typed {
            for (start, end) in occurrences(&chars, short) {
                let (start, end) = (start as u32, end as u32);
                let mut touched = false;
                for m in mentions.iter_mut().filter(|m| m.passage == p) {
                    if m.start == start && m.end == end {
                        m.ty.clone_from(ty);
                        touched = true;
                    } else if m.start < end && start < m.end {
                        touched = true;
                    }
                }
                if !touched {
                    added.push(Mention {
                        passage: p,
                        start,
                        end,
                        text: short.clone(),
                        ty: ty.clone(),
                        score: *score,
                        model: ABBREVIATION_MODEL.to_owned(),
                        concept: None,
                    });
                }
            }
        }
    }
    if !added.is_empty() {
        mentions.extend(added);
        mentions.sort_by_key(|m| (m.passage, m.start, m.end));
    }
    found
}

/// Where `word` occurs in `text` as a whole word: not inside a longer run of letters and
/// digits.
fn occurrences(text: &[char], word: &str) -> Vec<(usize, usize)> {
    let w: Vec<char> = word.chars().collect();
    if w.is_empty() || w.len() > text.len() {
        return Vec::new();
    }
    let inside = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric());
    (0..=text.len() - w.len())
        .filter(|&i| text[i..i + w.len()] == w[..])
        .filter(|&i| {
            let before = i.checked_sub(1).and_then(|j| text.get(j));
            let glued_before = inside(before) && inside(w.first());
            let glued_after = inside(text.get(i + w.len())) && inside(w.last());
            !glued_before && !glued_after
        })
        .map(|i| (i, i + w.len()))
        .collect()
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

    fn mention(p: u32, text: &str, in_text: &str, ty: &str, model: &str) -> Mention {
        let at = in_text.find(text).expect("in the text");
        let start = in_text[..at].chars().count() as u32;
        Mention {
            passage: p,
            start,
            end: start + text.chars().count() as u32,
            text: text.into(),
            ty: ty.into(),
            score: 0.9,
            model: model.into(),
            concept: None,
        }
    }

    #[test]
    fn short_forms_take_their_long_forms_type_and_missed_ones_become_mentions() {
        use pubmine_stream::record::{Passage, PassageKind, SourceKind};
        let title = "NSCLC and ASA";
        let text = "Patients with non-small cell lung cancer (NSCLC) took acetylsalicylic acid \
                    (ASA). ASA lowered NSCLC risk; NSCLCs differ. The Kras(ASA2) gene.";
        let mut doc = Document::new(SourceKind::Pubmed, "pmid:1".into());
        doc.passages = vec![
            Passage::new(PassageKind::Title, title.into()),
            Passage::new(PassageKind::Abstract, text.into()),
        ];
        let mut mentions = vec![
            mention(0, "ASA", title, "Gene", "ner-gene"),
            mention(1, "lung cancer", text, "Disease", "ner-disease"),
            mention(1, "acetylsalicylic acid", text, "Chemical", "ner-chemical"),
            // A model marked part of one occurrence: that occurrence is its.
            mention(1, "NSCLC risk", text, "Disease", "ner-disease"),
        ];
        let found = resolve(&doc, &mut mentions);
        let pairs: Vec<(&str, &str)> = found
            .iter()
            .map(|a| (a.short.as_str(), a.long.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("NSCLC", "non-small cell lung cancer"),
                ("ASA", "acetylsalicylic acid")
            ]
        );
        let chars: Vec<char> = text.chars().collect();
        let a = &found[0];
        assert_eq!(
            chars[a.short_start as usize..a.short_end as usize]
                .iter()
                .collect::<String>(),
            "NSCLC"
        );
        let got: Vec<(u32, &str, &str, &str)> = mentions
            .iter()
            .map(|m| (m.passage, m.text.as_str(), m.ty.as_str(), m.model.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                // The title's NSCLC, missed by the models; its ASA, retyped.
                (0, "NSCLC", "Disease", ABBREVIATION_MODEL),
                (0, "ASA", "Chemical", "ner-gene"),
                (1, "lung cancer", "Disease", "ner-disease"),
                (1, "NSCLC", "Disease", ABBREVIATION_MODEL),
                (1, "acetylsalicylic acid", "Chemical", "ner-chemical"),
                (1, "ASA", "Chemical", ABBREVIATION_MODEL),
                (1, "ASA", "Chemical", ABBREVIATION_MODEL),
                (1, "NSCLC risk", "Disease", "ner-disease"),
                // "NSCLCs" and "ASA2" are other words.
            ]
        );
        for m in &mentions {
            let passage: Vec<char> = doc.passages[m.passage as usize].text.chars().collect();
            let at: String = passage[m.start as usize..m.end as usize].iter().collect();
            assert_eq!(at, m.text);
        }
    }

    #[test]
    fn a_long_form_no_mention_ends_types_nothing() {
        use pubmine_stream::record::{Passage, PassageKind, SourceKind};
        let text = "The body mass index (BMI) rose; BMI fell.";
        let mut doc = Document::new(SourceKind::Pubmed, "pmid:2".into());
        doc.passages = vec![Passage::new(PassageKind::Abstract, text.into())];
        let mut mentions = vec![mention(0, "body", text, "Other", "m")];
        let found = resolve(&doc, &mut mentions);
        assert_eq!(found.len(), 1);
        assert_eq!(mentions.len(), 1);
    }
}
