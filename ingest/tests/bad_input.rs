//! Bad input, file by file: each gives an error naming the file, the byte position and the
//! reason; the rest of the stream is read; nothing accepted before it is lost; memory stays
//! bounded. Inputs are written by the tests into a temporary directory. The file-level outcome
//! (done, or failed so that a rerun retries it) is checked through `ingest_file` on the
//! in-process transport, with no broker.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use pubmine_ingest::error::{RecordError, SourceError};
use pubmine_ingest::produce::{FileReport, IngestConfig, IngestError, ingest_file};
use pubmine_ingest::source::{expand_paths, visit_file};
use pubmine_stream::record::{Document, DocumentRecord};
use pubmine_stream::transport::{ChannelProducer, OutRecord};

fn medline_record(pmid: u64, abstract_xml: &str) -> String {
    format!(
        "<PubmedArticle><MedlineCitation><PMID Version=\"1\">{pmid}</PMID><Article>\
         <ArticleTitle>Title {pmid}</ArticleTitle><Abstract><AbstractText>{abstract_xml}</AbstractText>\
         </Abstract></Article></MedlineCitation></PubmedArticle>\n"
    )
}

fn medline_set(records: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PubmedArticleSet>\n{records}</PubmedArticleSet>\n"
    )
}

/// `n` good records, 1..=n, with some bulk so that a few thousand span several 1 MiB chunks.
fn good_records(range: std::ops::RangeInclusive<u64>) -> String {
    range
        .map(|i| {
            medline_record(
                i,
                &format!("Abstract of {i}. {}", "Filler words here. ".repeat(20)),
            )
        })
        .collect()
}

fn jats_article(pmcid: Option<u64>, body: &str) -> String {
    let id = pmcid
        .map(|n| format!("<article-id pub-id-type=\"pmc\">{n}</article-id>"))
        .unwrap_or_default();
    format!(
        "<article article-type=\"research-article\"><front><article-meta>{id}<title-group>\
         <article-title>Article {}</article-title></title-group></article-meta></front>\
         <body>{body}</body></article>\n",
        pmcid.unwrap_or(0)
    )
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// What `visit_file` gives: labelled records, member errors, and the file's own outcome.
struct Read_ {
    records: Vec<(String, Result<DocumentRecord, RecordError>)>,
    member_errors: Vec<SourceError>,
    outcome: Result<(), SourceError>,
}

fn read(path: &Path) -> Read_ {
    let mut records = Vec::new();
    let mut member_errors = Vec::new();
    let mut visit = |label: &str, rs: pubmine_ingest::source::Records<'_>| {
        records.extend(rs.map(|r| (label.to_string(), r)));
        true
    };
    let outcome = visit_file(path, Arc::new(AtomicU64::new(0)), &mut visit, &mut |e| {
        member_errors.push(e)
    });
    Read_ {
        records,
        member_errors,
        outcome,
    }
}

impl Read_ {
    fn docs(&self) -> Vec<&Document> {
        self.records
            .iter()
            .filter_map(|(_, r)| match r {
                Ok(DocumentRecord::Upsert(d)) => Some(&**d),
                _ => None,
            })
            .collect()
    }
    fn errors(&self) -> Vec<&RecordError> {
        self.records
            .iter()
            .filter_map(|(_, r)| r.as_ref().err())
            .collect()
    }
}

/// Ingests `path` through the in-process transport: the file's outcome and what was sent.
async fn ingest(path: &Path) -> (Result<FileReport, IngestError>, Vec<OutRecord>) {
    let (producer, mut rx) = ChannelProducer::new(64);
    let collect = tokio::spawn(async move {
        let mut out = Vec::new();
        while let Some(r) = rx.recv().await {
            out.push(r);
        }
        out
    });
    let cfg = IngestConfig {
        topic: "documents".into(),
        dead_letter_topic: "dead".into(),
        progress: false,
    };
    let result = ingest_file(&producer, &cfg, path).await;
    drop(producer);
    (result, collect.await.unwrap())
}

fn sent_documents(sent: &[OutRecord]) -> usize {
    sent.iter()
        .filter(|r| r.topic == "documents" && r.value.is_some())
        .count()
}

