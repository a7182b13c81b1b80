//! The parsers on the project's fixtures (ingest/tests/fixtures, see its README): pure parsing,
//! no broker.

mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use pubmine_ingest::error::{RecordError, SourceError};
use pubmine_ingest::source::visit_file;
use pubmine_stream::record::{Document, DocumentRecord, PassageKind};

use common::fixture;

/// Everything a file gives: (source label, record) in order, and whole-input errors.
type Labelled = Vec<(String, Result<DocumentRecord, RecordError>)>;

fn read_all(name: &str) -> (Labelled, Vec<SourceError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut visit = |label: &str, records: pubmine_ingest::source::Records<'_>| {
        out.extend(records.map(|r| (label.to_string(), r)));
        true
    };
    let mut on_error = |e| errors.push(e);
    visit_file(
        &fixture(name),
        Arc::new(AtomicU64::new(0)),
        &mut visit,
        &mut on_error,
    )
    .expect("fixture readable");
    (out, errors)
}

fn docs(name: &str) -> Vec<Document> {
    let (records, errors) = read_all(name);
    assert!(errors.is_empty(), "{errors:?}");
    records
        .into_iter()
        .filter_map(|(_, r)| match r.expect("record parses") {
            DocumentRecord::Upsert(d) => Some(*d),
            DocumentRecord::Delete(_) => None,
        })
        .collect()
}

#[test]
fn structured_abstract_with_markup_mathml_and_metadata() {
    let d = docs("medline_structured.xml");
    assert_eq!(d.len(), 2);
    let a = &d[0];
    assert_eq!(a.id, "pmid:31000001");
    assert_eq!(a.version, Some(1));
    assert_eq!(
        a.title,
        "Loss of BRCA1 amplifies β-catenin signalling in naïve mammary organoids cultured under 5% CO2."
    );
    assert_eq!(a.passages[0].kind, PassageKind::Title);
    let sections: Vec<_> = a
        .passages
        .iter()
        .filter(|p| p.kind == PassageKind::Abstract)
        .map(|p| (p.section.as_deref(), p.category.as_deref()))
        .collect();
    assert_eq!(
        sections,
        [
            (Some("BACKGROUND"), Some("BACKGROUND")),
            (Some("METHODS"), Some("METHODS")),
            (Some("RESULTS"), Some("RESULTS")),
            (Some("CONCLUSIONS"), Some("CONCLUSIONS")),
        ]
    );
    // Character references decoded, inline markup and MathML flattened with no word lost.
    assert!(a.passages[1].text.contains("TNF-α signalling in naïve"));
    assert!(
        a.passages[2]
            .text
            .contains("5% CO2, treated with tamoxifen (10-5 M)")
    );
    assert!(
        a.passages[2]
            .text
            .contains("primary outcomes were pre-registered (Müller")
    );
    assert!(
        a.passages[3].text.contains("than controls (p<0.05), and"),
        "{}",
        a.passages[3].text
    );
    assert!(a.passages[3].text.contains("P = 3.2 × 10-5)"));
    assert_eq!(a.doi.as_deref(), Some("10.5555/jmor.2024.0117"));
    assert_eq!(a.pmcid.as_deref(), Some("PMC9000001"));
    // Ids of cited works are references, not the article's own ids.
    assert!(!a.article_ids.iter().any(|i| i.value == "31000097"));
    assert!(
        a.references
            .iter()
            .any(|r| r.pmid.as_deref() == Some("31000097"))
    );
    let orcids: Vec<_> = a
        .authors
        .iter()
        .filter_map(|x| x.orcid.as_deref())
        .collect();
    assert_eq!(orcids, ["0000-0002-1825-0097"]);
    assert!(a.authors.iter().any(|x| x.affiliations.len() == 2));
    assert!(
        a.authors
            .iter()
            .any(|x| x.collective_name.as_deref() == Some("Nordic Organoid Consortium"))
    );
    assert_eq!(a.grants.len(), 2);
    assert_eq!(a.chemicals.len(), 2);
    assert!(a.mesh.iter().any(|h| h.descriptor.major));
    assert!(a.mesh.iter().any(|h| h.qualifiers.iter().any(|q| q.major)));
    assert!(!a.keywords.is_empty());
    assert_eq!(a.keywords[0].owner.as_deref(), Some("NOTNLM"));
    assert!(
        a.comments_corrections
            .iter()
            .any(|c| c.ref_type == "ErratumIn")
    );
    assert!(!a.retracted);
    let j = a.journal.as_ref().unwrap();
    assert!(j.title.is_some() && j.iso_abbreviation.is_some() && j.nlm_unique_id.is_some());
    assert!(a.dates.iter().any(|d| d.kind == "Electronic"));

    let b = &d[1];
    assert!(b.retracted, "Retracted Publication + RetractionIn");
    let pd = b.pub_date.as_ref().unwrap();
    assert_eq!((pd.year, pd.month), (Some(1998), Some(12)));
    assert_eq!(pd.text.as_deref(), Some("1998 Dec-1999 Jan"));
    assert_eq!(b.languages, ["eng", "ger"]);
    let other: Vec<_> = b
        .passages
        .iter()
        .filter(|p| p.kind == PassageKind::OtherAbstract)
        .collect();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].lang.as_deref(), Some("ger"));
    assert!(other[0].text.starts_with("Wir beobachteten"));
}

