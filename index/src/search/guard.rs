//! What a search may ask, checked before tantivy parses it (the `MAX_*` limits: papers, depth,
//! facets; a query's bytes, nesting, groups and terms; entity types), and the rewriting of plain
//! words into one phrase.

use tantivy::query_grammar::{Delimiter, UserInputAst, UserInputLeaf, UserInputLiteral};

/// The most papers one request returns.
pub const MAX_LIMIT: usize = 100;
/// The deepest page: `offset + limit` at most this.
pub const MAX_DEPTH: usize = 10_000;
/// The most entities listed per type in facets.
pub const MAX_FACETS: usize = 100;
/// Facets are counted over at most this many matching papers, the best-scoring ones. Counting
/// the entities of every matching paper grows with the matches (12.9 s at p99 for popular
/// entities over 100,000 papers, docs/scale.md); the best-scoring papers of a query are the ones
/// whose co-mentioned entities its user asks about, and a sample of this size ranks the common
/// co-mentions as the whole does.
pub const FACET_SAMPLE: usize = 2_000;
/// The longest query (and `with`), in bytes.
pub const MAX_QUERY_BYTES: usize = 4096;
/// The deepest nesting of a query: parentheses, and NOTs waiting for their operand.
pub const MAX_NESTING: usize = 32;
/// The most `(` and `NOT` in one query, however they nest. tantivy's query grammar, its query
/// builder and the queries it builds all recurse once per level; each level of that recursion
/// takes one `(` or one `NOT` of the text, so this bounds the recursion for any query, also one
/// that [`MAX_NESTING`]'s count of the levels would misjudge. The grammar takes up to 12 KiB of
/// stack per level in a debug build (`title:(`): 170 levels overflow the 2 MiB of a tokio
/// blocking thread.
pub const MAX_GROUPS: usize = 64;
/// The most terms (words, phrases, prefixes, ranges) in one query; plain words that are one
/// phrase count once.
pub const MAX_TERMS: usize = 100;
/// The longest entity type, in bytes.
pub const MAX_TYPE_BYTES: usize = 100;

/// What one query may hold (the `MAX_*` constants; a field so that tests can lift one).
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub(super) bytes: usize,
    pub(super) nesting: usize,
    pub(super) groups: usize,
    pub(super) terms: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            bytes: MAX_QUERY_BYTES,
            nesting: MAX_NESTING,
            groups: MAX_GROUPS,
            terms: MAX_TERMS,
        }
    }
}

impl Limits {
    /// Why `text` is refused before parsing, if it is.
    pub(super) fn check(&self, text: &str) -> Result<(), String> {
        if let Some(c) = text.chars().find(|&c| is_forbidden_control(c)) {
            return Err(format!(
                "the query holds a control character (U+{:04X})",
                u32::from(c)
            ));
        }
        // Nesting first: it is the reason a deeply nested query is also long.
        if nesting(text) > self.nesting {
            return Err(format!(
                "the query is nested deeper than {} levels",
                self.nesting
            ));
        }
        if text.len() > self.bytes {
            return Err(format!("the query is longer than {} bytes", self.bytes));
        }
        // The grammar's `NOT` is the word and a space.
        let nots = text
            .match_indices("NOT")
            .filter(|(at, _)| text[at + 3..].starts_with(char::is_whitespace))
            .count();
        let groups = text.matches('(').count() + nots;
        if groups > self.groups {
            return Err(format!(
                "the query has more than {} parentheses and NOTs",
                self.groups
            ));
        }
        Ok(())
    }
}

/// Whether an entity type holds nothing but what an entity type may: no control characters,
/// at most [`MAX_TYPE_BYTES`]; the reason when not. For the servers' other uses of a type.
pub fn check_type(ty: &str) -> Result<(), String> {
    if let Some(c) = ty.chars().find(|c| c.is_control()) {
        return Err(format!(
            "the type holds a control character (U+{:04X})",
            u32::from(c)
        ));
    }
    if ty.len() > MAX_TYPE_BYTES {
        return Err(format!("the type is longer than {MAX_TYPE_BYTES} bytes"));
    }
    Ok(())
}