#[tokio::test]
async fn a_truncated_gzip_sends_the_records_before_the_cut_and_fails_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let xml = medline_set(&good_records(1..=3000));
    let gz = gzip(xml.as_bytes());
    let path = write(dir.path(), "pubmed25n0001.xml.gz", &gz[..gz.len() / 2]);

    let r = read(&path);
    let docs = r.docs();
    assert!(docs.len() > 1000, "{} documents before the cut", docs.len());
    // Every document before the cut, in order, and whole.
    for (i, d) in docs.iter().enumerate() {
        assert_eq!(d.id, format!("pmid:{}", i + 1));
        assert!(d.passages.iter().any(|p| p.text.starts_with("Abstract of")));
    }
    let errors = r.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].fatal);
    assert!(
        errors[0].position > 0 && errors[0].reason.contains("deflate"),
        "{}",
        errors[0]
    );

    let (result, sent) = ingest(&path).await;
    let err = result.expect_err("a truncated file fails");
    // The failed file's report counts what it sent (a summary once said `documents: 0`).
    match &err {
        IngestError::Source { sent, .. } => assert_eq!(sent.documents as usize, docs.len()),
        other => panic!("{other}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("pubmed25n0001.xml.gz") && msg.contains("at byte"),
        "{msg}"
    );
    assert_eq!(sent_documents(&sent), docs.len());
    assert!(
        sent.iter().all(|r| r.topic == "documents"),
        "no dead letter for a cut"
    );
}

#[tokio::test]
async fn gzip_of_garbage_and_a_file_that_is_not_xml_fail_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut garbage = vec![0x1f, 0x8b];
    garbage.extend((0..4000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    let gz = write(dir.path(), "bad.xml.gz", &garbage);
    let text = write(dir.path(), "notes.xml", "just some words, no markup\n");
    let binary = write(dir.path(), "image.xml", [0u8, 159, 146, 150, 7, 1, 2]);
    for path in [gz, text, binary] {
        let (result, sent) = ingest(&path).await;
        let msg = result.expect_err("the file fails").to_string();
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(sent.is_empty());
        eprintln!("{msg}");
    }
}

#[tokio::test]
async fn a_truncated_xml_file_fails_after_its_whole_records() {
    let dir = tempfile::tempdir().unwrap();
    let xml = medline_set(&good_records(1..=50));
    for cut in [xml.len() / 2, xml.len() - 3] {
        let path = write(dir.path(), "cut.xml", &xml[..cut]);
        let r = read(&path);
        let errors = r.errors();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].fatal && errors[0].reason.contains("truncated"),
            "{}",
            errors[0]
        );
        assert_eq!(errors[0].position, cut as u64);
        let (result, sent) = ingest(&path).await;
        assert!(result.is_err());
        assert_eq!(sent_documents(&sent), r.docs().len());
    }
}

