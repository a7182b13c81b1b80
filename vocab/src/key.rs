//! The matching rules: the one key under which a vocabulary stores a name and under which a
//! mention's text is looked up. Two strings match when their keys are equal. Pure, no I/O.
//!
//! The key of a string is built in these steps:
//!
//! 1. Unicode NFKC, then lowercase (`ＴＮＦ` is `tnf`; case never matters).
//! 2. Greek letters are spelt out (`α` is `alpha`, `κ` is `kappa`, `µ` is `mu`), so `TNF-α`,
//!    `TNF-alpha` and `TNF alpha` match.
//! 3. The text is cut into words at anything that is not a letter or a digit (spaces, hyphens,
//!    commas, slashes, apostrophes, brackets), and the words are joined with nothing between
//!    them, so `IL-6`, `IL 6` and `IL6` match, and `Non-Small-Cell` is `non small cell`. A
//!    possessive `'s` is dropped (`Crohn's disease` is `Crohn disease`).
//! 4. A plural last word is folded to its singular (`tumors` is `tumor`, `therapies` is
//!    `therapy`, `viruses` is `virus`, `lesions` is `lesion`) when it has at least four letters and is
//!    not written all in capitals (`AIDS`, `HIS` and `CAS` stay as they are). Words ending in
//!    `ss`, `us`, `is` or `ous` are not plurals (`mellitus`, `sepsis`, `stress`).
//!
//! What the rules leave out: synonyms the vocabulary does not list (`cancer` is not
//! `neoplasm`), word order (`lung cancer` is not `cancer of the lung`; only the inverted MeSH
//! form `Diabetes Mellitus, Type 2` is also read as `Type 2 Diabetes Mellitus`, see
//! [`uninverted`]), Roman and Arabic numerals (`type II` is not `type 2`), and spelling
//! variants (`tumour` is not `tumor`).

use unicode_normalization::UnicodeNormalization as _;

/// The spelt-out names of the Greek letters, lowercase (after NFKC and lowercasing).
fn greek(c: char) -> Option<&'static str> {
    Some(match c {
        'α' => "alpha",
        'β' => "beta",
        'γ' => "gamma",
        'δ' => "delta",
        'ε' => "epsilon",
        'ζ' => "zeta",
        'η' => "eta",
        'θ' => "theta",
        'ι' => "iota",
        'κ' => "kappa",
        'λ' => "lambda",
        'μ' => "mu",
        'ν' => "nu",
        'ξ' => "xi",
        'ο' => "omicron",
        'π' => "pi",
        'ρ' => "rho",
        'σ' | 'ς' => "sigma",
        'τ' => "tau",
        'υ' => "upsilon",
        'φ' | 'ϕ' => "phi",
        'χ' => "chi",
        'ψ' => "psi",
        'ω' => "omega",
        _ => return None,
    })
}

/// The words of `text` after steps 1 to 3, each with whether it was written all in capitals.
fn words(text: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut word = String::new();
    let mut capitals = true;
    let mut letters = 0usize;
    let flush = |word: &mut String, capitals: &mut bool, letters: &mut usize, out: &mut Vec<_>| {
        if !word.is_empty() {
            out.push((std::mem::take(word), *capitals && *letters > 0));
        }
        *capitals = true;
        *letters = 0;
    };
    // NFKC leaves ASCII as it is: skip it for the common case.
    let chars: Vec<char> = if text.is_ascii() {
        text.chars().collect()
    } else {
        text.nfkc().collect()
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        // A possessive `'s` is dropped: `Crohn's disease` is `Crohn disease`.
        if matches!(c, '\'' | '’')
            && matches!(chars.get(i), Some('s' | 'S'))
            && !chars.get(i + 1).is_some_and(|c| c.is_alphanumeric())
        {
            i += 1;
            flush(&mut word, &mut capitals, &mut letters, &mut out);
            continue;
        }
        if c.is_alphanumeric() {
            if c.is_alphabetic() {
                letters += 1;
                if !c.is_uppercase() {
                    capitals = false;
                }
            }
            for l in c.to_lowercase() {
                match greek(l) {
                    Some(name) => word.push_str(name),
                    None => word.push(l),
                }
            }
        } else {
            flush(&mut word, &mut capitals, &mut letters, &mut out);
        }
    }
    flush(&mut word, &mut capitals, &mut letters, &mut out);
    out
}