/// Control characters other than tab, newline and carriage return, which separate words.
fn is_forbidden_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// How deep `text` nests, as tantivy's grammar reads it: each open `(` (outside quoted phrases)
/// is a level, and so is each `NOT` until the operand it negates is complete (`NOT NOT a` is
/// two levels). One pass, no recursion, whatever the input.
pub(super) fn nesting(text: &str) -> usize {
    // Per open group, the NOTs waiting for their operand within it.
    let mut pending: Vec<usize> = vec![0];
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut word = String::new();
    // An operand is complete: the NOTs waiting for it are done.
    fn operand_done(pending: &mut [usize], depth: &mut usize) {
        if let Some(nots) = pending.last_mut() {
            *depth -= *nots;
            *nots = 0;
        }
    }
    // The word before a space, a parenthesis or a quote.
    fn end_word(word: &mut String, pending: &mut [usize], depth: &mut usize) {
        let w = std::mem::take(word);
        if w == "NOT" {
            if let Some(nots) = pending.last_mut() {
                *nots += 1;
            }
            *depth += 1;
            return;
        }
        // `title:(` and `+(`/`-(` open their operand, they do not complete one.
        let opens = w.ends_with(':') || w.chars().all(|c| c == '+' || c == '-');
        if !w.is_empty() && !opens {
            operand_done(pending, depth);
        }
    }
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                word.push(c);
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            '"' | '\'' => {
                end_word(&mut word, &mut pending, &mut depth);
                // A quoted phrase: parentheses in it are text; `\` escapes the quote.
                let mut escaped = false;
                for q in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if q == '\\' {
                        escaped = true;
                    } else if q == c {
                        break;
                    }
                }
                operand_done(&mut pending, &mut depth);
            }
            '(' => {
                end_word(&mut word, &mut pending, &mut depth);
                pending.push(0);
                depth += 1;
            }
            ')' => {
                end_word(&mut word, &mut pending, &mut depth);
                if pending.len() > 1 {
                    let nots = pending.pop().unwrap_or(0);
                    depth -= nots + 1;
                    operand_done(&mut pending, &mut depth);
                }
            }
            c if c.is_whitespace() => {
                end_word(&mut word, &mut pending, &mut depth);
            }
            c => word.push(c),
        }
        deepest = deepest.max(depth);
    }
    end_word(&mut word, &mut pending, &mut depth);
    deepest.max(depth)
}

/// The leaves of a parsed query (its depth is bounded by [`Limits::check`]).
pub(super) fn terms(ast: &UserInputAst) -> usize {
    match ast {
        UserInputAst::Clause(clauses) => clauses.iter().map(|(_, sub)| terms(sub)).sum(),
        UserInputAst::Boost(sub, _) => terms(sub),
        UserInputAst::Leaf(_) => 1,
    }
}

/// Plain words with no operator, quote or field (`type 2 diabetes`) become one phrase: an
/// entity name is searched as written, within one mention.
pub(super) fn as_one_phrase(ast: UserInputAst) -> UserInputAst {
    // A plain literal, and whether it ends with `*`.
    let plain = |a: &UserInputAst| match a {
        UserInputAst::Leaf(leaf) => match leaf.as_ref() {
            UserInputLeaf::Literal(l)
                if l.field_name.is_none() && l.delimiter == Delimiter::None && l.slop == 0 =>
            {
                match l.phrase.strip_suffix('*') {
                    Some(stem) => Some((stem.to_owned(), true)),
                    None => Some((l.phrase.clone(), l.prefix)),
                }
            }
            _ => None,
        },
        _ => None,
    };
    let UserInputAst::Clause(clauses) = &ast else {
        return ast;
    };
    let Some(words) = clauses
        .iter()
        .map(|(o, a)| if o.is_none() { plain(a) } else { None })
        .collect::<Option<Vec<(String, bool)>>>()
    else {
        return ast;
    };
    let n = words.len();
    if n < 2 || words[..n - 1].iter().any(|(_, prefix)| *prefix) {
        return ast;
    }
    UserInputAst::Leaf(Box::new(UserInputLeaf::Literal(UserInputLiteral {
        field_name: None,
        phrase: words
            .iter()
            .map(|(w, _)| w.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        delimiter: Delimiter::DoubleQuotes,
        slop: 0,
        prefix: words[n - 1].1,
    })))
}