#[tokio::test]
async fn bad_records_are_one_dead_letter_each_and_every_good_record_after_them_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = String::new();
    let bad: [(u64, &[u8]); 5] = [
        (300, b"text <!foo> more"),
        (700, b"caf\xe9 au lait"),
        (900, b"<b>unclosed</i>"),
        (1200, b"nul \x00 byte"),
        (1500, b"nul &#0; ref and &#1; ref"),
    ];
    let mut bytes = Vec::new();
    for i in 1..=2000u64 {
        match bad.iter().find(|(n, _)| *n == i) {
            Some((_, text)) => {
                bytes.extend_from_slice(records.as_bytes());
                records.clear();
                bytes.extend_from_slice(
                    format!("<PubmedArticle><MedlineCitation><PMID>{i}</PMID><Article><Abstract><AbstractText>").as_bytes(),
                );
                bytes.extend_from_slice(text);
                bytes.extend_from_slice(
                    b"</AbstractText></Abstract></Article></MedlineCitation></PubmedArticle>\n",
                );
            }
            None => records.push_str(&good_records(i..=i)),
        }
    }
    bytes.extend_from_slice(records.as_bytes());
    let mut file = b"<?xml version=\"1.0\"?>\n<PubmedArticleSet>\n".to_vec();
    file.extend_from_slice(&bytes);
    file.extend_from_slice(b"</PubmedArticleSet>\n");
    let path = write(dir.path(), "mixed.xml", &file);

    let r = read(&path);
    assert!(r.outcome.is_ok());
    assert_eq!(r.docs().len(), 1995);
    let errors = r.errors();
    assert_eq!(errors.len(), 5, "{errors:?}");
    for (e, (pmid, _)) in errors.iter().zip(bad) {
        assert!(!e.fatal);
        // The position falls inside the bad record.
        let start = memchr::memmem::find(&file, format!("<PMID>{pmid}</PMID>").as_bytes()).unwrap();
        assert!(
            (e.position as usize) > start - 60 && (e.position as usize) < start + 200,
            "{e}"
        );
        assert!(e.reason.contains("malformed XML"), "{e}");
        // The PMID was read before the fault: the error (and its dead letter) names it.
        assert_eq!(e.id, Some(format!("pmid:{pmid}")), "{e}");
    }
    assert!(errors[3].reason.contains("U+0000"), "{}", errors[3]);
    assert!(
        errors[4].reason.contains("character reference"),
        "{}",
        errors[4]
    );
    // No document text holds a control character.
    for d in r.docs() {
        for p in &d.passages {
            assert!(!p.text.chars().any(|c| (c as u32) < 0x20), "{}", d.id);
        }
    }

    let (result, sent) = ingest(&path).await;
    let report = result.expect("the file is done");
    assert_eq!((report.documents, report.dead_lettered), (1995, 5));
    let dead: Vec<String> = sent
        .iter()
        .filter(|r| r.topic == "dead")
        .map(|r| String::from_utf8(r.value.clone().unwrap()).unwrap())
        .collect();
    assert_eq!(dead.len(), 5);
    assert!(
        dead.iter()
            .all(|d| d.contains("mixed.xml") && d.contains("byte ")),
        "{dead:?}"
    );
    for (d, (pmid, _)) in dead.iter().zip(bad) {
        assert!(d.contains(&format!("\"id\":\"pmid:{pmid}\"")), "{d}");
    }
}

#[test]
fn a_nul_in_an_id_is_a_bad_record() {
    let dir = tempfile::tempdir().unwrap();
    let xml = format!(
        "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>12\u{0}3</PMID></MedlineCitation></PubmedArticle>{}</PubmedArticleSet>",
        good_records(5..=5)
    );
    let r = read(&write(dir.path(), "nul.xml", xml));
    assert_eq!(r.errors().len(), 1);
    assert!(r.errors()[0].reason.contains("U+0000"));
    assert_eq!(r.docs()[0].id, "pmid:5");
}

#[test]
fn a_bad_jats_article_does_not_take_the_later_articles_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = String::from("<?xml version=\"1.0\"?><pmc-articleset>");
    set.push_str(&jats_article(Some(1), "<p>one</p>"));
    set.push_str(&jats_article(Some(2), "<p>two <!bad> two</p>"));
    set.push_str(&jats_article(None, "<p>no id</p>"));
    set.push_str(&jats_article(Some(4), "<p>caf\u{0}</p>"));
    for i in 5..=9 {
        set.push_str(&jats_article(Some(i), "<p>fine</p>"));
    }
    set.push_str("</pmc-articleset>");
    let r = read(&write(dir.path(), "set.xml", set));
    let ids: Vec<_> = r.docs().iter().map(|d| d.id.clone()).collect();
    assert_eq!(
        ids,
        [
            "pmc:PMC1", "pmc:PMC5", "pmc:PMC6", "pmc:PMC7", "pmc:PMC8", "pmc:PMC9"
        ]
    );
    let errors = r.errors();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[1].reason.contains("without PMC id"), "{}", errors[1]);
    assert!(errors.iter().all(|e| e.position > 0 && !e.fatal));
}

