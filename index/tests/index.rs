//! The index on a real tantivy directory: replacement, deletion, the offsets in the commit
//! payload, resuming and skipping, and search with its filters and facets.

mod common;

use std::time::Duration;

use common::{batch, corpus, del, mention, paper, up};
use pubmine_index::search::{Matched, SearchError, SearchRequest};
use pubmine_index::{IndexConfig, IndexSink, Indexer, Searcher};
use pubmine_stream::sink::Sink;

fn config(commit_docs: usize) -> IndexConfig {
    IndexConfig {
        commit_docs,
        commit_interval: Duration::from_secs(3600),
        threads: 1,
        memory_bytes: 20 << 20,
    }
}

fn indexed(dir: &std::path::Path) -> Searcher {
    let mut ix = Indexer::open(dir, config(1000)).unwrap();
    ix.write(&batch("t", 0, 0, corpus().into_iter().map(up).collect()))
        .unwrap();
    ix.commit().unwrap();
    ix.close().unwrap();
    Searcher::open(dir).unwrap()
}

fn ids(s: &Searcher, req: &SearchRequest) -> Vec<String> {
    let mut ids: Vec<String> = s
        .search(req)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect();
    ids.sort();
    ids
}

#[test]
fn search_finds_papers_with_their_matching_mentions() {
    let dir = tempfile::tempdir().unwrap();
    let s = indexed(dir.path());
    assert_eq!(s.num_docs().unwrap(), 3);

    let r = s.search(&SearchRequest::new("aspirin")).unwrap();
    assert_eq!(r.total, 2);
    assert_eq!(
        ids(&s, &SearchRequest::new("aspirin")),
        ["pmid:1", "pmid:2"]
    );
    for h in &r.hits {
        // each hit carries its own paper's title
        let pmid = h.id.trim_start_matches("pmid:");
        assert_eq!(h.title.as_deref(), Some(format!("Paper {pmid}").as_str()));
        assert_eq!(h.mentions.len(), 1, "{h:?}");
        let m = &h.mentions[0];
        assert_eq!(m.matched, Matched::Query);
        assert_eq!(m.mention.normalized, "aspirin");
        assert_eq!(m.mention.passage_kind.as_deref(), Some("abstract"));
        let chars: Vec<char> = m.mention.snippet.chars().collect();
        let at: String = chars[m.mention.snippet_start as usize..m.mention.snippet_end as usize]
            .iter()
            .collect();
        assert_eq!(at, m.mention.text);
    }
    let p1 = r.hits.iter().find(|h| h.id == "pmid:1").unwrap();
    assert_eq!(p1.pmid.as_deref(), Some("1"));
    assert_eq!(p1.year, Some(2015));
    assert_eq!(p1.journal.as_deref(), Some("Journal of Tests"));
    assert_eq!(p1.mention_count, 2);

    // Plain words are one phrase within a mention.
    assert_eq!(
        ids(&s, &SearchRequest::new("Colorectal  Cancer")),
        ["pmid:1", "pmid:3"]
    );
    assert_eq!(
        ids(&s, &SearchRequest::new("cancer colorectal")),
        Vec::<String>::new()
    );
    assert_eq!(ids(&s, &SearchRequest::new("type 2 diabetes")), ["pmid:3"]);
    // Operators, prefixes, fields.
    assert_eq!(
        ids(&s, &SearchRequest::new("headache OR metformin")),
        ["pmid:2", "pmid:3"]
    );
    assert_eq!(ids(&s, &SearchRequest::new("parac*")), ["pmid:2"]);
    assert_eq!(
        ids(&s, &SearchRequest::new("colorectal ca*")),
        ["pmid:1", "pmid:3"]
    );
    assert_eq!(
        ids(&s, &SearchRequest::new("aspirin \"colorectal cancer\"")),
        ["pmid:1"]
    );
    assert_eq!(
        ids(&s, &SearchRequest::new("aspirin -headache")),
        ["pmid:1"]
    );
    assert_eq!(
        ids(&s, &SearchRequest::new("title:paper AND metformin")),
        ["pmid:3"]
    );
    assert_eq!(s.search(&SearchRequest::new("*")).unwrap().total, 3);
}

