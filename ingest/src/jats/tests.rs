use super::*;

fn parse(xml: &str) -> Vec<Result<DocumentRecord, RecordError>> {
    JatsParser::new(xml.as_bytes()).collect()
}

fn doc(r: &Result<DocumentRecord, RecordError>) -> &Document {
    match r {
        Ok(DocumentRecord::Upsert(d)) => d,
        other => panic!("expected a document, got {other:?}"),
    }
}

fn one(xml: &str) -> Document {
    let records = parse(xml);
    assert_eq!(records.len(), 1, "{records:?}");
    doc(&records[0]).clone()
}

/// (kind, section, text) of each passage.
fn passages(d: &Document) -> Vec<(&str, Option<&str>, &str)> {
    d.passages
        .iter()
        .map(|p| (p.kind.as_str(), p.section.as_deref(), p.text.as_str()))
        .collect()
}

const META: &str = r#"<front><article-meta><article-id pub-id-type="pmc">42</article-id>
<title-group><article-title>T</article-title></title-group></article-meta></front>"#;

#[test]
fn bare_article_metadata() {
    let d = one(r#"<?xml version="1.0"?>
<!DOCTYPE article PUBLIC "-//NLM//DTD JATS" "x.dtd">
<article xmlns:xlink="http://www.w3.org/1999/xlink" article-type="research-article" xml:lang="en"><?properties open_access?>
<front><journal-meta><journal-id journal-id-type="nlm-ta">J Test</journal-id><journal-title>Journal of Tests</journal-title>
<issn pub-type="ppub">1234-5678</issn><publisher><publisher-name>Pub</publisher-name></publisher></journal-meta>
<article-meta><article-id pub-id-type="pmid">123</article-id><article-id pub-id-type="pmc">PMC42</article-id>
<article-id pub-id-type="doi">10.5555/x</article-id>
<title-group><article-title>CO<sub>2</sub> and <italic>E. coli</italic></article-title></title-group>
<contrib-group><contrib contrib-type="author"><contrib-id contrib-id-type="orcid">https://orcid.org/0000-0002-1825-0097</contrib-id>
<name><surname>Doe</surname><given-names>Jane</given-names><suffix>Jr</suffix></name><xref ref-type="aff" rid="a2 a1"><sup>1</sup></xref></contrib>
<contrib contrib-type="editor"><name><surname>Ed</surname></name></contrib>
<contrib contrib-type="author"><collab>The Group<contrib-group><contrib><name><surname>Member</surname></name></contrib></contrib-group></collab><xref ref-type="aff" rid="a1"/></contrib></contrib-group>
<aff id="a1"><label>1</label><institution>Uni A</institution><country>Norway</country></aff>
<aff id="a2"><label>2</label>Dept B, <institution>Uni B</institution></aff>
<pub-date pub-type="epub"><day>3</day><month>5</month><year>2021</year></pub-date>
<pub-date pub-type="ppub"><month>Jun</month><year>2021</year></pub-date>
<volume>7</volume><issue>2</issue><fpage>10</fpage><lpage>20</lpage>
<history><date date-type="received"><day>1</day><month>1</month><year>2020</year></date></history>
<kwd-group kwd-group-type="author"><title>Keywords</title><kwd>alpha</kwd><kwd>beta</kwd></kwd-group>
<related-article related-article-type="retraction-forward" ext-link-type="doi" xlink:href="10.5555/notice"/>
<article-id pub-id-type="pmid">999</article-id>
</article-meta></front></article>"#);
    assert_eq!(d.id, "pmc:PMC42");
    assert_eq!(d.source, SourceKind::Pmc);
    assert_eq!(d.pmcid.as_deref(), Some("PMC42"));
    assert_eq!(d.pmid.as_deref(), Some("123"));
    assert_eq!(d.doi.as_deref(), Some("10.5555/x"));
    assert_eq!(d.title, "CO2 and E. coli");
    assert_eq!(passages(&d), [("title", None, "CO2 and E. coli")]);
    let j = d.journal.as_ref().unwrap();
    assert_eq!(j.title.as_deref(), Some("Journal of Tests"));
    assert_eq!(j.iso_abbreviation.as_deref(), Some("J Test"));
    assert_eq!(j.issns[0].kind, "ppub");
    assert_eq!(j.publisher.as_deref(), Some("Pub"));
    assert_eq!(j.pages.as_deref(), Some("10-20"));
    assert_eq!(
        (j.volume.as_deref(), j.issue.as_deref()),
        (Some("7"), Some("2"))
    );
    assert_eq!(d.pub_date.as_ref().unwrap().month, Some(6));
    let kinds: Vec<_> = d.dates.iter().map(|k| k.kind.as_str()).collect();
    assert_eq!(kinds, ["epub", "ppub", "received"]);
    assert_eq!(d.authors.len(), 2);
    let a = &d.authors[0];
    assert_eq!(a.last_name.as_deref(), Some("Doe"));
    assert_eq!(a.fore_name.as_deref(), Some("Jane"));
    assert_eq!(a.suffix.as_deref(), Some("Jr"));
    assert_eq!(a.orcid.as_deref(), Some("0000-0002-1825-0097"));
    assert_eq!(a.affiliations, ["Dept B, Uni B", "Uni A Norway"]);
    assert_eq!(d.authors[1].collective_name.as_deref(), Some("The Group"));
    assert_eq!(d.authors[1].affiliations, ["Uni A Norway"]);
    assert_eq!(d.languages, ["en"]);
    assert_eq!(d.publication_types[0].name, "research-article");
    assert_eq!(d.keywords.len(), 2);
    assert_eq!(d.keywords[0].owner.as_deref(), Some("author"));
    assert_eq!(
        d.comments_corrections[0].doi.as_deref(),
        Some("10.5555/notice")
    );
    assert!(d.retracted);
}

#[test]
fn oai_envelope_in_the_jats_namespace() {
    let d = one(r#"<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><GetRecord><record><header><identifier>oai:x:1</identifier></header>
<metadata><article xmlns="https://jats.nlm.nih.gov/ns/archiving/1.3/" xmlns:mml="http://www.w3.org/1998/Math/MathML" article-type="brief-report">
<front><article-meta><article-id pub-id-type="pmcid">PMC8000003</article-id><article-id pub-id-type="pmcid-ver">PMC8000003.1</article-id>
<article-id pub-id-type="pmcaid">8000003</article-id><article-id pub-id-type="pmid">32000003</article-id>
<title-group><article-title>Title <mml:math><mml:mi>x</mml:mi></mml:math></article-title></title-group>
<pub-date publication-format="electronic" date-type="collection"><year>2024</year></pub-date>
<pub-date publication-format="electronic" date-type="pub"><day>28</day><month>10</month><year>2024</year></pub-date>
<elocation-id>e0088</elocation-id>
<abstract><p>One.</p><p>Two.</p></abstract></article-meta></front>
<body><sec><title>Intro</title><p>Body.</p></sec></body></article></metadata></record></GetRecord></OAI-PMH>"#);
    assert_eq!(d.id, "pmc:PMC8000003");
    assert_eq!(d.pmid.as_deref(), Some("32000003"));
    assert_eq!(d.title, "Title x");
    assert_eq!(d.pub_date.as_ref().unwrap().day, Some(28));
    assert_eq!(d.journal.as_ref().unwrap().pages.as_deref(), Some("e0088"));
    assert_eq!(
        passages(&d),
        [
            ("title", None, "Title x"),
            ("abstract", None, "One."),
            ("abstract", None, "Two."),
            ("paragraph", Some("Intro"), "Body."),
        ]
    );
}

#[test]
fn articleset_with_two_articles() {
    let records = parse(&format!(
        "<pmc-articleset><article>{META}</article>\n<article>{}</article></pmc-articleset>",
        META.replace(">42<", ">43<")
    ));
    let ids: Vec<_> = records.iter().map(|r| doc(r).id.as_str()).collect();
    assert_eq!(ids, ["pmc:PMC42", "pmc:PMC43"]);
}

#[test]
fn abstract_sections_and_nested_body_sections() {
    let d = one(&format!(
        r#"<article>{}<body><p>Lead.</p><sec><title>Methods</title><p>M.</p>
<sec><label>2.1</label><title>Cell <italic>culture</italic></title><p>A549 cells.</p></sec>
<sec><p>Untitled.</p></sec></sec><sec><title>Results</title><p>R.</p></sec></body>
<back><ack><p>Thanks.</p></ack><app-group><app><title>Appendix</title><p>App.</p></app></app-group>
<fn-group><fn><label>*</label><p>Note.</p></fn></fn-group></back></article>"#,
        META.replace(
            "</article-meta>",
            r#"<abstract><sec sec-type="background"><title>Background</title><p>B1.</p><p>B2.</p></sec>
<sec><title>Results</title><p>R.</p></sec></abstract>
<abstract abstract-type="summary"><title>Author Summary</title><p>S.</p></abstract>
<trans-abstract xml:lang="de"><p>Zusammenfassung.</p></trans-abstract></article-meta>"#
        )
    ));
    assert_eq!(
        passages(&d),
        [
            ("title", None, "T"),
            ("abstract", Some("Background"), "B1. B2."),
            ("abstract", Some("Results"), "R."),
            ("abstract", Some("Author Summary"), "S."),
            ("other_abstract", None, "Zusammenfassung."),
            ("paragraph", None, "Lead."),
            ("paragraph", Some("Methods"), "M."),
            ("paragraph", Some("Methods / Cell culture"), "A549 cells."),
            ("paragraph", Some("Methods"), "Untitled."),
            ("paragraph", Some("Results"), "R."),
            ("paragraph", Some("Acknowledgments"), "Thanks."),
            ("paragraph", Some("Appendix"), "App."),
            ("footnote", None, "Note."),
        ]
    );
    assert_eq!(d.passages[1].category.as_deref(), Some("background"));
    assert_eq!(d.passages[3].category.as_deref(), Some("summary"));
    assert_eq!(d.passages[4].lang.as_deref(), Some("de"));
    assert_eq!(d.passages[12].category.as_deref(), Some("*"));
}

#[test]
fn floats_inside_a_paragraph_are_not_duplicated() {
    let d = one(&format!(
        r#"<article>{META}<body><sec><title>Results</title><p>See the list:<list><list-item><p>one;</p></list-item><list-item><p>two.</p></list-item></list>
Then<fig id="F1"><label>Figure 1</label><caption><title>Cap title.</title><p>Cap text.</p></caption><graphic/></fig>after the figure,
<disp-formula><mml:math xmlns:mml="m"><mml:mi>E</mml:mi><mml:mo>=</mml:mo><mml:mi>m</mml:mi><mml:msup><mml:mi>c</mml:mi><mml:mn>2</mml:mn></mml:msup><mml:annotation encoding="tex">E=mc^2</mml:annotation></mml:math><tex-math>E=mc^2</tex-math></disp-formula>
and a note<fn><p>Footnote.</p></fn>.<table-wrap><label>Table 1</label><caption><p>Genes.</p></caption>
<alternatives><graphic/><table><thead><tr><th>Gene</th><th>Fold</th></tr></thead><tbody><tr><td>TP53</td><td>2.5</td></tr></tbody></table></alternatives>
<table-wrap-foot><fn><label>a</label><p>p &lt; 0.05.</p></fn><p>Loose.</p></table-wrap-foot></table-wrap></p></sec></body></article>"#
    ));
    let texts: Vec<_> = d
        .passages
        .iter()
        .map(|p| (p.kind.as_str(), p.category.as_deref(), p.text.as_str()))
        .collect();
    assert_eq!(
        texts,
        [
            ("title", None, "T"),
            (
                "paragraph",
                None,
                "See the list: one; two. Then after the figure, E=mc2 and a note."
            ),
            ("caption", Some("Figure 1"), "Cap title. Cap text."),
            ("footnote", None, "Footnote."),
            ("caption", Some("Table 1"), "Genes."),
            ("table", Some("Table 1"), "Gene Fold TP53 2.5"),
            ("footnote", Some("a"), "p < 0.05."),
            ("footnote", None, "Loose."),
        ]
    );
    assert!(
        d.passages
            .iter()
            .all(|p| p.kind == PassageKind::Title || p.section.as_deref() == Some("Results"))
    );
}

#[test]
fn an_article_without_body_keeps_its_metadata() {
    let d = one(&format!(
        "<article>{}</article>",
        META.replace(
            "</article-meta>",
            "<abstract><p>Abs.</p></abstract></article-meta>"
        )
    ));
    assert_eq!(
        passages(&d),
        [("title", None, "T"), ("abstract", None, "Abs.")]
    );
}

#[test]
fn an_article_without_pmc_id_is_an_error_and_the_next_is_read() {
    let xml = format!(
        r#"<pmc-articleset><article><front><article-meta><article-id pub-id-type="pmid">1</article-id>
<title-group><article-title>No id</article-title></title-group></article-meta></front><body><p>x</p></body></article>
<article>{META}</article></pmc-articleset>"#
    );
    let records = parse(&xml);
    assert_eq!(records.len(), 2);
    let err = records[0].clone().unwrap_err();
    assert!(err.reason.contains("article without PMC id"), "{err}");
    assert_eq!(doc(&records[1]).id, "pmc:PMC42");
}

#[test]
fn malformed_article_then_next_and_truncated_input() {
    let xml = format!(
        "<pmc-articleset><article>{META}<body><p>a</q></body></article><article>{META}</article>"
    );
    let records = parse(&xml);
    assert!(records[0].is_err(), "{records:?}");
    assert_eq!(
        records[0].as_ref().unwrap_err().id.as_deref(),
        Some("pmc:PMC42")
    );
    assert!(records.iter().any(|r| r.is_ok()));
    let truncated = parse(&format!("<article>{META}<body><p>cut"));
    assert_eq!(truncated.len(), 1);
    assert!(truncated[0].is_err());
}

#[test]
fn references_are_metadata() {
    let d = one(&format!(
        r#"<article>{META}<back><ref-list><title>References</title>
<ref id="B1"><label>1</label><element-citation><person-group><name><surname>Smith</surname><given-names>J</given-names></name></person-group><article-title>A <italic>b</italic> c</article-title><source>Nature</source><year>2000</year><pub-id pub-id-type="pmid">111</pub-id><pub-id pub-id-type="doi">10.1/x</pub-id></element-citation></ref>
<ref id="B2"><mixed-citation><name><surname>Li</surname><given-names>X</given-names></name> (<year>2010</year>) <source>J</source> <volume>1</volume>: <fpage>1</fpage>–<lpage>5</lpage>. <pub-id pub-id-type="pmcid">PMC7</pub-id></mixed-citation></ref>
</ref-list></back></article>"#
    ));
    assert_eq!(d.passages.len(), 1);
    let r = &d.references;
    assert_eq!(r[0].id.as_deref(), Some("B1"));
    assert_eq!(r[0].citation, "Smith J A b c Nature 2000");
    assert_eq!(
        (r[0].pmid.as_deref(), r[0].doi.as_deref()),
        (Some("111"), Some("10.1/x"))
    );
    assert_eq!(r[1].citation, "Li X (2010) J 1: 1–5.");
    assert_eq!(r[1].pmcid.as_deref(), Some("PMC7"));
}

#[test]
fn jats_roots() {
    assert!(root_is_jats("article") && root_is_jats("pmc-articleset") && root_is_jats("OAI-PMH"));
    assert!(!root_is_jats("PubmedArticleSet"));
}

fn parse_file(path: &std::path::Path) -> Vec<Result<DocumentRecord, RecordError>> {
    let file = std::fs::File::open(path).unwrap();
    JatsParser::new(std::io::BufReader::new(file)).collect()
}

#[test]
fn fixtures_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("jats_") {
            continue;
        }
        let records = parse_file(&path);
        assert!(!records.is_empty(), "{name}: no document");
        for r in &records {
            assert!(!doc(r).title.is_empty(), "{name}: empty title");
        }
        seen += 1;
    }
    assert!(seen > 0, "no jats_ fixture in {}", dir.display());
    let bare = dir.join("jats_bare.nxml");
    let records = parse_file(&bare);
    let d = doc(&records[0]);
    assert_eq!(d.id, "pmc:PMC8000001");
    assert!(
        d.passages
            .iter()
            .any(|p| p.section.as_deref() == Some("Methods / Cell culture")),
        "{:#?}",
        d.passages
    );
    assert!(
        d.passages
            .iter()
            .any(|p| p.kind == PassageKind::Table && p.text.contains("TP53"))
    );
    assert!(
        d.references
            .iter()
            .any(|r| r.pmid.as_deref() == Some("32000091"))
    );
}

