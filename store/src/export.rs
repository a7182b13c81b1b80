//! A document's annotations in the formats users' tools read: PubTator and BioC JSON.
//! Offsets in both count Unicode characters, as pubmine's do.

use pubmine_stream::record::{Annotations, Document, Mention, PassageKind, normalize_entity};
use serde_json::{Value, json};

/// The PMID when there is one, else the document id: what both formats call the document.
fn doc_key(a: &Annotations, doc: &Document) -> String {
    doc.pmid.clone().unwrap_or_else(|| a.id.clone())
}

/// Character offset of each passage in the document's text, passages joined by one space
/// (BioC's document offsets; PubTator's title-then-abstract offsets).
fn passage_offsets(doc: &Document) -> Vec<u32> {
    let mut at = 0u32;
    doc.passages
        .iter()
        .map(|p| {
            let start = at;
            at += p.text.chars().count() as u32 + 1;
            start
        })
        .collect()
}

/// A mention's identifier in the exports: its concept id, else its normal form.
fn identifier(m: &Mention) -> String {
    match &m.concept {
        Some(c) => c.id.clone(),
        None => normalize_entity(&m.text),
    }
}

/// PubTator: `ID|t|title`, `ID|a|text` (every passage after the title, joined by spaces, so
/// full texts fit too), then one line per mention `ID<TAB>start<TAB>end<TAB>text<TAB>type<TAB>id`
/// and per relation `ID<TAB>type<TAB>subject<TAB>object`. The identifier is the mention's concept
/// (`MESH:D001241`, `NCBIGene:7157`, `NCBITaxon:9606`) where it has one, else its normal form.
pub fn pubtator(a: &Annotations) -> String {
    let empty = Document::default();
    let doc = a.document.as_deref().unwrap_or(&empty);
    let key = doc_key(a, doc);
    let title_idx = doc
        .passages
        .iter()
        .position(|p| p.kind == PassageKind::Title);
    let mut out = String::new();
    let clean = |s: &str| s.replace(['\n', '\r', '|'], " ");
    // A document with no title passage gets an empty `t` line.
    let title = title_idx
        .map(|i| doc.passages[i].text.as_str())
        .unwrap_or("");
    out.push_str(&format!("{key}|t|{}\n", clean(title)));
    let rest: Vec<&str> = doc
        .passages
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != title_idx)
        .map(|(_, p)| p.text.as_str())
        .collect();
    out.push_str(&format!("{key}|a|{}\n", clean(&rest.join(" "))));
    // Offsets follow the t and a lines: title, one space, then the other passages in order.
    let title_len = title.chars().count() as u32;
    let mut shifted = vec![0u32; doc.passages.len()];
    let mut at = if title_idx.is_some() {
        title_len + 1
    } else {
        1
    };
    for (i, p) in doc.passages.iter().enumerate() {
        if Some(i) == title_idx {
            shifted[i] = 0;
        } else {
            shifted[i] = at;
            at += p.text.chars().count() as u32 + 1;
        }
    }
    for m in &a.mentions {
        let base = shifted.get(m.passage as usize).copied().unwrap_or(0);
        out.push_str(&format!(
            "{key}\t{}\t{}\t{}\t{}\t{}\n",
            base + m.start,
            base + m.end,
            clean(&m.text),
            m.ty,
            identifier(m)
        ));
    }
    for r in &a.relations {
        let name = |i: u32| {
            a.mentions
                .get(i as usize)
                .map(identifier)
                .unwrap_or_default()
        };
        out.push_str(&format!(
            "{key}\t{}\t{}\t{}\n",
            r.ty,
            name(r.subject),
            name(r.object)
        ));
    }
    out.push('\n');
    out
}