/// The singular of a lowercase English plural `word`, or `word` itself (step 4).
fn singular(word: &str) -> &str {
    let letters = word.chars().count();
    if letters < 4 || !word.chars().all(char::is_alphabetic) {
        return word;
    }
    for keep in ["ss", "us", "is", "ous"] {
        if word.ends_with(keep) {
            return word;
        }
    }
    if let Some(stem) = word.strip_suffix("ies") {
        // `therapies` -> `therapy`: the `y` is added back by the caller.
        return stem;
    }
    for ending in ["uses", "sses", "xes", "ches", "shes"] {
        if word.ends_with(ending) {
            return &word[..word.len() - 2];
        }
    }
    word.strip_suffix('s').unwrap_or(word)
}

/// The key of `text` (see the module docs); empty when `text` has no letter or digit.
pub fn key(text: &str) -> String {
    let words = words(text);
    let mut out = String::with_capacity(text.len() + 8);
    let last = words.len().saturating_sub(1);
    for (i, (w, capitals)) in words.iter().enumerate() {
        if i == last && !capitals {
            let s = singular(w);
            out.push_str(s);
            if s.len() + 3 == w.len() && w.ends_with("ies") {
                out.push('y');
            }
        } else {
            out.push_str(w);
        }
    }
    out
}

/// The uninverted reading of a MeSH-style inverted name, `Diabetes Mellitus, Type 2` as
/// `Type 2 Diabetes Mellitus`: only for a name with exactly one comma followed by a space.
pub fn uninverted(name: &str) -> Option<String> {
    let (head, tail) = name.split_once(", ")?;
    if tail.contains(',') || head.contains(',') || head.trim().is_empty() || tail.trim().is_empty()
    {
        return None;
    }
    Some(format!("{} {}", tail.trim(), head.trim()))
}

/// British spellings of medical stems and their American forms, as MeSH writes them; matched
/// within lowercase words.
const BRITISH: &[(&str, &str)] = &[
    ("aemia", "emia"),
    ("amenorrhoea", "amenorrhea"),
    ("anaesth", "anesth"),
    ("apnoea", "apnea"),
    ("behaviour", "behavior"),
    ("caesar", "cesar"),
    ("coeliac", "celiac"),
    ("colour", "color"),
    ("diarrhoea", "diarrhea"),
    ("dyspnoea", "dyspnea"),
    ("foet", "fet"),
    ("gynaec", "gynec"),
    ("haem", "hem"),
    ("ischaem", "ischem"),
    ("leukaem", "leukem"),
    ("oedema", "edema"),
    ("oesophag", "esophag"),
    ("oestr", "estr"),
    ("paed", "ped"),
    ("sulph", "sulf"),
    ("tumour", "tumor"),
    ("aluminium", "aluminum"),
];

/// Roman numerals written as words, and their Arabic numbers (`type II` is `type 2`). A lone
/// `i` only after the words of [`NUMBERED`], where it cannot be the pronoun or a unit.
const ROMAN: &[(&str, &str)] = &[
    ("ii", "2"),
    ("iii", "3"),
    ("iv", "4"),
    ("vi", "6"),
    ("vii", "7"),
    ("viii", "8"),
    ("ix", "9"),
];
const NUMBERED: &[&str] = &["type", "grade", "class", "stage", "phase", "factor"];

/// Other readings of a mention's text under which a vocabulary may list its concept, tried by
/// the normalizer when the text itself names none, in this order:
///
/// - British spellings in American form (`tumour` as `tumor`, `haemorrhage` as `hemorrhage`,
///   `oesophageal` as `esophageal`);
/// - Roman numerals as Arabic ones (`type II diabetes` as `type 2 diabetes`);
/// - `X of the Y` as `Y X` (`cancer of the lung` as `lung cancer`, `carcinoma of the breast`
///   as `breast carcinoma`), when `X` is one or two words.
///
/// Each variant differs from the text; none is returned twice.
pub fn variants(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut out: Vec<String> = Vec::new();
    let push = |v: String, out: &mut Vec<String>| {
        if v != lower && !out.contains(&v) {
            out.push(v);
        }
    };
    // Spelling.
    let mut american = lower.clone();
    for (gb, us) in BRITISH {
        if american.contains(gb) {
            american = american.replace(gb, us);
        }
    }
    push(american.clone(), &mut out);
    // Numerals, on the American spelling.
    let words: Vec<&str> = american.split(' ').collect();
    let arabic: Vec<String> = words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let (core, rest) = split_trailing_punct(w);
            let before = i.checked_sub(1).map(|j| words[j]);
            let n = ROMAN.iter().find(|(r, _)| *r == core).map(|(_, n)| *n);
            let n = n.or_else(|| {
                (core == "i" && before.is_some_and(|b| NUMBERED.contains(&b))).then_some("1")
            });
            match n {
                Some(n) => format!("{n}{rest}"),
                None => (*w).to_owned(),
            }
        })
        .collect();
    let arabic = arabic.join(" ");
    push(arabic.clone(), &mut out);
    // Word order.
    for base in [&american, &arabic] {
        if let Some(v) = of_reordered(base) {
            push(v, &mut out);
        }
    }
    out
}

