//! `pubmine search`: papers that mention an entity, ranked, with the mentions and their
//! snippets; filters by type and year, co-mention (`--with`) and co-mentioned entities
//! (`--facets`), from the tantivy index.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use pubmine_index::search::{Matched, SearchError, SearchRequest, SearchResponse, Searcher};

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The entity: plain words are one phrase within a mention (`type 2 diabetes`); or tantivy
    /// syntax: "..." phrases, AND, OR, NOT, +/-, parentheses, `word*` prefixes, `*` for all,
    /// `title:` and `journal:` fields. May be left out with --concept.
    #[arg(required_unless_present = "concept")]
    query: Option<String>,
    /// Only papers with a mention normalized to this concept (`MESH:D001241`, `NCBIGene:7157`,
    /// `NCBITaxon:9606`), whatever they call it.
    #[arg(long)]
    concept: Option<String>,
    /// The index directory.
    #[arg(long, env = "PUBMINE_INDEX_DIR")]
    index: PathBuf,
    /// Only mentions of this entity type (Chemical, Disease, Gene, ...; any case).
    #[arg(long = "type")]
    entity_type: Option<String>,
    /// Papers published in or after this year.
    #[arg(long)]
    year_from: Option<i32>,
    /// Papers published in or before this year.
    #[arg(long)]
    year_to: Option<i32>,
    /// A second entity the papers must mention too.
    #[arg(long)]
    with: Option<String>,
    /// Papers to show (at most 100).
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// Papers to skip (paging).
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// List the entities most often co-mentioned in the matching papers, per type.
    #[arg(long)]
    facets: bool,
    /// Entities per type with --facets.
    #[arg(long, default_value_t = 10)]
    facet_limit: usize,
    /// Mentions shown per paper in the text output.
    #[arg(long, default_value_t = 3)]
    mentions: usize,
    /// Print the response as JSON (the same as `pubmine serve` returns).
    #[arg(long)]
    json: bool,
}

pub async fn run(args: SearchArgs) -> anyhow::Result<ExitCode> {
    tokio::task::spawn_blocking(move || search(&args)).await?
}

fn search(args: &SearchArgs) -> anyhow::Result<ExitCode> {
    let searcher = Searcher::open(&args.index)
        .with_context(|| format!("failed to open the index in {}", args.index.display()))?;
    let req = SearchRequest {
        query: args.query.clone().unwrap_or_default(),
        concept: args.concept.clone(),
        entity_type: args.entity_type.clone(),
        year_from: args.year_from,
        year_to: args.year_to,
        with: args.with.clone(),
        limit: args.limit,
        offset: args.offset,
        facets: args.facets,
        facet_limit: args.facet_limit,
    };
    let resp = match searcher.search(&req) {
        Ok(r) => r,
        Err(e @ (SearchError::BadQuery { .. } | SearchError::BadRequest(_))) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(e).context("search failed"),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        serde_json::to_writer(&mut out, &resp)?;
        writeln!(out)?;
    } else {
        print_text(&mut out, &resp, args.mentions, stdout_is_terminal())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

fn print_text(
    out: &mut dyn std::io::Write,
    resp: &SearchResponse,
    per_paper: usize,
    colour: bool,
) -> std::io::Result<()> {
    let (on, off) = if colour {
        ("\x1b[1;33m", "\x1b[0m")
    } else {
        ("[", "]")
    };
    let last = (resp.offset + resp.hits.len()).min(resp.total);
    if resp.hits.is_empty() {
        writeln!(out, "no papers found ({} in all)", resp.total)?;
    } else {
        writeln!(out, "papers {}-{} of {}", resp.offset + 1, last, resp.total)?;
    }
    for (i, h) in resp.hits.iter().enumerate() {
        let year = h.year.map(|y| format!(" ({y})")).unwrap_or_default();
        let journal = h
            .journal
            .as_deref()
            .map(|j| format!(", {j}"))
            .unwrap_or_default();
        writeln!(
            out,
            "\n{}. {}{year}{journal}  score {:.2}",
            resp.offset + i + 1,
            h.id,
            h.score
        )?;
        if let Some(t) = &h.title {
            writeln!(out, "   {t}")?;
        }
        for m in h.mentions.iter().take(per_paper) {
            let mm = &m.mention;
            let chars: Vec<char> = mm.snippet.chars().collect();
            let (a, b) = (
                (mm.snippet_start as usize).min(chars.len()),
                (mm.snippet_end as usize).min(chars.len()),
            );
            let before: String = chars[..a].iter().collect();
            let inner: String = chars[a..b.max(a)].iter().collect();
            let after: String = chars[b.max(a)..].iter().collect();
            let role = match m.matched {
                Matched::Query => "",
                Matched::With => " (with)",
            };
            writeln!(
                out,
                "   - {}{role}, {}: {before}{on}{inner}{off}{after}",
                mm.ty,
                mm.passage_kind.as_deref().unwrap_or("passage")
            )?;
        }
        if h.mentions.len() > per_paper {
            writeln!(
                out,
                "   ... {} more matching mentions",
                h.mentions.len() - per_paper
            )?;
        }
    }
    for g in &resp.facets {
        writeln!(out, "\nco-mentioned {} ({} papers):", g.ty, g.papers)?;
        for e in &g.entities {
            match &e.concept {
                Some(c) => writeln!(out, "  {:>6}  {} ({c})", e.papers, e.name)?,
                None => writeln!(out, "  {:>6}  {}", e.papers, e.name)?,
            }
        }
    }
    Ok(())
}