/// The text of the first `<open ...>...</close>` element of `xml` after `from`, its markup
/// removed and its white space collapsed: what a reader of the raw file sees.
fn element_text(xml: &str, from: &str, open: &str, close: &str) -> Option<String> {
    let at = xml.find(from)?;
    let start = at + xml[at..].find(open)?;
    let start = start + xml[start..].find('>')? + 1;
    let end = start + xml[start..].find(close)?;
    let mut text = String::new();
    let mut in_tag = false;
    for c in xml[start..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    // XML's character references and predefined entities, decoded
    let decoded = quick_xml::escape::unescape(&text).ok()?;
    Some(decoded.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Real files from `../shared/samples/pmc`: every file gives one article whose id is the file's
/// PMC article id and whose title is its `<article-title>`'s text, read from the raw XML; with
/// an abstract passage where the file has an `<abstract>`, body text, and no caption or table
/// text repeated inside a paragraph. Without the samples the test says so and passes, unless
/// `PUBMINE_REQUIRE_CORPORA=1` (as CI sets it).
#[test]
fn shared_samples_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples/pmc");
    if !dir.exists() {
        assert!(
            std::env::var("PUBMINE_REQUIRE_CORPORA").as_deref() != Ok("1"),
            "{} is missing and PUBMINE_REQUIRE_CORPORA=1",
            dir.display()
        );
        eprintln!("{} not found: real PMC files not checked", dir.display());
        return;
    }
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let xml = std::fs::read_to_string(&path).unwrap();
        let records = parse_file(&path);
        assert_eq!(records.len(), 1, "{path:?}: one article");
        files += 1;
        for r in &records {
            let d = doc(r);
            let pmc = element_text(&xml, "<article-id pub-id-type=\"pmc\"", "", "<").unwrap();
            assert_eq!(d.id, format!("pmc:PMC{pmc}"), "{path:?}");
            let title = element_text(&xml, "<title-group>", "<article-title", "</article-title>");
            assert_eq!(
                Some(d.title.split_whitespace().collect::<Vec<_>>().join(" ")),
                title,
                "{path:?}"
            );
            assert_eq!(
                d.passages.iter().any(|p| p.kind == PassageKind::Abstract),
                xml.contains("<abstract"),
                "{path:?}: an abstract passage where the file has an <abstract>"
            );
            assert!(
                d.passages.iter().any(|p| p.kind == PassageKind::Paragraph),
                "{path:?}"
            );
            let floats = d.passages.iter().filter(|p| {
                matches!(p.kind, PassageKind::Caption | PassageKind::Table) && p.text.len() > 40
            });
            for f in floats {
                assert!(
                    !d.passages
                        .iter()
                        .any(|p| p.kind == PassageKind::Paragraph && p.text.contains(&f.text)),
                    "{path:?}: {:?} repeated in a paragraph",
                    f.text
                );
            }
        }
    }
    assert!(files > 0, "{} holds no file", dir.display());
}