#[test]
fn gzip_gives_the_same_documents() {
    assert_eq!(
        docs("medline_structured.xml"),
        docs("medline_structured.xml.gz")
    );
}

#[test]
fn update_file_deletions_become_tombstones() {
    let (records, _) = read_all("medline_update.xml");
    let records: Vec<_> = records.into_iter().map(|(_, r)| r.unwrap()).collect();
    assert!(
        matches!(&records[0], DocumentRecord::Upsert(d) if d.id == "pmid:31000003.2" && d.version == Some(2))
    );
    let deleted: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            DocumentRecord::Delete(id) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(deleted, ["pmid:31000010", "pmid:31000011", "pmid:31000012"]);
}

#[test]
fn book_articles_use_the_chapter_or_the_book_title() {
    let d = docs("medline_book.xml");
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].id, "pmid:31000040");
    assert_eq!(
        d[0].title,
        "Results: Glycaemic Control and Cardiovascular Outcomes"
    );
    assert!(
        d[0].passages
            .iter()
            .any(|p| p.kind == PassageKind::Abstract)
    );
    assert!(
        d[0].journal
            .as_ref()
            .and_then(|j| j.publisher.as_ref())
            .is_some()
    );
    assert_eq!(d[1].title, "PaedAsthma® Handbook of Childhood Asthma");
}

#[test]
fn a_poison_record_is_reported_and_its_neighbours_parse() {
    let (records, _) = read_all("medline_bad.xml");
    assert_eq!(records.len(), 3);
    assert!(matches!(&records[0].1, Ok(DocumentRecord::Upsert(d)) if d.id == "pmid:31000020"));
    let err = records[1].1.clone().unwrap_err();
    assert!(err.reason.contains("without PMID"), "{err}");
    assert!(err.position > 0);
    assert!(records[1].0.ends_with("medline_bad.xml"));
    assert!(matches!(&records[2].1, Ok(DocumentRecord::Upsert(d)) if d.id == "pmid:31000022"));
}

#[test]
fn a_truncated_file_keeps_what_came_before_the_cut() {
    let (records, _) = read_all("medline_truncated.xml");
    assert_eq!(records.len(), 2, "{records:?}");
    assert!(matches!(&records[0].1, Ok(DocumentRecord::Upsert(d)) if d.id == "pmid:31000030"));
    // The cut is not a bad record but an incomplete file: a fatal error, the file fails.
    let err = records[1].1.clone().unwrap_err();
    assert!(err.fatal && err.reason.contains("truncated"), "{err}");
}

#[test]
fn oa_package_members_are_parsed_and_escaping_members_refused() {
    let (records, errors) = read_all("oa_package.tar.gz");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records.len(), 1);
    assert!(
        records[0]
            .0
            .ends_with("oa_package.tar.gz!PMC8000001/jats_bare.nxml")
    );
    assert!(matches!(&records[0].1, Ok(DocumentRecord::Upsert(d)) if d.id == "pmc:PMC8000001"));

    let (records, errors) = read_all("evil.tar.gz");
    assert!(records.is_empty());
    assert_eq!(errors.len(), 1);
    assert!(
        matches!(&errors[0], SourceError::UnsafeEntry { entry, .. } if entry.contains("..")),
        "{errors:?}"
    );
}

#[test]
fn jats_fixtures_parse() {
    for (name, id) in [
        ("jats_bare.nxml", "pmc:PMC8000001"),
        ("jats_nobody.nxml", "pmc:PMC8000002"),
        ("jats_oai.xml", "pmc:PMC8000003"),
    ] {
        let d = docs(name);
        assert_eq!(d.len(), 1, "{name}");
        assert_eq!(d[0].id, id, "{name}");
        assert!(!d[0].title.is_empty(), "{name}");
    }
    let set = docs("jats_articleset.xml");
    let ids: Vec<_> = set.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["pmc:PMC8000004", "pmc:PMC8000005"]);
    let nobody = &docs("jats_nobody.nxml")[0];
    assert!(
        nobody
            .passages
            .iter()
            .all(|p| p.kind != PassageKind::Paragraph)
    );
    assert!(
        nobody
            .passages
            .iter()
            .any(|p| p.kind == PassageKind::Abstract)
    );
}