/// A word and the punctuation after it (`ii,` is `ii` and `,`).
fn split_trailing_punct(w: &str) -> (&str, &str) {
    let end = w
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_alphanumeric())
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(0);
    (&w[..end], &w[end..])
}

/// `X of [the] Y` as `Y X`, for an `X` of one or two words and a non-empty `Y`.
fn of_reordered(text: &str) -> Option<String> {
    let (head, tail) = text.split_once(" of ")?;
    let tail = tail.strip_prefix("the ").unwrap_or(tail).trim();
    let head = head.trim();
    if tail.is_empty() || head.is_empty() || head.split(' ').count() > 2 || tail.contains(" of ") {
        return None;
    }
    Some(format!("{tail} {head}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_spell_number_and_order_as_vocabularies_do() {
        assert_eq!(variants("Tumour"), ["tumor"]);
        assert_eq!(variants("haemorrhagic"), ["hemorrhagic"]);
        assert_eq!(variants("oesophageal cancer"), ["esophageal cancer"]);
        assert_eq!(variants("type II diabetes"), ["type 2 diabetes"]);
        assert_eq!(variants("Type I diabetes"), ["type 1 diabetes"]);
        // A lone `i` elsewhere is left alone.
        assert!(variants("vitamin i").is_empty());
        assert_eq!(variants("cancer of the lung"), ["lung cancer"]);
        assert_eq!(variants("carcinoma of breast"), ["breast carcinoma"]);
        assert_eq!(
            variants("Tumours of the liver"),
            ["tumors of the liver", "liver tumors"]
        );
        // A head of three words or more is not reordered: it is rarely one name.
        assert!(variants("a sudden loss of hearing").is_empty());
        assert!(variants("aspirin").is_empty());
    }

    #[test]
    fn case_hyphens_spaces_and_punctuation_do_not_matter() {
        assert_eq!(key("IL-6"), key("il 6"));
        assert_eq!(key("IL-6"), key("IL6"));
        assert_eq!(
            key("Non-Small-Cell Lung Carcinoma"),
            "nonsmallcelllungcarcinoma"
        );
        assert_eq!(key("  Breast\n cancer "), key("breast-cancer"));
        assert_eq!(key("ＴＮＦ"), "tnf");
        assert_eq!(key("Crohn's disease"), key("Crohn disease"));
    }

    #[test]
    fn greek_letters_match_their_names() {
        assert_eq!(key("TNF-α"), key("TNF alpha"));
        assert_eq!(key("TNF-α"), "tnfalpha");
        assert_eq!(key("Β-catenin"), key("beta-catenin"));
        assert_eq!(key("µ-opioid receptor"), key("mu opioid receptor"));
    }

    #[test]
    fn plurals_of_the_last_word_fold() {
        assert_eq!(key("tumors"), key("tumor"));
        assert_eq!(key("Neoplasms"), key("neoplasm"));
        assert_eq!(key("therapies"), key("therapy"));
        assert_eq!(key("viruses"), key("virus"));
        assert_eq!(key("lesions"), key("lesion"));
        assert_eq!(key("Brain Neoplasms"), key("brain neoplasm"));
        // Not plurals.
        assert_eq!(key("Diabetes Mellitus"), "diabetesmellitus");
        assert_eq!(key("sepsis"), "sepsis");
        assert_eq!(key("stress"), "stress");
        assert_eq!(key("nervous"), "nervous");
        // Short words and capitals are left alone: symbols, not plurals.
        assert_eq!(key("AIDS"), "aids");
        assert_eq!(key("HIS"), "his");
        assert_eq!(key("gas"), "gas");
        // Only the last word.
        assert_eq!(key("cells lines"), "cellsline");
    }

    #[test]
    fn nothing_to_match_gives_an_empty_key() {
        assert_eq!(key(""), "");
        assert_eq!(key(" -- "), "");
    }

    #[test]
    fn inverted_mesh_names() {
        assert_eq!(
            uninverted("Diabetes Mellitus, Type 2").as_deref(),
            Some("Type 2 Diabetes Mellitus")
        );
        assert_eq!(
            uninverted("Carcinoma, Non-Small-Cell Lung").as_deref(),
            Some("Non-Small-Cell Lung Carcinoma")
        );
        assert_eq!(uninverted("Aspirin"), None);
        assert_eq!(uninverted("Leukemia, Myeloid, Acute"), None);
        assert_eq!(uninverted("1,2-Dihydroxybenzene"), None);
    }
}