#[test]
fn latin1_and_windows_1252_are_decoded_and_unknown_encodings_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut latin1 =
        b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<PubmedArticleSet>".to_vec();
    for i in 1..=3u64 {
        latin1.extend_from_slice(
            format!("<PubmedArticle><MedlineCitation><PMID>{i}</PMID><Article><ArticleTitle>na")
                .as_bytes(),
        );
        latin1.extend_from_slice(
            b"\xefve \xb5g</ArticleTitle></Article></MedlineCitation></PubmedArticle>",
        );
    }
    latin1.extend_from_slice(b"</PubmedArticleSet>");
    let r = read(&write(dir.path(), "latin1.xml", &latin1));
    assert!(r.errors().is_empty(), "{:?}", r.errors());
    let titles: Vec<_> = r.docs().iter().map(|d| d.title.clone()).collect();
    assert_eq!(titles, ["naïve µg"; 3]);

    // windows-1252: where it differs from Latin-1 (0x80 to 0x9F: quotes, dashes, the euro).
    let mut cp1252 =
        b"<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n<PubmedArticleSet>".to_vec();
    cp1252.extend_from_slice(
        b"<PubmedArticle><MedlineCitation><PMID>7</PMID><Article><ArticleTitle>\x93Na\xefve\x94 \x96 \x8010</ArticleTitle>\
          </Article></MedlineCitation></PubmedArticle></PubmedArticleSet>",
    );
    let r = read(&write(dir.path(), "cp1252.xml", &cp1252));
    assert!(r.errors().is_empty(), "{:?}", r.errors());
    let titles: Vec<_> = r.docs().iter().map(|d| d.title.clone()).collect();
    assert_eq!(titles, ["\u{201c}Na\u{ef}ve\u{201d} \u{2013} \u{20ac}10"]);

    let sjis = write(
        dir.path(),
        "sjis.xml",
        "<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><PubmedArticleSet></PubmedArticleSet>",
    );
    let r = read(&sjis);
    let msg = r.outcome.expect_err("refused").to_string();
    assert!(
        msg.contains("sjis.xml") && msg.contains("Shift_JIS"),
        "{msg}"
    );

    // UTF-16, with or without a byte order mark, is named as an encoding, not "not XML".
    let utf16: Vec<u8> = medline_set(&good_records(1..=2))
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    for (name, bytes) in [
        ("utf16.xml", utf16.clone()),
        ("utf16-bom.xml", [&[0xFF, 0xFE][..], &utf16].concat()),
    ] {
        let r = read(&write(dir.path(), name, &bytes));
        let msg = r.outcome.expect_err("refused").to_string();
        assert!(
            msg.contains(name) && msg.contains("encoding \"UTF-16\" is not supported"),
            "{msg}"
        );
    }
}

#[test]
fn undeclared_entities_are_kept_as_written_and_a_bomb_is_never_expanded() {
    let dir = tempfile::tempdir().unwrap();
    let mut dtd = String::from("<!DOCTYPE PubmedArticleSet [\n<!ENTITY lol0 \"lol\">\n");
    for i in 1..10 {
        let prev = format!("&lol{};", i - 1);
        dtd.push_str(&format!("<!ENTITY lol{i} \"{}\">\n", prev.repeat(10)));
    }
    dtd.push_str("]>\n");
    let xml = format!(
        "<?xml version=\"1.0\"?>\n{dtd}<PubmedArticleSet>{}{}{}</PubmedArticleSet>",
        medline_record(1, "bomb &lol9; here"),
        medline_record(2, "an &undeclared; entity"),
        good_records(3..=3)
    );
    let r = read(&write(dir.path(), "bomb.xml", xml));
    assert!(r.errors().is_empty(), "{:?}", r.errors());
    let docs = r.docs();
    assert_eq!(docs.len(), 3);
    assert_eq!(docs[0].passages[1].text, "bomb &lol9; here");
    assert_eq!(docs[1].passages[1].text, "an &undeclared; entity");
}

