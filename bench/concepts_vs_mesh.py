#!/usr/bin/env python3
"""How the concepts pubmine gives a PubMed article's mentions compare with the MeSH descriptors
and supplementary records NLM's indexers assigned to it (its MeshHeadingList and ChemicalList):
a document-level check of normalization on real text, with no gold annotation needed.

    bench/concepts_vs_mesh.py ANNOTATIONS.jsonl

ANNOTATIONS.jsonl is `pubmine annotate --input` output (each record carries its document). For
each document with MeSH headings, the distinct MeSH concepts pubmine found are counted, and how
many of them are among the indexers' descriptors and chemicals. Indexers describe an article's
topic, not every entity it names, so this is a lower bound on precision, not precision.
"""
import json
import sys


def main(path):
    docs = found = agreed = 0
    by_rule = {"name": [0, 0], "abbreviation": [0, 0]}
    examples = []
    for line in open(path, encoding="utf-8"):
        a = json.loads(line)
        doc = a.get("document") or {}
        indexed = set()
        for h in doc.get("mesh", []):
            ui = h.get("descriptor", {}).get("ui")
            if ui:
                indexed.add("MESH:" + ui)
        for c in doc.get("chemicals", []):
            if c.get("ui"):
                indexed.add("MESH:" + c["ui"])
        if not indexed:
            continue
        docs += 1
        seen = {}
        for m in a["mentions"]:
            c = m.get("concept")
            if c and c["id"].startswith("MESH:"):
                rule = "abbreviation" if c.get("via_abbreviation") else "name"
                seen.setdefault(c["id"], (rule, m["text"], c["name"]))
        for cid, (rule, text, name) in seen.items():
            found += 1
            by_rule[rule][0] += 1
            if cid in indexed:
                agreed += 1
                by_rule[rule][1] += 1
            elif len(examples) < 12:
                examples.append(f"{a['id']}: {text!r} -> {cid} {name!r} (not indexed)")
    print(f"{docs} documents with MeSH headings; {found} distinct (document, MeSH concept) pairs found, "
          f"{agreed} of them among the indexers' descriptors and chemicals ({agreed / max(found, 1):.1%})")
    for rule, (n, k) in by_rule.items():
        print(f"  through the {rule}: {k} of {n}")
    for e in examples:
        print("  " + e)


if __name__ == "__main__":
    main(sys.argv[1])