#[test]
fn type_year_and_with_filters() {
    let dir = tempfile::tempdir().unwrap();
    let s = indexed(dir.path());
    let req = |q: &str| SearchRequest::new(q);

    let mut r = req("colorectal cancer");
    r.entity_type = Some("disease".into());
    assert_eq!(ids(&s, &r), ["pmid:1", "pmid:3"]);
    r.entity_type = Some("Chemical".into());
    assert!(
        ids(&s, &r).is_empty(),
        "the words must be in a mention of that type"
    );

    let mut r = req("colorectal cancer");
    r.year_from = Some(2016);
    assert_eq!(ids(&s, &r), ["pmid:3"]);
    r.year_from = None;
    r.year_to = Some(2015);
    assert_eq!(ids(&s, &r), ["pmid:1"]);
    r.year_from = Some(2015);
    r.year_to = Some(2021);
    assert_eq!(ids(&s, &r), ["pmid:1", "pmid:3"]);

    let mut r = req("colorectal cancer");
    r.with = Some("aspirin".into());
    let found = s.search(&r).unwrap();
    assert_eq!(found.total, 1);
    let hit = &found.hits[0];
    assert_eq!(hit.id, "pmid:1");
    let roles: Vec<(Matched, &str)> = hit
        .mentions
        .iter()
        .map(|m| (m.matched, m.mention.text.as_str()))
        .collect();
    assert_eq!(
        roles,
        [
            (Matched::With, "Aspirin"),
            (Matched::Query, "colorectal cancer")
        ]
    );

    // `*` with a type: every paper with a mention of that type.
    let mut r = req("*");
    r.entity_type = Some("disease".into());
    assert_eq!(s.search(&r).unwrap().total, 3);
}

#[test]
fn facets_count_co_mentioned_entities_per_paper() {
    let dir = tempfile::tempdir().unwrap();
    let s = indexed(dir.path());
    let mut r = SearchRequest::new("colorectal cancer");
    r.facets = true;
    let found = s.search(&r).unwrap();
    let chem = found.facets.iter().find(|g| g.ty == "Chemical").unwrap();
    assert_eq!(chem.papers, 2);
    let names: Vec<(&str, u64)> = chem
        .entities
        .iter()
        .map(|e| (e.name.as_str(), e.papers))
        .collect();
    assert_eq!(names, [("aspirin", 1), ("metformin", 1)]);
    let disease = found.facets.iter().find(|g| g.ty == "Disease").unwrap();
    // The searched entity itself is left out.
    let names: Vec<&str> = disease.entities.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["type 2 diabetes"]);
    // The papers per year, over all matching papers (not only the page).
    let years: Vec<(i32, u64)> = found.years.iter().map(|y| (y.year, y.papers)).collect();
    assert_eq!(years, [(2015, 1), (2021, 1)]);
    r.limit = 1;
    assert_eq!(s.search(&r).unwrap().years, found.years);
    r.facets = false;
    assert!(s.search(&r).unwrap().years.is_empty());

    let mut r = SearchRequest::new("aspirin");
    r.facets = true;
    r.facet_limit = 1;
    let found = s.search(&r).unwrap();
    let chem = found.facets.iter().find(|g| g.ty == "Chemical").unwrap();
    assert_eq!(chem.entities.len(), 1);
    assert_eq!(chem.entities[0].name, "paracetamol");
}