#[test]
fn elements_nested_100000_deep_in_medline_are_read_in_bounded_stack() {
    let dir = tempfile::tempdir().unwrap();
    const N: usize = 100_000;
    let deep_inline = format!("{}deep words{}", "<i>".repeat(N), "</i>".repeat(N));
    let deep_refs = format!(
        "<PubmedData>{}<Reference><Citation>cited</Citation></Reference>{}</PubmedData>",
        "<ReferenceList>".repeat(N),
        "</ReferenceList>".repeat(N)
    );
    let deep_unknown = format!("{}x{}", "<Unknown>".repeat(N), "</Unknown>".repeat(N));
    let rec = format!(
        "<PubmedArticle><MedlineCitation><PMID>1</PMID>{deep_unknown}<Article><ArticleTitle>t</ArticleTitle>\
         <Abstract><AbstractText>{deep_inline}</AbstractText></Abstract></Article></MedlineCitation>{deep_refs}</PubmedArticle>"
    );
    let xml = medline_set(&format!("{rec}{}", good_records(2..=2)));
    let r = read(&write(dir.path(), "deep.xml", &xml));
    assert!(r.errors().is_empty(), "{:?}", r.errors());
    let docs = r.docs();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0].passages[1].text, "deep words");
    assert!(
        docs[0]
            .references
            .iter()
            .any(|r| r.citation.contains("cited"))
    );
}

/// The words of a JATS body nested `n` deep in `open`/`close`, each level with its own paragraph.
fn nested_jats(n: usize, open: &str, close: &str) -> String {
    let mut body = String::new();
    for i in 0..n {
        body.push_str(open);
        body.push_str(&format!("<title>Level {i}</title><p>word{i}</p>"));
    }
    body.push_str(&close.repeat(n));
    format!(
        "<pmc-articleset>{}{}</pmc-articleset>",
        jats_article(Some(1), &body),
        jats_article(Some(2), "<p>after</p>")
    )
}

#[test]
fn jats_nested_10000_deep_keeps_every_word_in_linear_space() {
    let dir = tempfile::tempdir().unwrap();
    const N: usize = 10_000;
    for (open, close) in [
        ("<sec>", "</sec>"),
        ("<boxed-text>", "</boxed-text>"),
        ("<sec><boxed-text>", "</boxed-text></sec>"),
    ] {
        let xml = nested_jats(N, open, close);
        let r = read(&write(dir.path(), "nested.nxml", &xml));
        assert!(r.errors().is_empty(), "{open}: {:?}", r.errors());
        let docs = r.docs();
        assert_eq!(docs.len(), 2, "{open}");
        let text: String = docs[0]
            .passages
            .iter()
            .map(|p| format!("{} ", p.text))
            .collect();
        let words: std::collections::HashSet<&str> = text.split(' ').collect();
        for i in 0..N {
            assert!(
                words.contains(format!("word{i}").as_str()),
                "{open}: word{i} lost"
            );
        }
        // Output linear in the input: no section label repeats the whole chain of headings.
        let out: usize = docs[0]
            .passages
            .iter()
            .map(|p| p.text.len() + p.section.as_ref().map_or(0, |s| s.len()))
            .sum();
        assert!(
            out < 2 * xml.len(),
            "{open}: {out} bytes out of {}",
            xml.len()
        );
    }
}

/// A MEDLINE stream with one text node of `size` bytes in its second record, made as it is read.
struct HugeText {
    parts: Vec<Vec<u8>>,
    part: usize,
    at: usize,
    filler_left: usize,
}

impl HugeText {
    fn new(size: usize) -> Self {
        let head = format!(
            "<?xml version=\"1.0\"?>\n<PubmedArticleSet>{}<PubmedArticle><MedlineCitation><PMID>2</PMID><Article><Abstract><AbstractText>",
            good_records(1..=1)
        );
        let tail = format!(
            "</AbstractText></Abstract></Article></MedlineCitation></PubmedArticle>{}</PubmedArticleSet>",
            good_records(3..=4)
        );
        HugeText {
            parts: vec![head.into_bytes(), Vec::new(), tail.into_bytes()],
            part: 0,
            at: 0,
            filler_left: size,
        }
    }
}

impl Read for HugeText {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        const FILLER: &[u8] = b"lorem ipsum dolor sit amet ";
        while self.part < self.parts.len() {
            if self.part == 1 {
                if self.filler_left == 0 {
                    self.part += 1;
                    self.at = 0;
                    continue;
                }
                let n = buf.len().min(self.filler_left);
                for (i, b) in buf[..n].iter_mut().enumerate() {
                    *b = FILLER[(self.at + i) % FILLER.len()];
                }
                self.at += n;
                self.filler_left -= n;
                return Ok(n);
            }
            let p = &self.parts[self.part];
            if self.at >= p.len() {
                self.part += 1;
                self.at = 0;
                continue;
            }
            let n = buf.len().min(p.len() - self.at);
            buf[..n].copy_from_slice(&p[self.at..self.at + n]);
            self.at += n;
            return Ok(n);
        }
        Ok(0)
    }
}

