//! Sentence splitting of a passage, for relation extraction: candidates pair mentions of one
//! sentence. Offsets are Unicode characters within the passage, as everywhere in pubmine.
//!
//! A boundary is a `.`, `!` or `?` (with any closing quotes or brackets after it), then
//! whitespace, then something that can start a sentence: an upper-case letter or a digit,
//! possibly behind an opening quote or bracket. That already keeps decimals (`0.05`), gene names
//! with dots (`Nkx2.5`) and species written the usual way (`E. coli`) in one sentence. On top of
//! it, no boundary falls:
//!
//! - after a known abbreviation (`e.g.`, `i.e.`, `et al.`, `vs.`, `approx.`, `cf.`, `Dr.`, ...),
//!   or after `Fig.`, `No.`, `Eq.`, `Ref.`, ... before a number;
//! - after a dotted abbreviation (`U.S.`, `a.m.`) or a single capital (an initial, a genus
//!   abbreviation: `S. Aureus` as some write it, `J. Smith`);
//! - inside parentheses or brackets opened less than [`MAX_BRACKET`] characters before (an
//!   unclosed bracket further back is taken for a stray one);
//! - inside a mention: [`merge_around`] joins the sentences a mention would straddle.
//!
//! It errs on the side of too few boundaries: a missed one makes a longer sentence (more
//! candidate pairs), a wrong one loses pairs for good.

/// A sentence: characters `start..end` of the passage, with no leading or trailing whitespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sentence {
    pub start: usize,
    pub end: usize,
}

/// An open bracket further back than this many characters does not hold a boundary back.
pub const MAX_BRACKET: usize = 300;

/// Abbreviations (lower case, without the final dot) after which a sentence never ends.
const ABBREVIATIONS: &[&str] = &[
    "e.g", "i.e", "eg", "ie", "al", "vs", "v", "approx", "cf", "viz", "resp", "ca", "dr", "mr",
    "mrs", "ms", "prof", "st", "sp", "spp", "subsp", "var", "cv", "incl", "esp", "jr", "sr",
    "dept", "univ",
];

/// Abbreviations after which a sentence does not end when a number follows (`Fig. 2`).
const BEFORE_NUMBER: &[&str] = &[
    "fig", "figs", "no", "nos", "eq", "eqs", "ref", "refs", "tab", "tabs", "table", "p", "pp",
    "chap", "ch", "sect", "sec", "suppl", "art", "n", "vols", "ed", "eds", "exp", "expt",
];

fn is_terminator(c: char) -> bool {
    matches!(c, '.' | '!' | '?')
}

fn is_closing(c: char) -> bool {
    matches!(c, ')' | ']' | '}' | '"' | '\'' | '”' | '’' | '»')
}

fn is_opening(c: char) -> bool {
    matches!(c, '(' | '[' | '{' | '"' | '\'' | '“' | '‘' | '«')
}

fn can_start(c: char) -> bool {
    c.is_uppercase() || c.is_ascii_digit()
}

/// The word ending at `end` (exclusive): back to whitespace, without leading brackets or quotes.
fn word_before(chars: &[char], end: usize) -> &[char] {
    let mut s = end;
    while s > 0 && !chars[s - 1].is_whitespace() {
        s -= 1;
    }
    while s < end && (is_opening(chars[s]) || chars[s] == '-') {
        s += 1;
    }
    &chars[s..end]
}

/// Whether the `.` at `dot`, followed by a sentence start at `next`, ends no sentence because of
/// the word it closes.
fn abbreviation(chars: &[char], dot: usize, next: usize) -> bool {
    let word = word_before(chars, dot);
    if word.is_empty() {
        return false;
    }
    let lower: String = word.iter().flat_map(|c| c.to_lowercase()).collect();
    if ABBREVIATIONS.contains(&lower.as_str()) {
        return true;
    }
    if BEFORE_NUMBER.contains(&lower.as_str()) && chars[next].is_ascii_digit() {
        return true;
    }
    // A single capital: an initial or an abbreviated genus.
    if word.len() == 1 && word[0].is_uppercase() {
        return true;
    }
    // Letters separated by dots: `U.S`, `a.m`, `e.g`.
    let parts: Vec<&[char]> = word.split(|c| *c == '.').collect();
    parts.len() > 1
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 2 && p.iter().all(|c| c.is_alphabetic()))
}