/// A BioC JSON collection holding the one document: passages with their document offsets and
/// annotations (`T<n>`, locations at document offsets), relations (`R<n>`) with subject and
/// object nodes.
pub fn bioc(a: &Annotations) -> Value {
    let empty = Document::default();
    let doc = a.document.as_deref().unwrap_or(&empty);
    let offsets = passage_offsets(doc);
    let mut passages: Vec<Value> = doc
        .passages
        .iter()
        .zip(&offsets)
        .map(|(p, &offset)| {
            let mut infons = json!({"type": p.kind.as_str()});
            if let Some(s) = &p.section {
                infons["section"] = json!(s);
            }
            json!({"offset": offset, "infons": infons, "text": p.text, "sentences": [],
                   "annotations": [], "relations": []})
        })
        .collect();
    for (i, m) in a.mentions.iter().enumerate() {
        let Some(p) = passages.get_mut(m.passage as usize) else {
            continue;
        };
        let base = offsets[m.passage as usize];
        let mut infons = json!({"type": m.ty, "identifier": identifier(m),
                                "score": m.score, "model": m.model});
        if let Some(c) = &m.concept {
            infons["name"] = json!(c.name);
            infons["normalized"] = json!(normalize_entity(&m.text));
        }
        let ann = json!({
            "id": format!("T{i}"),
            "infons": infons,
            "text": m.text,
            "locations": [{"offset": base + m.start, "length": m.end - m.start}],
        });
        if let Some(list) = p["annotations"].as_array_mut() {
            list.push(ann);
        }
    }
    let mut relations: Vec<Value> = a
        .relations
        .iter()
        .enumerate()
        .map(|(i, r)| {
            json!({
                "id": format!("R{i}"),
                "infons": {"type": r.ty, "score": r.score, "model": r.model},
                "nodes": [{"refid": format!("T{}", r.subject), "role": "subject"},
                          {"refid": format!("T{}", r.object), "role": "object"}],
            })
        })
        .collect();
    // Abbreviations as the BioC abbreviation corpora write them: a LongForm and a ShortForm
    // annotation, and an ABBR relation between them.
    for (i, x) in a.abbreviations.iter().enumerate() {
        let Some(p) = passages.get_mut(x.passage as usize) else {
            continue;
        };
        let base = offsets[x.passage as usize];
        for (role, id, text, start, end) in [
            (
                "LongForm",
                format!("A{i}L"),
                &x.long,
                x.long_start,
                x.long_end,
            ),
            (
                "ShortForm",
                format!("A{i}S"),
                &x.short,
                x.short_start,
                x.short_end,
            ),
        ] {
            let ann = json!({
                "id": id,
                "infons": {"type": role},
                "text": text,
                "locations": [{"offset": base + start, "length": end - start}],
            });
            if let Some(list) = p["annotations"].as_array_mut() {
                list.push(ann);
            }
        }
        relations.push(json!({
            "id": format!("A{i}"),
            "infons": {"type": "ABBR"},
            "nodes": [{"refid": format!("A{i}L"), "role": "LongForm"},
                      {"refid": format!("A{i}S"), "role": "ShortForm"}],
        }));
    }
    let mut infons = json!({});
    for (k, v) in [
        ("pmid", &doc.pmid),
        ("pmcid", &doc.pmcid),
        ("doi", &doc.doi),
    ] {
        if let Some(v) = v {
            infons[k] = json!(v);
        }
    }
    json!({
        "source": "pubmine",
        "date": "",
        "key": "pubmine.key",
        "infons": {},
        "documents": [{
            "id": doc_key(a, doc),
            "infons": infons,
            "passages": passages,
            "relations": relations,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pubmine_stream::record::{ConceptRef, Passage, Relation, SourceKind};

    fn sample() -> Annotations {
        let mut doc = Document::new(SourceKind::Pubmed, "pmid:7".into());
        doc.pmid = Some("7".into());
        doc.passages = vec![
            Passage::new(PassageKind::Title, "Naïve asthma".into()),
            Passage::new(PassageKind::Abstract, "β-agonists and IL13.".into()),
            Passage::new(PassageKind::Abstract, "IL13 in asthma.".into()),
        ];
        let m = |passage, start, end, text: &str, ty: &str| Mention {
            passage,
            start,
            end,
            text: text.into(),
            ty: ty.into(),
            score: 0.5,
            model: "m".into(),
            concept: None,
        };
        Annotations {
            id: "pmid:7".into(),
            mentions: vec![
                m(0, 6, 12, "asthma", "Disease"),
                m(1, 15, 19, "IL13", "Gene"),
                m(2, 8, 14, "asthma", "Disease"),
            ],
            relations: vec![Relation {
                subject: 1,
                object: 2,
                ty: "assoc".into(),
                score: 0.9,
                model: "r".into(),
            }],
            document: Some(Box::new(doc)),
            ..Default::default()
        }
    }

    #[test]
    fn exports_carry_concept_ids_where_mentions_have_them() {
        let mut a = sample();
        let asthma = ConceptRef {
            id: "MESH:D001249".into(),
            name: "Asthma".into(),
            matched: "Asthma".into(),
            via_abbreviation: false,
        };
        a.mentions[0].concept = Some(asthma.clone());
        a.mentions[2].concept = Some(asthma);
        let out = pubtator(&a);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[2], "7\t6\t12\tasthma\tDisease\tMESH:D001249");
        // No concept: the normal form, as before.
        assert_eq!(lines[3], "7\t28\t32\tIL13\tGene\til13");
        assert_eq!(lines[5], "7\tassoc\til13\tMESH:D001249");
        let b = bioc(&a);
        let ann = &b["documents"][0]["passages"][0]["annotations"][0]["infons"];
        assert_eq!(ann["identifier"], "MESH:D001249");
        assert_eq!(ann["name"], "Asthma");
    }

    /// The text of `[start, end)` in characters.
    fn chars(s: &str, start: usize, end: usize) -> String {
        s.chars().skip(start).take(end - start).collect()
    }

    #[test]
    fn pubtator_offsets_index_title_then_abstract() {
        let out = pubtator(&sample());
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "7|t|Naïve asthma");
        assert_eq!(lines[1], "7|a|β-agonists and IL13. IL13 in asthma.");
        let text = format!("{} {}", &lines[0][4..], &lines[1][4..]);
        for line in &lines[2..5] {
            let f: Vec<&str> = line.split('\t').collect();
            let (s, e): (usize, usize) = (f[1].parse().unwrap(), f[2].parse().unwrap());
            assert_eq!(chars(&text, s, e), f[3], "{line}");
        }
        assert_eq!(lines[5], "7\tassoc\til13\tasthma");
        assert!(out.ends_with("\n\n"));
    }

    #[test]
    fn bioc_locations_are_document_offsets() {
        let v = bioc(&sample());
        let d = &v["documents"][0];
        assert_eq!(d["id"], "7");
        let mut text = String::new();
        for p in d["passages"].as_array().unwrap() {
            let offset = p["offset"].as_u64().unwrap() as usize;
            while text.chars().count() < offset {
                text.push(' ');
            }
            text.push_str(p["text"].as_str().unwrap());
        }
        let mut n = 0;
        for p in d["passages"].as_array().unwrap() {
            for a in p["annotations"].as_array().unwrap() {
                let loc = &a["locations"][0];
                let s = loc["offset"].as_u64().unwrap() as usize;
                let l = loc["length"].as_u64().unwrap() as usize;
                assert_eq!(chars(&text, s, s + l), a["text"].as_str().unwrap());
                n += 1;
            }
        }
        assert_eq!(n, 3);
        assert_eq!(d["relations"][0]["nodes"][1]["refid"], "T2");
    }

    #[test]
    fn bioc_carries_abbreviations_as_long_and_short_forms_with_a_relation() {
        let mut a = sample();
        a.abbreviations = vec![pubmine_stream::record::Abbreviation {
            passage: 1,
            short_start: 0,
            short_end: 1,
            short: "β".into(),
            long_start: 0,
            long_end: 10,
            long: "β-agonists".into(),
        }];
        let v = bioc(&a);
        let d = &v["documents"][0];
        let p = &d["passages"][1];
        let base = p["offset"].as_u64().unwrap();
        let forms: Vec<(&str, &str, u64, u64)> = p["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["id"].as_str().unwrap().starts_with('A'))
            .map(|x| {
                (
                    x["infons"]["type"].as_str().unwrap(),
                    x["text"].as_str().unwrap(),
                    x["locations"][0]["offset"].as_u64().unwrap() - base,
                    x["locations"][0]["length"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            forms,
            [("LongForm", "β-agonists", 0, 10), ("ShortForm", "β", 0, 1)]
        );
        let r = d["relations"].as_array().unwrap().last().unwrap();
        assert_eq!(r["infons"]["type"], "ABBR");
        assert_eq!(r["nodes"][0]["refid"], "A0L");
        assert_eq!(r["nodes"][1]["refid"], "A0S");
    }
}