/// Over more matching papers than facets count, they are counted over the best-scoring
/// `FACET_SAMPLE`, and the response says so: the papers that mention the searched entity three
/// times outrank those that mention it once, so all of their co-mentions are counted and only
/// the rest of the sample's; with fewer matches, every paper counts and nothing is said.
#[test]
fn facets_over_many_papers_are_counted_over_the_best_scoring_ones() {
    use pubmine_index::search::FACET_SAMPLE;
    let dir = tempfile::tempdir().unwrap();
    let strong = 500;
    let weak = FACET_SAMPLE;
    let mut papers = Vec::new();
    for i in 0..strong + weak {
        let pmid = 1_000 + i as u32;
        let (text, other) = if i < strong {
            (
                "aspirin and aspirin, then aspirin with ibuprofen.",
                "ibuprofen",
            )
        } else {
            ("aspirin with paracetamol.", "paracetamol")
        };
        let mut a = paper(pmid, 2020, text, "ner", &[(other, "Chemical")]);
        // Each occurrence of aspirin a mention of its own.
        for (byte, _) in text.match_indices("aspirin") {
            let mut m = mention(text, "aspirin", "Chemical", "ner");
            m.start = byte as u32;
            m.end = (byte + "aspirin".len()) as u32;
            a.mentions.push(m);
        }
        papers.push(up(a));
    }
    let mut ix = Indexer::open(dir.path(), config(10_000)).unwrap();
    ix.write(&batch("t", 0, 0, papers)).unwrap();
    ix.commit().unwrap();
    ix.close().unwrap();
    let s = Searcher::open(dir.path()).unwrap();

    let mut r = SearchRequest::new("aspirin");
    r.facets = true;
    let found = s.search(&r).unwrap();
    assert_eq!(found.total, strong + weak);
    assert_eq!(found.facets_sampled, Some(FACET_SAMPLE));
    let chem = found.facets.iter().find(|g| g.ty == "Chemical").unwrap();
    assert_eq!(chem.papers, FACET_SAMPLE as u64);
    let names: Vec<(&str, u64)> = chem
        .entities
        .iter()
        .map(|e| (e.name.as_str(), e.papers))
        .collect();
    assert_eq!(
        names,
        [
            ("paracetamol", (FACET_SAMPLE - strong) as u64),
            ("ibuprofen", strong as u64)
        ]
    );
    // The years still count every matching paper.
    assert_eq!(found.years[0].papers, (strong + weak) as u64);

    let mut r = SearchRequest::new("ibuprofen");
    r.facets = true;
    let found = s.search(&r).unwrap();
    assert_eq!(found.facets_sampled, None);
    let chem = found.facets.iter().find(|g| g.ty == "Chemical").unwrap();
    assert_eq!(chem.entities[0].name, "aspirin");
    assert_eq!(chem.entities[0].papers, strong as u64);
}