#[test]
fn a_text_node_three_times_the_record_limit_is_one_bad_record_in_bounded_memory() {
    // Generated as it is read, never held whole; the record is skipped at the limit on one
    // record (chunk::MAX_RECORD_BYTES, 128 MiB) and the records after it are read. Memory is
    // bounded by that limit, not by the node: the process's peak resident memory (this binary's
    // other tests, small, included) stays below the node's size (384 MiB; about 265 MiB were
    // measured, for a 200 MiB node as for this one).
    let size = 3 * pubmine_ingest::chunk::MAX_RECORD_BYTES;
    let records: Vec<_> =
        pubmine_ingest::medline::MedlineParser::new(HugeText::new(size)).collect();
    let ids: Vec<String> = records
        .iter()
        .filter_map(|r| match r {
            Ok(DocumentRecord::Upsert(d)) => Some(d.id.clone()),
            _ => None,
        })
        .collect();
    let errors: Vec<_> = records.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(ids, ["pmid:1", "pmid:3", "pmid:4"], "{errors:?}");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].reason.contains("record larger than"),
        "{}",
        errors[0]
    );
    assert!(!errors[0].fatal);
    let peak = peak_rss_bytes();
    eprintln!(
        "peak resident memory {} MiB, the text node {} MiB",
        peak >> 20,
        size >> 20
    );
    assert!(peak < size, "peak resident memory {peak} bytes");
}

/// The process's peak resident memory (VmHWM of /proc/self/status), in bytes.
fn peak_rss_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status");
    kb << 10
}

#[test]
fn a_cdata_section_or_comment_holding_a_record_end_tag_never_splits_its_record() {
    let dir = tempfile::tempdir().unwrap();
    // The lookalike end tags sit early in each record, the real one after a long tail, so that
    // most 1 MiB boundaries fall between them.
    let records: String = (1..=4000u64)
        .map(|i| {
            format!(
                "<PubmedArticle><MedlineCitation><PMID>{i}</PMID><Article><ArticleTitle>t</ArticleTitle>\
                 <Abstract><AbstractText><![CDATA[x </PubmedArticle> y]]></AbstractText></Abstract></Article>\
                 <!-- </PubmedArticle> --><?pi </PubmedArticle> ?><KeywordList>{}</KeywordList>\
                 </MedlineCitation></PubmedArticle>\n",
                "<Keyword>padding keyword</Keyword>".repeat(30)
            )
        })
        .collect();
    let r = read(&write(dir.path(), "cdata.xml", medline_set(&records)));
    assert!(
        r.errors().is_empty(),
        "{:?}",
        &r.errors()[..r.errors().len().min(3)]
    );
    assert_eq!(r.docs().len(), 4000);
    assert!(
        r.docs()
            .iter()
            .all(|d| d.passages[1].text == "x </PubmedArticle> y")
    );
}

#[test]
fn supplementary_material_captions_are_caption_passages() {
    let dir = tempfile::tempdir().unwrap();
    let body = "<sec><title>Supplementary Material</title>\
        <supplementary-material content-type=\"local-data\" id=\"S1\"><media xlink:href=\"x.pdf\">\
        <label>Additional file 1</label><caption><p><bold>Figure S1.</bold> Contingency plot of outcomes.</p>\
        </caption></media></supplementary-material>\
        <supplementary-material id=\"S2\"><label>Table S2</label><caption><p>Primer sequences.</p></caption>\
        <media xlink:href=\"y.doc\"/></supplementary-material>\
        <fig id=\"F1\"><graphic xlink:href=\"f1\"><caption><p>Caption inside the graphic.</p></caption></graphic></fig></sec>";
    let r = read(&write(dir.path(), "supp.nxml", jats_article(Some(7), body)));
    let d = r.docs()[0];
    let captions: Vec<_> = d
        .passages
        .iter()
        .filter(|p| p.kind == pubmine_stream::record::PassageKind::Caption)
        .map(|p| (p.category.as_deref(), p.text.as_str()))
        .collect();
    assert_eq!(
        captions,
        [
            (
                Some("Additional file 1"),
                "Figure S1. Contingency plot of outcomes."
            ),
            (Some("Table S2"), "Primer sequences."),
            (None, "Caption inside the graphic."),
        ]
    );
}