/// The sentences of `text`, in order; whitespace between them belongs to none.
pub fn split(text: &str) -> Vec<Sentence> {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let mut out = Vec::new();
    // Positions of the open brackets, innermost last.
    let mut open: Vec<(char, usize)> = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < n {
        let c = chars[i];
        match c {
            '(' | '[' | '{' => open.push((c, i)),
            ')' | ']' | '}' => {
                let want = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                if let Some(k) = open.iter().rposition(|(o, _)| *o == want) {
                    open.truncate(k);
                }
            }
            _ => {}
        }
        if !is_terminator(c) {
            i += 1;
            continue;
        }
        // The end of the sentence: the terminators, then closing quotes and brackets.
        let mut end = i + 1;
        while end < n && is_terminator(chars[end]) {
            end += 1;
        }
        while end < n && is_closing(chars[end]) {
            let cl = chars[end];
            if matches!(cl, ')' | ']' | '}') {
                let want = match cl {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                if let Some(k) = open.iter().rposition(|(o, _)| *o == want) {
                    open.truncate(k);
                }
            }
            end += 1;
        }
        let mut next = end;
        while next < n && chars[next].is_whitespace() {
            next += 1;
        }
        let boundary = next > end
            && next < n
            && {
                let mut k = next;
                while k < n && is_opening(chars[k]) {
                    k += 1;
                }
                k < n && can_start(chars[k])
            }
            && !open.iter().any(|&(_, at)| i - at < MAX_BRACKET)
            && !(c == '.' && end == i + 1 && abbreviation(&chars, i, next));
        if boundary {
            push(&chars, start, end, &mut out);
            start = next;
            open.clear();
        }
        i = end.max(i + 1);
    }
    push(&chars, start, n, &mut out);
    out
}

fn push(chars: &[char], mut start: usize, mut end: usize, out: &mut Vec<Sentence>) {
    while start < end && chars[start].is_whitespace() {
        start += 1;
    }
    while end > start && chars[end - 1].is_whitespace() {
        end -= 1;
    }
    if start < end {
        out.push(Sentence { start, end });
    }
}

/// Joins consecutive sentences where a span (a mention, `start..end` in characters) would be cut
/// by the boundary between them.
pub fn merge_around(sentences: Vec<Sentence>, spans: &[(usize, usize)]) -> Vec<Sentence> {
    // A span crosses the boundary before `s` when it starts before `s` and ends after the
    // sentence before it: sweep the spans in order of start, keeping the furthest end of those
    // started, so each boundary costs no walk over all spans.
    let mut by_start = spans.to_vec();
    by_start.sort_unstable();
    let mut next = 0;
    let mut furthest: Option<usize> = None;
    let mut out: Vec<Sentence> = Vec::with_capacity(sentences.len());
    for s in sentences {
        while next < by_start.len() && by_start[next].0 < s.start {
            furthest = furthest.max(Some(by_start[next].1));
            next += 1;
        }
        match out.last_mut() {
            Some(prev) if furthest.is_some_and(|b| b > prev.end) => prev.end = s.end,
            _ => out.push(s),
        }
    }
    out
}

/// The index of the sentence holding `start..end`, if one does.
pub fn sentence_of(sentences: &[Sentence], start: usize, end: usize) -> Option<usize> {
    let k = sentences.partition_point(|s| s.end <= start);
    sentences
        .get(k)
        .filter(|s| s.start <= start && end <= s.end)
        .map(|_| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<String> {
        split(text)
            .into_iter()
            .map(|s| text.chars().skip(s.start).take(s.end - s.start).collect())
            .collect()
    }

    fn one(text: &str) {
        assert_eq!(texts(text), [text], "split {text:?}");
    }

    #[test]
    fn plain_sentences() {
        assert_eq!(
            texts("TP53 is mutated in cancer. It binds DNA! Does it? Yes."),
            [
                "TP53 is mutated in cancer.",
                "It binds DNA!",
                "Does it?",
                "Yes."
            ]
        );
        assert_eq!(texts(""), Vec::<String>::new());
        assert_eq!(texts("  no final stop  "), ["no final stop"]);
    }

    #[test]
    fn abbreviations() {
        one("Several kinases, e.g. AKT1 and MTOR, were inhibited.");
        one("Several kinases (i.e. AKT1) were inhibited.");
        one("As Smith et al. Reported in 2001, the gene was silenced.");
        one("As shown in Fig. 2, BRCA1 loss increased proliferation.");
        one("See Figs. 3 and 4 and Eq. 5 for details.");
        one("Treatment vs. Placebo did not differ.");
        one("The dose was approx. 5 mg per day.");
        one("This agrees with earlier work (cf. Table 1) on asthma.");
        one("Samples were collected by Dr. Jones at the clinic.");
        one("The U.S. Food and Drug Administration approved it.");
    }

    #[test]
    fn numbers_and_p_values() {
        one("Levels rose by 1.5 mg/dl (p < 0.05) in 12.3% of patients.");
        one("The odds ratio was 2.31 (95% CI 1.2-4.5; P = 0.003).");
        assert_eq!(
            texts("The effect was significant (p < 0.05). 25 patients relapsed."),
            [
                "The effect was significant (p < 0.05).",
                "25 patients relapsed."
            ]
        );
    }

    #[test]
    fn species_and_gene_names() {
        one("E. coli and S. aureus were cultured overnight.");
        one("Infection with S. Aureus was common.");
        one("Nkx2.5 and Kir6.2 were expressed in the heart.");
        one("The C. elegans homologue of TP53 is cep-1.");
    }

    #[test]
    fn citations_and_brackets() {
        assert_eq!(
            texts(
                "APOE4 raises the risk of Alzheimer disease (Smith et al., 2001). It also does so in mice."
            ),
            [
                "APOE4 raises the risk of Alzheimer disease (Smith et al., 2001).",
                "It also does so in mice."
            ]
        );
        one("The variant (see Methods. Table 2 lists the primers) was rare.");
        one("The variant [reviewed in Ref. 12. See also 13] was rare.");
        assert_eq!(
            texts("It was rare (in our cohort.) The next was common."),
            ["It was rare (in our cohort.)", "The next was common."]
        );
        assert_eq!(
            texts("He said \"It binds.\" Then it did."),
            ["He said \"It binds.\"", "Then it did."]
        );
        // A stray bracket far back does not hold every later boundary.
        let long = format!("A stray ( bracket {}. The next sentence.", "x ".repeat(200));
        assert_eq!(split(&long).len(), 2);
    }

    #[test]
    fn offsets_are_characters() {
        let text = "Le gène α est muté. Ça change tout.";
        let s = split(text);
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].start, s[0].end), (0, 19));
        assert_eq!(s[1].start, 20);
        assert_eq!(s[1].end, text.chars().count());
    }

    #[test]
    fn mentions_are_never_cut() {
        // A mention the splitter would cut ("Jones. Syndrome" is no real name, but a model may
        // find such a span): the two sentences become one.
        let text = "It was named after Jones. Syndrome X followed. Then more came.";
        let s = split(text);
        assert_eq!(s.len(), 3);
        let merged = merge_around(s.clone(), &[(19, 34)]);
        assert_eq!(merged.len(), 2);
        assert_eq!((merged[0].start, merged[0].end), (0, s[1].end));
        assert_eq!(merged[1], s[2]);
        // Mentions inside one sentence change nothing.
        assert_eq!(merge_around(s.clone(), &[(0, 2), (26, 35)]), s);
        assert_eq!(sentence_of(&merged, 19, 34), Some(0));
        assert_eq!(sentence_of(&s, 19, 34), None);
        assert_eq!(sentence_of(&s, 47, 51), Some(2));
    }

    /// The definition, one boundary and every span at a time.
    fn merge_around_naive(sentences: Vec<Sentence>, spans: &[(usize, usize)]) -> Vec<Sentence> {
        let mut out: Vec<Sentence> = Vec::new();
        for s in sentences {
            match out.last_mut() {
                Some(prev) if spans.iter().any(|&(a, b)| a < s.start && b > prev.end) => {
                    prev.end = s.end;
                }
                _ => out.push(s),
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn merge_around_sweep_is_the_definition(
            lens in proptest::collection::vec(1usize..20, 0..30),
            spans in proptest::collection::vec((0usize..300, 0usize..30), 0..20),
        ) {
            let mut at = 0;
            let sentences: Vec<Sentence> = lens
                .iter()
                .map(|&n| {
                    let s = Sentence { start: at, end: at + n };
                    at += n + 1;
                    s
                })
                .collect();
            let spans: Vec<(usize, usize)> = spans.iter().map(|&(a, n)| (a, a + n)).collect();
            proptest::prop_assert_eq!(
                merge_around(sentences.clone(), &spans),
                merge_around_naive(sentences, &spans)
            );
        }
    }
}
