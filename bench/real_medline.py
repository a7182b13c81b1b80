#!/usr/bin/env python3
"""A MEDLINE file of real records: the PubmedArticle and PubmedBookArticle records of
../shared/samples/pubmed/ (verbatim NLM records, see its SOURCES.md), repeated in turn until
--articles records, each copy's PMID made unique, in one PubmedArticleSet. Real records carry
what generated ones only imitate: MathML and inline markup in abstracts, long reference lists,
book articles, every optional element of the DTD.

Standard library only and deterministic (with --gzip the header's mtime is 0).

    python3 bench/real_medline.py --articles 30000 /tmp/real.xml
    python3 bench/real_medline.py --articles 30000 --gzip /tmp/real.xml.gz
"""

import argparse
import glob
import gzip
import os
import re
import sys

RECORD = re.compile(
    rb"<(PubmedArticle|PubmedBookArticle)>.*?</\1>", re.DOTALL
)
PMID = re.compile(rb'(<PMID Version="\d+">)(\d+)(</PMID>)')


def records(samples):
    out = []
    for path in sorted(glob.glob(os.path.join(samples, "*.xml"))):
        with open(path, "rb") as f:
            out.extend(m.group(0) for m in RECORD.finditer(f.read()))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--articles", type=int, default=30000)
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument(
        "--samples",
        default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "samples", "pubmed"),
    )
    args = ap.parse_args()
    recs = records(args.samples)
    if not recs:
        sys.exit(f"no records in {args.samples}")
    opener = (lambda p: gzip.GzipFile(p, "wb", mtime=0)) if args.gzip else (lambda p: open(p, "wb"))
    with opener(args.out) as f:
        f.write(b'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n<PubmedArticleSet>\n')
        for n in range(args.articles):
            rec = recs[n % len(recs)]
            # The record's own PMID (the first) made unique; cited PMIDs stay as they are.
            rec = PMID.sub(lambda m: m.group(1) + str(50_000_000 + n).encode() + m.group(3), rec, count=1)
            f.write(b"  " + rec + b"\n")
        f.write(b"</PubmedArticleSet>\n")
    print(f"{args.out}: {args.articles} articles from {len(recs)} real records", file=sys.stderr)


if __name__ == "__main__":
    main()