/// Facets resolve only each segment's leading entities of a type when that cannot change the
/// list, and every entity of the type when it can: either way the list is the one a count of
/// every paper gives. Papers in six segments: chemicals with a long tail (a few in many papers),
/// each segment's leaders a little different, so that an entity leading in one segment is
/// counted in the others; diseases that lead only in their own segment, and one in fewer papers
/// of each segment but more papers in all, which only a count of every entity finds; species
/// from a handful.
#[test]
fn facets_over_many_segments_equal_a_count_of_every_paper() {
    use std::collections::{BTreeMap, BTreeSet};
    let dir = tempfile::tempdir().unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut unit = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut truth: BTreeMap<(&str, String), BTreeSet<u32>> = BTreeMap::new();
    let mut ix = Indexer::open(dir.path(), config(100_000)).unwrap();
    let mut offset = 0;
    for segment in 0..6u32 {
        let mut papers = Vec::new();
        for i in 0..200u32 {
            let pmid = 10_000 + segment * 200 + i;
            let mut ents: Vec<(String, &str)> = Vec::new();
            for _ in 0..4 {
                // Rank r in about 1/r of the draws (log-uniform), shifted by the segment.
                let rank = 1000f64.powf(unit()) as u32 - 1 + 3 * segment;
                ents.push((format!("chem{rank}"), "Chemical"));
            }
            ents.push((format!("loc{segment}x{}", i % 25), "Disease"));
            ents.push((format!("loc{segment}x{}", (i + 7) % 25), "Disease"));
            if i < 10 {
                ents.push(("spread".into(), "Disease"));
            }
            ents.push((format!("sp{}", (unit() * 4.0) as u32), "Species"));
            ents.sort();
            ents.dedup();
            let text = format!(
                "aspirin with {}.",
                ents.iter()
                    .map(|e| e.0.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let refs: Vec<(&str, &str)> = ents.iter().map(|(e, t)| (e.as_str(), *t)).collect();
            let mut a = paper(pmid, 2020, &text, "ner", &refs);
            a.mentions
                .push(mention(&text, "aspirin", "Chemical", "ner"));
            for (e, t) in &ents {
                truth.entry((t, e.clone())).or_default().insert(pmid);
            }
            papers.push(up(a));
        }
        let n = papers.len() as i64;
        ix.write(&batch("t", 0, offset, papers)).unwrap();
        ix.commit().unwrap();
        offset += n;
    }
    ix.close().unwrap();
    let s = Searcher::open(dir.path()).unwrap();
    for k in [3, 5, 10] {
        let mut r = SearchRequest::new("aspirin");
        r.facets = true;
        r.facet_limit = k;
        let found = s.search(&r).unwrap();
        assert_eq!((found.total, found.facets_sampled), (1_200, None));
        for ty in ["Chemical", "Disease", "Species"] {
            let mut expected: Vec<(u64, String)> = truth
                .iter()
                .filter(|((t, e), _)| *t == ty && e != "aspirin")
                .map(|((_, e), p)| (p.len() as u64, e.clone()))
                .collect();
            expected.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            expected.truncate(k);
            let group = found.facets.iter().find(|g| g.ty == ty).unwrap();
            let got: Vec<(u64, String)> = group
                .entities
                .iter()
                .map(|e| (e.papers, e.name.clone()))
                .collect();
            assert_eq!(got, expected, "{ty}, {k} per type");
            assert_eq!(group.papers, 1_200);
        }
    }
}

#[test]
fn hits_say_whether_the_paper_is_retracted() {
    let dir = tempfile::tempdir().unwrap();
    let mut papers = corpus();
    papers[1].document.as_mut().unwrap().retracted = true;
    let mut ix = Indexer::open(dir.path(), config(1000)).unwrap();
    ix.write(&batch("t", 0, 0, papers.into_iter().map(up).collect()))
        .unwrap();
    ix.commit().unwrap();
    ix.close().unwrap();
    let s = Searcher::open(dir.path()).unwrap();
    let mut flags: Vec<(String, bool)> = s
        .search(&SearchRequest::new("aspirin"))
        .unwrap()
        .hits
        .into_iter()
        .map(|h| (h.id, h.retracted))
        .collect();
    flags.sort();
    assert_eq!(
        flags,
        [("pmid:1".to_owned(), false), ("pmid:2".to_owned(), true)]
    );
}

#[test]
fn malformed_requests_are_client_errors() {
    let dir = tempfile::tempdir().unwrap();
    let s = indexed(dir.path());
    for q in [
        "(aspirin",
        "",
        "   ",
        "nosuchfield:x",
        "\"unclosed",
        "mention:/a.*/",
    ] {
        let e = s.search(&SearchRequest::new(q)).unwrap_err();
        assert!(matches!(e, SearchError::BadQuery { .. }), "{q:?}: {e}");
        assert!(e.is_client_error());
    }
    let typed_prefix = SearchRequest {
        entity_type: Some("chemical".into()),
        ..SearchRequest::new("asp*")
    };
    let e = s.search(&typed_prefix).unwrap_err();
    assert!(
        e.is_client_error() && e.to_string().contains("prefix"),
        "{e}"
    );
    let mut r = SearchRequest::new("aspirin");
    r.year_from = Some(2020);
    r.year_to = Some(2010);
    assert!(s.search(&r).unwrap_err().is_client_error());
    let mut r = SearchRequest::new("aspirin");
    r.limit = 100_000;
    assert_eq!(s.search(&r).unwrap().limit, 100, "page size is capped");
    r.offset = 1_000_000;
    assert!(s.search(&r).unwrap_err().is_client_error());
    let with = SearchRequest {
        with: Some("(".into()),
        ..SearchRequest::new("aspirin")
    };
    assert!(s.search(&with).unwrap_err().is_client_error());
    // A request decoded from JSON, as `serve` would.
    let r: SearchRequest =
        serde_json::from_str(r#"{"query":"aspirin","type":"chemical","limit":5}"#).unwrap();
    assert_eq!(s.search(&r).unwrap().total, 2);
    assert!(serde_json::from_str::<SearchRequest>(r#"{"query":"x","bogus":1}"#).is_err());
}

#[test]
fn reannotation_replaces_and_tombstones_delete() {
    let dir = tempfile::tempdir().unwrap();
    let mut ix = Indexer::open(dir.path(), config(1000)).unwrap();
    ix.write(&batch("t", 0, 0, corpus().into_iter().map(up).collect()))
        .unwrap();
    ix.commit().unwrap();
    // Paper 2 annotated again by the same model: aspirin no longer found; paper 3 deleted.
    let again = paper(
        2,
        2019,
        "Low-dose aspirin relieved headache; aspirin was well tolerated, as was paracetamol.",
        "ner-a",
        &[("headache", "Disease")],
    );
    ix.write(&batch("t", 0, 3, vec![up(again), del("pmid:3")]))
        .unwrap();
    ix.commit().unwrap();
    let s = Searcher::open(dir.path()).unwrap();
    assert_eq!(s.num_docs().unwrap(), 2);
    assert_eq!(ids(&s, &SearchRequest::new("aspirin")), ["pmid:1"]);
    assert_eq!(ids(&s, &SearchRequest::new("headache")), ["pmid:2"]);
    assert!(ids(&s, &SearchRequest::new("metformin")).is_empty());
    // A deleted paper annotated again comes back.
    let back = corpus().remove(2);
    ix.write(&batch("t", 0, 5, vec![up(back)])).unwrap();
    ix.commit().unwrap();
    s.reload().unwrap();
    assert_eq!(ids(&s, &SearchRequest::new("metformin")), ["pmid:3"]);
    assert_eq!(s.num_docs().unwrap(), 3);
}

#[test]
fn reannotation_by_one_model_keeps_the_other_models_mentions() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Aspirin use was associated with a lower risk of colorectal cancer and BRCA1.";
    let chem = paper(7, 2020, text, "chem", &[("Aspirin", "Chemical")]);
    let mut gene = paper(7, 2020, text, "gene", &[("BRCA1", "Gene")]);
    let mut ix = Indexer::open(dir.path(), config(1000)).unwrap();
    // Within one commit window (the earlier entry is still buffered)...
    ix.write(&batch("t", 0, 0, vec![up(chem.clone()), up(gene.clone())]))
        .unwrap();
    ix.commit().unwrap();
    let s = Searcher::open(dir.path()).unwrap();
    assert_eq!(ids(&s, &SearchRequest::new("aspirin")), ["pmid:7"]);
    assert_eq!(ids(&s, &SearchRequest::new("brca1")), ["pmid:7"]);
    // ...and across commits: the gene model again, now finding a disease too.
    gene.mentions
        .push(mention(text, "colorectal cancer", "Disease", "gene"));
    ix.write(&batch("t", 0, 2, vec![up(gene)])).unwrap();
    ix.commit().unwrap();
    s.reload().unwrap();
    let r = s.search(&SearchRequest::new("*")).unwrap();
    assert_eq!(r.total, 1);
    assert_eq!(r.hits[0].mention_count, 3);
    assert_eq!(ix.stats().mentions_kept, 2);
    // Both models again in one record: the old mentions all go.
    let mut both = paper(7, 2020, text, "chem", &[("Aspirin", "Chemical")]);
    both.models.push(common::model_ref("gene"));
    ix.write(&batch("t", 0, 3, vec![up(both)])).unwrap();
    ix.commit().unwrap();
    s.reload().unwrap();
    assert_eq!(
        s.search(&SearchRequest::new("*")).unwrap().hits[0].mention_count,
        1
    );
    assert!(ids(&s, &SearchRequest::new("brca1")).is_empty());
}

#[test]
fn offsets_ride_in_the_commit_payload_and_resume_skips_what_is_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let docs = corpus();
    {
        let mut ix = Indexer::open(dir.path(), config(2)).unwrap();
        assert!(ix.stored_offsets().is_empty());
        // Two documents on partition 0: the commit threshold; its offsets come back.
        let done = ix
            .write(&batch(
                "t",
                0,
                10,
                vec![up(docs[0].clone()), up(docs[1].clone())],
            ))
            .unwrap()
            .expect("a commit at 2 documents");
        assert_eq!(done.get(&("t".into(), 0)), Some(&12));
        // One on partition 1, buffered only: lost with the process.
        assert!(
            ix.write(&batch("t", 1, 0, vec![up(docs[2].clone())]))
                .unwrap()
                .is_none()
        );
        // No close, no commit: a crash.
    }
    let mut ix = Indexer::open(dir.path(), config(2)).unwrap();
    let stored = ix.stored_offsets().clone();
    assert_eq!(stored.get(&("t".into(), 0)), Some(&12));
    assert_eq!(stored.get(&("t".into(), 1)), None);
    // The broker delivers again from before the stored offset: those records are skipped.
    ix.write(&batch(
        "t",
        0,
        10,
        vec![up(docs[0].clone()), up(docs[1].clone())],
    ))
    .unwrap();
    ix.write(&batch("t", 1, 0, vec![up(docs[2].clone())]))
        .unwrap();
    let done = ix.commit().unwrap().unwrap();
    assert_eq!(done.get(&("t".into(), 1)), Some(&1));
    assert_eq!(done.get(&("t".into(), 0)), None, "partition 0 did not move");
    let st = ix.stats();
    assert_eq!((st.skipped, st.documents), (2, 1));
    // Nothing buffered: no commit.
    assert!(ix.commit().unwrap().is_none());
    ix.close().unwrap();
    let s = Searcher::open(dir.path()).unwrap();
    assert_eq!(s.num_docs().unwrap(), 3);
    let ix = Indexer::open(dir.path(), config(2)).unwrap();
    assert_eq!(ix.stored_offsets().get(&("t".into(), 1)), Some(&1));
}

#[test]
fn only_one_writer_per_directory() {
    let dir = tempfile::tempdir().unwrap();
    let _ix = Indexer::open(dir.path(), config(2)).unwrap();
    let e = Indexer::open(dir.path(), config(2)).unwrap_err();
    assert!(e.to_string().contains("locked"), "{e}");
    assert!(Searcher::open(&dir.path().join("nothing")).is_err());
}

#[tokio::test]
async fn the_sink_commits_on_flush_and_reports_offsets_of_asked_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = IndexSink::new(Indexer::open(dir.path(), config(1000)).unwrap());
    let docs = corpus();
    assert!(
        sink.write(batch("t", 0, 0, vec![up(docs[0].clone())]))
            .await
            .unwrap()
            .is_none()
    );
    // Dead-lettered records move the offsets without items.
    let mut b = batch("t", 3, 0, vec![]);
    b.next.insert(("t".into(), 3), 4);
    assert!(sink.write(b).await.unwrap().is_none());
    let done = sink.flush().await.unwrap().unwrap();
    assert_eq!(done.get(&("t".into(), 0)), Some(&1));
    assert_eq!(done.get(&("t".into(), 3)), Some(&4));
    assert!(sink.flush().await.unwrap().is_none());
    // stored_offsets commits what is buffered first.
    sink.write(batch("t", 1, 5, vec![up(docs[1].clone())]))
        .await
        .unwrap();
    let asked = [("t".to_string(), 1), ("t".to_string(), 2)];
    let stored = sink.stored_offsets(&asked).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored.get(&("t".into(), 1)), Some(&6));
    sink.into_inner().unwrap().close().unwrap();
    assert_eq!(Searcher::open(dir.path()).unwrap().num_docs().unwrap(), 2);
}

#[test]
fn the_searcher_can_be_shared_by_a_server() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<Searcher>();
}