/// A tar header for `name`, written raw so that names the `tar` crate would refuse (`..`,
/// absolute) can be made.
fn tar_entry(out: &mut Vec<u8>, name: &str, kind: tar::EntryType, link: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    {
        let raw = h.as_old_mut();
        raw.name[..name.len()].copy_from_slice(name.as_bytes());
        raw.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

#[test]
fn oa_archives_refuse_escaping_paths_and_links_and_read_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let article = jats_article(Some(11), "<p>inside</p>");
    let mut tar_bytes = Vec::new();
    tar_entry(
        &mut tar_bytes,
        "../escape.nxml",
        tar::EntryType::Regular,
        "",
        article.as_bytes(),
    );
    tar_entry(
        &mut tar_bytes,
        "/etc/abs.nxml",
        tar::EntryType::Regular,
        "",
        article.as_bytes(),
    );
    tar_entry(
        &mut tar_bytes,
        "PMC11/link.nxml",
        tar::EntryType::Symlink,
        "/etc/passwd",
        b"",
    );
    tar_entry(
        &mut tar_bytes,
        "PMC11/hard.nxml",
        tar::EntryType::Link,
        "PMC11/a.nxml",
        b"",
    );
    tar_entry(
        &mut tar_bytes,
        "PMC11/a.nxml",
        tar::EntryType::Regular,
        "",
        article.as_bytes(),
    );
    tar_bytes.extend_from_slice(&[0u8; 1024]);
    let path = write(dir.path(), "oa.tar.gz", gzip(&tar_bytes));
    let r = read(&path);
    assert!(r.outcome.is_ok());
    let labels: Vec<_> = r.records.iter().map(|(l, _)| l.clone()).collect();
    assert_eq!(labels, [format!("{}!PMC11/a.nxml", path.display())]);
    let msgs: Vec<String> = r.member_errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(msgs.len(), 4, "{msgs:?}");
    assert!(msgs[0].contains("../escape.nxml") && msgs[0].contains("escapes"));
    assert!(msgs[1].contains("/etc/abs.nxml") && msgs[1].contains("escapes"));
    assert!(msgs[2].contains("link.nxml") && msgs[2].contains("link"));
    assert!(msgs[3].contains("hard.nxml") && msgs[3].contains("link"));
    assert!(msgs.iter().all(|m| m.contains("oa.tar.gz")));
}

#[test]
fn directory_walks_skip_fifos_and_report_unreadable_entries() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "a.xml", medline_set(&good_records(1..=1)));
    let fifo = d.join("b.xml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink(d.join("missing.xml"), d.join("c.xml")).unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    std::os::unix::fs::symlink(d.join("sub/loop.xml"), d.join("sub/loop.xml")).unwrap();
    write(&d.join("sub"), "e.xml", medline_set(&good_records(2..=2)));
    // A link back up the tree is walked once.
    std::os::unix::fs::symlink(d, d.join("sub/up")).unwrap();

    let found = expand_paths(&[d.to_path_buf()]);
    assert_eq!(found.files, [d.join("a.xml"), d.join("sub/e.xml")]);
    assert_eq!(found.skipped, std::slice::from_ref(&fifo));
    let errors: Vec<String> = found.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("c.xml"), "{errors:?}");
    assert!(errors[1].contains("loop.xml"), "{errors:?}");
    // Named on the command line, a FIFO is taken as given.
    assert_eq!(expand_paths(std::slice::from_ref(&fifo)).files, [fifo]);
}

#[tokio::test]
async fn a_path_that_cannot_be_read_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where a file is expected, and a dangling link.
    let as_dir = dir.path().join("dir.xml");
    std::fs::create_dir(&as_dir).unwrap();
    let dangling = dir.path().join("gone.xml");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
    for path in [as_dir, dangling] {
        let (result, sent) = ingest(&path).await;
        let msg = result.expect_err("unreadable").to_string();
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(sent.is_empty());
    }
}
