#!/usr/bin/env python3
"""Reference MEDLINE parse throughput with lxml, for comparison with pubmine's Rust parser.

Two modes, each timed over the whole input (best of --repeat runs):

  bare     lxml.etree.iterparse on end events of PubmedArticle / PubmedBookArticle /
           DeleteCitation, clearing each element and its preceding siblings (the usual
           memory-flat idiom) and counting articles. The floor: tokenising plus tree building.
  extract  the same loop, plus what a real parser does per article: PMID, title, abstract
           sections with labels, journal, publication year, authors with affiliations and
           ORCID, MeSH descriptors and qualifiers, chemicals, keywords, publication types,
           language and article ids (doi, pmc, pii) into a dict, serialised with json.dumps
           so that the work is comparable with a parser that writes JSON documents.

Input may be plain XML or gzip (detected by magic bytes, not by name); gunzip time is inside
the timing, as it would be for a parser reading .xml.gz. "bytes" and "mb_per_s" count the
uncompressed XML (MB = 1e6 bytes), measured once before the timed runs. Several paths are
parsed one after the other and reported as one total. Output: one JSON line per mode on stdout.

    python3 bench/lxml_reference.py /tmp/bench.xml
    python3 bench/lxml_reference.py --mode extract --repeat 5 /tmp/bench.xml.gz
    python3 bench/lxml_reference.py --mode extract --show 2 shared/samples/pubmed/*.xml
"""

import argparse
import gzip
import json
import platform
import sys
import time

from lxml import etree

TAGS = ("PubmedArticle", "PubmedBookArticle", "DeleteCitation")


def open_xml(path):
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")
    return open(path, "rb")


def xml_bytes(path):
    """Uncompressed size of the XML."""
    n = 0
    with open_xml(path) as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return n
            n += len(b)


def events(f):
    # No DTD loading, no network, no entity resolution: the same things a streaming
    # Rust parser does. huge_tree lifts libxml2's 10 MB text-node limit (not reached here).
    return etree.iterparse(f, events=("end",), tag=TAGS, load_dtd=False, no_network=True,
                           resolve_entities=False, huge_tree=True)


def release(el):
    el.clear(keep_tail=True)
    parent = el.getparent()
    while el.getprevious() is not None:
        del parent[0]


# -- extraction -------------------------------------------------------------------------------


def text_of(el):
    """All text under el, inline markup (<i>, <sup>, <sub>, MathML) flattened."""
    if el is None:
        return None
    return "".join(el.itertext()).strip()


def year_of(pubdate):
    if pubdate is None:
        return None
    y = pubdate.findtext("Year")
    if y:
        return int(y) if y.isdigit() else y
    md = pubdate.findtext("MedlineDate")  # "1998 Dec-1999 Jan", "2017 Winter"
    if md and md[:4].isdigit():
        return int(md[:4])
    return None


def authors_of(author_list):
    out = []
    if author_list is None:
        return out
    for a in author_list.iterfind("Author"):
        d = {}
        coll = a.find("CollectiveName")
        if coll is not None:
            d["collective"] = text_of(coll)
        else:
            d["last"] = a.findtext("LastName")
            d["fore"] = a.findtext("ForeName")
            d["initials"] = a.findtext("Initials")
        for ident in a.iterfind("Identifier"):
            if ident.get("Source") == "ORCID":
                d["orcid"] = ident.text
        affs = [text_of(x) for x in a.iterfind("AffiliationInfo/Affiliation")]
        if affs:
            d["affiliations"] = affs
        out.append(d)
    return out


def abstract_of(abstract):
    if abstract is None:
        return []
    return [{"label": t.get("Label"), "category": t.get("NlmCategory"), "text": text_of(t)}
            for t in abstract.iterfind("AbstractText")]


def ids_of(id_list, into):
    if id_list is None:
        return
    for aid in id_list.iterfind("ArticleId"):
        kind = aid.get("IdType")
        if kind and aid.text and kind not in into:
            into[kind] = aid.text.strip()


def extract_article(el):
    mc = el.find("MedlineCitation")
    art = mc.find("Article")
    journal = art.find("Journal")
    pmid = mc.find("PMID")
    ids = {}
    ids_of(el.find("PubmedData/ArticleIdList"), ids)
    for eloc in art.iterfind("ELocationID"):
        if eloc.get("EIdType") == "doi" and "doi" not in ids:
            ids["doi"] = eloc.text
    mesh = []
    for mh in mc.iterfind("MeshHeadingList/MeshHeading"):
        desc = mh.find("DescriptorName")
        mesh.append({
            "descriptor": desc.text, "ui": desc.get("UI"), "major": desc.get("MajorTopicYN") == "Y",
            "qualifiers": [q.text for q in mh.iterfind("QualifierName")],
        })
    return {
        "id": "pmid:" + pmid.text,
        "pmid": pmid.text,
        "version": pmid.get("Version"),
        "title": text_of(art.find("ArticleTitle")),
        "abstract": abstract_of(art.find("Abstract")),
        "journal": journal.findtext("Title") if journal is not None else None,
        "journal_abbrev": journal.findtext("ISOAbbreviation") if journal is not None else None,
        "year": year_of(journal.find("JournalIssue/PubDate")) if journal is not None else None,
        "authors": authors_of(art.find("AuthorList")),
        "language": [x.text for x in art.iterfind("Language")],
        "publication_types": [x.text for x in art.iterfind("PublicationTypeList/PublicationType")],
        "mesh": mesh,
        "chemicals": [x.text for x in mc.iterfind("ChemicalList/Chemical/NameOfSubstance")],
        "keywords": [text_of(k) for k in mc.iterfind("KeywordList/Keyword")],
        "ids": ids,
    }