/// Concepts: a search by concept finds every spelling of it and its defined short forms,
/// facets count concepts with their names, and a search for a long form finds a paper that
/// writes only its short form.
#[test]
fn concepts_are_searched_and_counted_whatever_the_papers_call_them() {
    use pubmine_stream::record::{Abbreviation, ConceptRef};
    let concept = |id: &str, name: &str| ConceptRef {
        id: id.into(),
        name: name.into(),
        matched: name.into(),
        via_abbreviation: false,
    };
    let aspirin = concept("MESH:D001241", "Aspirin");
    let nsclc = concept("MESH:D002289", "Carcinoma, Non-Small-Cell Lung");
    let mut a = paper(
        11,
        2020,
        "Aspirin in non-small cell lung cancer (NSCLC): NSCLC patients fared better.",
        "ner",
        &[
            ("Aspirin", "Chemical"),
            ("non-small cell lung cancer", "Disease"),
        ],
    );
    a.mentions[0].concept = Some(aspirin.clone());
    a.mentions[1].concept = Some(nsclc.clone());
    // The second occurrence of the short form, typed and normalized through its long form.
    let text = a.document.as_ref().unwrap().passages[1].text.clone();
    let second = text.rfind("NSCLC").unwrap();
    let start = text[..second].chars().count() as u32;
    a.mentions.push(pubmine_stream::record::Mention {
        start,
        end: start + 5,
        text: "NSCLC".into(),
        concept: Some(ConceptRef {
            via_abbreviation: true,
            ..nsclc.clone()
        }),
        ..mention(&text, "NSCLC", "Disease", "ner")
    });
    let long_start = text.find("non-small").unwrap() as u32;
    let short_start = text.find("NSCLC").unwrap() as u32;
    a.abbreviations = vec![Abbreviation {
        passage: 1,
        short_start,
        short_end: short_start + 5,
        short: "NSCLC".into(),
        long_start,
        long_end: long_start + 26,
        long: "non-small cell lung cancer".into(),
    }];
    let mut b = paper(
        12,
        2021,
        "Acetylsalicylic acid and metformin in colorectal cancer.",
        "ner",
        &[
            ("Acetylsalicylic acid", "Chemical"),
            ("metformin", "Chemical"),
            ("colorectal cancer", "Disease"),
        ],
    );
    b.mentions[0].concept = Some(concept("MESH:D001241", "Aspirin"));
    // A paper that only writes the short form, defined in another paper.
    let c = paper(
        13,
        2022,
        "NSCLC was staged.",
        "ner",
        &[("NSCLC", "Disease")],
    );
    let dir = tempfile::tempdir().unwrap();
    let mut ix = Indexer::open(dir.path(), config(1000)).unwrap();
    ix.write(&batch("t", 0, 0, vec![up(a), up(b), up(c)]))
        .unwrap();
    ix.commit().unwrap();
    ix.close().unwrap();
    let s = Searcher::open(dir.path()).unwrap();

    let mut r = SearchRequest::new("");
    r.concept = Some("MESH:D001241".into());
    r.facets = true;
    let found = s.search(&r).unwrap();
    assert_eq!(found.total, 2);
    for h in &found.hits {
        let texts: Vec<&str> = h.mentions.iter().map(|m| m.mention.text.as_str()).collect();
        assert!(
            texts == ["Aspirin"] || texts == ["Acetylsalicylic acid"],
            "only the concept's mentions match: {texts:?}"
        );
    }
    // Facets name concepts; the searched concept is left out.
    let disease = found.facets.iter().find(|g| g.ty == "Disease").unwrap();
    let names: Vec<(&str, Option<&str>, u64)> = disease
        .entities
        .iter()
        .map(|e| (e.name.as_str(), e.concept.as_deref(), e.papers))
        .collect();
    assert_eq!(
        names,
        [
            ("Carcinoma, Non-Small-Cell Lung", Some("MESH:D002289"), 1),
            ("colorectal cancer", None, 1)
        ]
    );
    let chem = found.facets.iter().find(|g| g.ty == "Chemical").unwrap();
    assert_eq!(chem.entities.len(), 1, "{:?}", chem.entities);
    assert_eq!(chem.entities[0].name, "metformin");

    // Searched by its name, the concept is left out of the facets too.
    let mut r2 = SearchRequest::new("aspirin");
    r2.facets = true;
    let found = s.search(&r2).unwrap();
    let chem = found.facets.iter().find(|g| g.ty == "Chemical").unwrap();
    let names: Vec<&str> = chem.entities.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["metformin"]);

    // A concept and a query together: both must hold.
    r.query = "metformin".into();
    assert_eq!(ids(&s, &r), ["pmid:12"]);
    // The short form's concept is its long form's.
    let mut r = SearchRequest::new("");
    r.concept = Some("MESH:D002289".into());
    let found = s.search(&r).unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(found.hits[0].mentions.len(), 2);
    // Searching the long form finds the short form where the paper defines it.
    let found = s
        .search(&SearchRequest::new("non-small cell lung cancer"))
        .unwrap();
    assert_eq!(found.total, 1);
    let texts: Vec<&str> = found.hits[0]
        .mentions
        .iter()
        .map(|m| m.mention.text.as_str())
        .collect();
    assert_eq!(texts, ["non-small cell lung cancer", "NSCLC"]);
    // A concept's name finds its mentions whatever they are called: the facet a page shows
    // for a concept can be searched by its name.
    assert_eq!(
        ids(&s, &SearchRequest::new("aspirin")),
        ["pmid:11", "pmid:12"]
    );
    let mut r = SearchRequest::new("metformin");
    r.with = Some("Carcinoma, Non-Small-Cell Lung".into());
    assert!(ids(&s, &r).is_empty());
    let mut r = SearchRequest::new("Aspirin");
    r.with = Some("Carcinoma, Non-Small-Cell Lung".into());
    assert_eq!(ids(&s, &r), ["pmid:11"]);
    // No query and no concept is a bad request.
    assert!(
        s.search(&SearchRequest::new(""))
            .unwrap_err()
            .is_client_error()
    );
}

/// `batch` with each item made from the documents record at `origins[i]` (partition 0).
fn made_from(
    mut b: pubmine_stream::sink::SinkBatch,
    origins: &[i64],
) -> pubmine_stream::sink::SinkBatch {
    for (item, &offset) in b.items.iter_mut().zip(origins) {
        item.origin = Some(pubmine_stream::transport::Origin::new(
            "pubmed.documents",
            0,
            offset,
            Some(1_765_000_000_000 + offset),
        ));
    }
    b
}

/// An annotate worker that lost its partitions may deliver what it made from older documents
/// records after their new owner delivered what it made from newer ones: the index keeps the
/// version made from the latest record, and a deletion stays a deletion, whether what it holds
/// is buffered or committed (and read back by a writer opened anew).
#[test]
fn an_older_version_delivered_late_never_replaces_a_newer_one() {
    let dir = tempfile::tempdir().unwrap();
    let old_text = "Aspirin use was associated with a lower risk of colorectal cancer.";
    let old_3 = || paper(3, 2021, old_text, "ner-a", &[("Aspirin", "Chemical")]);
    {
        let mut ix = Indexer::open(dir.path(), config(1000)).unwrap();
        // The corpus (documents offsets 10, 11, 12), then paper 3's older version (offset 2)
        // in the same buffer: refused.
        ix.write(&made_from(
            batch("t", 0, 0, corpus().into_iter().map(up).collect()),
            &[10, 11, 12],
        ))
        .unwrap();
        ix.write(&made_from(batch("t", 0, 3, vec![up(old_3())]), &[2]))
            .unwrap();
        assert_eq!(ix.stats().superseded, 1);
        // Paper 1 deleted (offset 20); committed.
        ix.write(&made_from(batch("t", 0, 4, vec![del("pmid:1")]), &[20]))
            .unwrap();
        ix.commit().unwrap();
        ix.close().unwrap();
    }
    let mut ix = Indexer::open(dir.path(), config(1000)).unwrap();
    // Read back from the commit: paper 1's version made before its deletion, paper 3's older
    // version again: both refused. Paper 2 made from the same record again: written.
    let again_2 = paper(
        2,
        2019,
        "Aspirin relieved headache.",
        "ner-a",
        &[("headache", "Disease")],
    );
    ix.write(&made_from(
        batch(
            "t",
            0,
            5,
            vec![up(corpus().remove(0)), up(old_3()), up(again_2)],
        ),
        &[10, 2, 11],
    ))
    .unwrap();
    assert_eq!((ix.stats().superseded, ix.stats().documents), (2, 1));
    ix.commit().unwrap();
    let s = Searcher::open(dir.path()).unwrap();
    assert_eq!(s.num_docs().unwrap(), 2, "papers 2 and 3; paper 1 deleted");
    assert_eq!(ids(&s, &SearchRequest::new("metformin")), ["pmid:3"]);
    assert_eq!(ids(&s, &SearchRequest::new("headache")), ["pmid:2"]);
    assert!(ids(&s, &SearchRequest::new("aspirin")).is_empty());
    // Queries that match any paper never return the entry of the deleted one.
    assert_eq!(ids(&s, &SearchRequest::new("*")), ["pmid:2", "pmid:3"]);
    let mut by_year = SearchRequest::new("*");
    by_year.year_from = Some(2000);
    assert_eq!(s.search(&by_year).unwrap().total, 2);
    // A version made after the deletion brings paper 1 back.
    ix.write(&made_from(
        batch("t", 0, 8, vec![up(corpus().remove(0))]),
        &[30],
    ))
    .unwrap();
    ix.commit().unwrap();
    s.reload().unwrap();
    assert_eq!(
        ids(&s, &SearchRequest::new("*")),
        ["pmid:1", "pmid:2", "pmid:3"]
    );
    assert_eq!(s.num_docs().unwrap(), 3);
}