def extract_book(el):
    bd = el.find("BookDocument")
    book = bd.find("Book")
    pmid = bd.find("PMID")
    ids = {}
    ids_of(bd.find("ArticleIdList"), ids)
    ids_of(el.find("PubmedBookData/ArticleIdList"), ids)
    title = bd.find("ArticleTitle")
    if title is None and book is not None:
        title = book.find("BookTitle")
    authors = []
    for al in bd.iterfind("AuthorList"):
        authors.extend(authors_of(al))
    editors = []
    if book is not None:
        for al in book.iterfind("AuthorList"):
            if al.get("Type") == "editors":
                editors.extend(authors_of(al))
    return {
        "id": "pmid:" + pmid.text,
        "pmid": pmid.text,
        "version": pmid.get("Version"),
        "title": text_of(title),
        "abstract": abstract_of(bd.find("Abstract")),
        "journal": text_of(book.find("BookTitle")) if book is not None else None,
        "year": year_of(book.find("PubDate")) if book is not None else None,
        "authors": authors,
        "editors": editors,
        "language": [x.text for x in bd.iterfind("Language")],
        "publication_types": [x.text for x in bd.iterfind("PublicationType")],
        "mesh": [],
        "chemicals": [],
        "keywords": [text_of(k) for k in bd.iterfind("KeywordList/Keyword")],
        "ids": ids,
    }


# -- the two timed loops ----------------------------------------------------------------------


def run_bare(paths):
    articles = deleted = 0
    for path in paths:
        with open_xml(path) as f:
            for _, el in events(f):
                if el.tag == "DeleteCitation":
                    deleted += len(el)
                else:
                    articles += 1
                release(el)
    return articles, deleted, 0


def run_extract(paths, show=0, out=sys.stderr):
    articles = deleted = out_bytes = 0
    dumps = json.dumps
    for path in paths:
        with open_xml(path) as f:
            for _, el in events(f):
                tag = el.tag
                if tag == "PubmedArticle":
                    doc = extract_article(el)
                elif tag == "PubmedBookArticle":
                    doc = extract_book(el)
                else:
                    pmids = [p.text for p in el.iterfind("PMID")]
                    deleted += len(pmids)
                    out_bytes += len(dumps({"deleted": pmids}))
                    release(el)
                    continue
                s = dumps(doc, ensure_ascii=False)
                out_bytes += len(s)
                articles += 1
                if show:
                    show -= 1
                    print(json.dumps(doc, ensure_ascii=False, indent=1), file=out)
                release(el)
    return articles, deleted, out_bytes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", help="MEDLINE XML files (.xml or .xml.gz)")
    ap.add_argument("--mode", choices=("bare", "extract", "both"), default="both")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per mode; the best is reported (default 3)")
    ap.add_argument("--show", type=int, default=0, metavar="N",
                    help="print the first N extracted documents to stderr (extract mode, first run only)")
    args = ap.parse_args()

    nbytes = sum(xml_bytes(p) for p in args.paths)
    modes = ("bare", "extract") if args.mode == "both" else (args.mode,)
    for mode in modes:
        best = None
        for i in range(max(1, args.repeat)):
            t0 = time.perf_counter()
            if mode == "bare":
                res = run_bare(args.paths)
            else:
                res = run_extract(args.paths, show=args.show if i == 0 else 0)
            dt = time.perf_counter() - t0
            if best is None or dt < best[0]:
                best = (dt, res)
        dt, (articles, deleted, out_bytes) = best
        rec = {
            "mode": mode,
            "articles": articles,
            "bytes": nbytes,
            "seconds": round(dt, 4),
            "articles_per_s": round(articles / dt, 1),
            "mb_per_s": round(nbytes / 1e6 / dt, 2),
            "deleted": deleted,
            "parser": "lxml %s (libxml2 %s), Python %s" % (
                etree.__version__, ".".join(map(str, etree.LIBXML_VERSION)), platform.python_version()),
            "repeat": max(1, args.repeat),
        }
        if mode == "extract":
            rec["json_bytes"] = out_bytes
        print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
