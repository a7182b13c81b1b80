#!/usr/bin/env python3
"""Make the small demo/test models that pubmine's tests and demo use (deterministic, CPU only).

    python models/make_test_models.py            # from the repository root, in the models venv
                                                  # (see models/README.md); about 2.5 minutes on one core

Writes, next to this script:
    demo-ner/                 tiny BertForTokenClassification, labels O, B-/I-Chemical, B-/I-Disease, B-/I-Gene
    demo-ner-gene/            the same tokenizer, a second tiny model with O, B-Gene, I-Gene only
                              (several models sharing one tokenizer, as BioBERT has one model per type)
    demo-re-gene-disease/     tiny BertForSequenceClassification, GAD-style gene-disease relation:
                              labels "0" (no relation) and "1" (association); input: the sentence with
                              the two candidate mentions replaced by @GENE$ and @DISEASE$; re.json:
                              pubmine's settings for it (entity type pairs, negative label, ...)
    demo-ner-int8/            demo-ner with its MatMul weights quantized to int8 (export.py --from-onnx --int8)
    demo-ner-fp16/            demo-ner in float16, logits output float16 too (export.py --from-onnx --fp16 --fp16-logits)
    fixtures/ner.conll        held-out generated sentences, token<TAB>tag (BioBERT NER file format)
    fixtures/ner_unseen.conll held-out passages whose names were never seen in training (same format)
    fixtures/re.tsv           held-out tagged sentences, sentence<TAB>label (BioBERT RE train.tsv format)
    fixtures/re_test.tsv      the same with an index<TAB>sentence<TAB>label header (BioBERT test.tsv format)

`--derived-only` rewrites only fixtures/ and the two conversions, from the committed demo-ner.

Each model directory holds model.onnx (inputs input_ids, attention_mask, token_type_ids: int64
[batch, sequence]; output logits), config.json, tokenizer.json, vocab.txt, tokenizer_config.json,
special_tokens_map.json, README.md and golden.json: what the Hugging Face pipeline returns on the
PyTorch model for a set of fixture texts (token-classification with aggregation_strategy="first",
or text-classification with top_k=None), for the parity tests of the Rust side.

These are demo models trained for a few minutes on sentences generated (by demo_data.py) from templates
over lists of disease, chemical and gene names (those of samples/make_samples.py, so that the demo
finds the mentions in the bundled sample abstracts, and more). They are NOT BioBERT and know nothing
of real biomedical text beyond these templates.

Determinism: fixed seeds, one CPU thread, deterministic algorithms, sorted iteration. On the same
machine and package versions (models/requirements.txt) two runs give the same files; on another CPU
the float arithmetic may differ in the last bits, so regenerate the golden files together with the
models (this script always does).
"""
import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import time

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from tokenizers import normalizers, pre_tokenizers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SEED = 20251124
ARCH = {"hidden": 64, "layers": 2, "heads": 2, "intermediate": 256, "dropout": 0.0}

from demo_data import (  # noqa: E402
    GENE_LABELS, NER_FIXTURES, NER_LABELS, RE_FIXTURES, RE_LABELS, SPECIALS, TAGS, TYPES, NAMES, Gen, cap,
    ner_dataset, re_dataset, sample_texts, silver_spans,
)

# ---------------------------------------------------------------- tokenizer


def build_vocab(corpus, vocab_size):
    """A cased WordPiece vocabulary, made deterministically (the tokenizers library's WordPiece trainer
    breaks ties between equally frequent merges differently from run to run): the special tokens,
    every character seen (alone and as a "##" continuation), the words seen at least twice, and the
    most frequent word beginnings and endings ("##" pieces) of 2 to 5 characters up to vocab_size;
    ties are broken by the string. Words outside it split into the longest known pieces, at worst characters."""
    import collections

    norm = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False,
                                      lowercase=False)
    pre = pre_tokenizers.BertPreTokenizer()
    words = collections.Counter()
    for text in corpus:
        words.update(w for w, _ in pre.pre_tokenize_str(norm.normalize_str(text)))
    chars = sorted({c for w in words for c in w})
    vocab = list(SPECIALS) + chars + ["##" + c for c in chars]
    seen = set(vocab)
    frequent = sorted((w for w, n in words.items() if n >= 2 and len(w) > 1), key=lambda w: (-words[w], w))
    for w in frequent:
        if len(vocab) >= vocab_size * 3 // 4:
            break
        if w not in seen:
            vocab.append(w)
            seen.add(w)
    endings = collections.Counter()  # word beginnings too
    for w, n in words.items():
        for k in range(2, 6):
            if len(w) > k:
                endings["##" + w[-k:]] += n
                endings[w[:k]] += n
    for piece in sorted(endings, key=lambda p: (-endings[p], p)):
        if len(vocab) >= vocab_size:
            break
        if piece not in seen:
            vocab.append(piece)
            seen.add(piece)
    return {t: i for i, t in enumerate(vocab)}


def build_tokenizer(corpus, vocab_size):
    """Cased BERT WordPiece over the generated corpus; the RE tags are single added tokens."""
    from transformers import BertTokenizer

    vocab = build_vocab(corpus, vocab_size)
    n = len(vocab)
    for i, t in enumerate(TAGS):
        vocab[t] = n + i
    hf = BertTokenizer(vocab=dict(sorted(vocab.items(), key=lambda kv: kv[1])), do_lower_case=False,
                       strip_accents=False, tokenize_chinese_chars=True, model_max_length=512)
    # the tags are in the WordPiece vocabulary and also added tokens, so that the pre-tokenizer
    # does not split "@GENE$" into "@", "GENE", "$"
    hf.add_tokens(TAGS)
    for t in TAGS:
        assert hf.convert_tokens_to_ids(t) == vocab[t], t
    return hf


def save_tokenizer(hf, out):
    hf.save_pretrained(out)
    # vocab.txt in id order, for BERT WordPiece readers that do not take tokenizer.json
    vocab = hf.get_vocab()
    inv = sorted(vocab.items(), key=lambda kv: kv[1])
    assert [i for _, i in inv] == list(range(len(inv))), "vocabulary ids are not contiguous"
    with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t, _ in inv))
    stm = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
           "mask_token": "[MASK]"}
    with open(os.path.join(out, "special_tokens_map.json"), "w", encoding="utf-8") as f:
        json.dump(stm, f, indent=2)
        f.write("\n")
    # tokenizer_config.json: keep it readable and stable
    path = os.path.join(out, "tokenizer_config.json")
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    cfg["model_max_length"] = 512
    with open(path, "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")


# ---------------------------------------------------------------- encoding


def encode_ner(tok, passages, label_names, max_len=512):
    """input_ids and labels: each word (BERT pre-token) labelled on its first sub-token, -100 on
    the rest and on [CLS]/[SEP] (label_all_tokens=False, as Hugging Face's run_ner)."""
    lab = {n: i for i, n in enumerate(label_names)}
    out = []
    for text, spans in passages:
        enc = tok(text, return_offsets_mapping=True, truncation=True, max_length=max_len)
        words = enc.word_ids()
        offs = enc["offset_mapping"]
        labels = []
        prev_word = None
        for wi, (a, b) in zip(words, offs):
            if wi is None:
                labels.append(-100)
            elif wi == prev_word:
                labels.append(-100)
            else:
                labels.append(lab[word_tag(a, b, spans, label_names)])
            prev_word = wi if wi is not None else prev_word
        out.append((enc["input_ids"], labels))
    return out


def word_tag(a, b, spans, label_names):
    for s, e, typ in spans:
        if a >= s and b <= e:
            tag = ("B-" if a == s else "I-") + typ
            return tag if tag in label_names else "O"
        assert not (a < e and b > s), "entity does not align with word boundaries"
    return "O"


def batches(items, batch_size, seed, by_length=True):
    """Deterministic length-bucketed batches, shuffled."""
    r = random.Random(seed)
    idx = list(range(len(items)))
    r.shuffle(idx)
    if by_length:
        # sort within chunks of 50 batches by length, to limit padding
        chunk = batch_size * 50
        idx = [i for c in range(0, len(idx), chunk)
               for i in sorted(idx[c:c + chunk], key=lambda i: len(items[i][0]))]
    bs = [idx[i:i + batch_size] for i in range(0, len(idx), batch_size)]
    r.shuffle(bs)
    return bs


def collate(items, pad_id, label_pad=-100, seq_labels=False):
    L = max(len(x[0]) for x in items)
    ids = torch.full((len(items), L), pad_id, dtype=torch.long)
    mask = torch.zeros((len(items), L), dtype=torch.long)
    labels = torch.tensor([x[1] for x in items]) if seq_labels else torch.full((len(items), L), label_pad)
    for i, (a, b) in enumerate(items):
        ids[i, :len(a)] = torch.tensor(a)
        mask[i, :len(a)] = 1
        if not seq_labels:
            labels[i, :len(b)] = torch.tensor(b)
    return ids, mask, torch.zeros_like(ids), labels


# ---------------------------------------------------------------- models


def bert_config(vocab_size, labels, problem=None):
    from transformers import BertConfig
    return BertConfig(
        vocab_size=vocab_size, hidden_size=ARCH["hidden"], num_hidden_layers=ARCH["layers"],
        num_attention_heads=ARCH["heads"], intermediate_size=ARCH["intermediate"], max_position_embeddings=512, type_vocab_size=2, pad_token_id=0,
        hidden_dropout_prob=ARCH["dropout"], attention_probs_dropout_prob=ARCH["dropout"],
        id2label={i: n for i, n in enumerate(labels)}, label2id={n: i for i, n in enumerate(labels)},
        problem_type=problem, attn_implementation="eager",
    )


def init_positions(model, scale=0.5):
    """Sinusoidal start values for the learned position embeddings. From random ones, a tiny model
    trained for minutes barely learns to look at its neighbours (whether "-" continues "IL-6" or
    "non-small cell lung cancer" depends on them); sinusoids give it relative positions at once
    (held-out F1 0.90 -> 0.99 here, with dropout off: dropout 0.1 cost 3-5 points of F1)."""
    emb = model.bert.embeddings.position_embeddings.weight
    n, d = emb.shape
    pos = torch.arange(n, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-np.log(10000.0) / d))
    table = torch.zeros(n, d)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq)
    with torch.no_grad():
        emb.copy_(table * scale)


def train(model, data, pad_id, steps_per_epoch_cap, epochs, lr, batch_size, seed, seq_labels=False, log=""):
    torch.manual_seed(seed)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    plan = []
    for ep in range(epochs):
        bs = batches(data, batch_size, seed + ep)
        plan += bs[:steps_per_epoch_cap]
    total = len(plan)
    warm = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    t0 = time.time()
    for step, b in enumerate(plan):
        ids, mask, tt, labels = collate([data[i] for i in b], pad_id, seq_labels=seq_labels)
        out = model(input_ids=ids, attention_mask=mask, token_type_ids=tt, labels=labels)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        if step % 200 == 0 or step == total - 1:
            print("  {} step {}/{} loss {:.4f} ({:.0f}s)".format(log, step, total, out.loss.item(), time.time() - t0),
                  flush=True)
    model.eval()
    return time.time() - t0


@torch.no_grad()
def ner_predict_words(model, tok, text, label_names):
    """Word-level BIO decoding (first sub-token), as spans [(start, end, type)]."""
    enc = tok(text, return_offsets_mapping=True, truncation=True, max_length=512, return_tensors="pt")
    offs = enc.pop("offset_mapping")[0].tolist()
    words = enc.word_ids()
    logits = model(**enc).logits[0]
    pred = logits.argmax(-1).tolist()
    spans, cur, prev = [], None, None
    for ti, wi in enumerate(words):
        if wi is None or wi == prev:
            if wi is not None and cur is not None:
                cur[1] = offs[ti][1]
            continue
        prev = wi
        tag = label_names[pred[ti]]
        a, b = offs[ti]
        if tag == "O":
            if cur:
                spans.append(tuple(cur))
            cur = None
        elif tag.startswith("B-") or cur is None or cur[2] != tag[2:]:
            if cur:
                spans.append(tuple(cur))
            cur = [a, b, tag[2:]]
        else:
            cur[1] = b
    if cur:
        spans.append(tuple(cur))
    return spans


def prf(gold, pred):
    g, p = set(gold), set(pred)
    tp = len(g & p)
    prec = tp / len(p) if p else 1.0
    rec = tp / len(g) if g else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return prec, rec, f1, tp, len(g), len(p)


def eval_ner(model, tok, passages, label_names):
    types = {n[2:] for n in label_names if n != "O"}
    gold, pred = [], []
    for k, (text, spans) in enumerate(passages):
        gold += [(k,) + s for s in spans if s[2] in types]
        pred += [(k,) + s for s in ner_predict_words(model, tok, text, label_names)]
    return prf(gold, pred)


@torch.no_grad()
def eval_re(model, tok, data):
    correct = 0
    for i in range(0, len(data), 64):
        chunk = data[i:i + 64]
        enc = tok([t for t, _ in chunk], padding=True, return_tensors="pt")
        pred = model(**enc).logits.argmax(-1).tolist()
        correct += sum(int(p == l) for p, (_, l) in zip(pred, chunk))
    return correct / len(data)


# ---------------------------------------------------------------- export and golden


def export_onnx(model, path, opset=17):
    model.eval()
    ids = torch.tensor([[2, 10, 11, 12, 3], [2, 13, 3, 0, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    tt = torch.zeros_like(ids)
    axes = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
            "token_type_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}}
    if model.config.architectures and "SequenceClassification" in model.config.architectures[0]:
        axes["logits"] = {0: "batch"}

    class Wrap(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits

    # the exporter restores the wrapper's training flag recursively afterwards: keep it in eval mode
    wrap = Wrap(model).eval()
    torch.onnx.export(wrap, (ids, mask, tt), path, input_names=["input_ids", "attention_mask", "token_type_ids"],
                      output_names=["logits"], dynamic_axes=axes, opset_version=opset, dynamo=False,
                      do_constant_folding=True)
    model.eval()


def onnx_parity(model, tok, path, texts):
    """Max abs difference of the logits, PyTorch vs onnxruntime, on a padded batch of texts."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    enc = tok(texts, padding=True, truncation=True, max_length=512, return_tensors="pt")
    with torch.no_grad():
        ref = model(**enc).logits.numpy()
    feeds = {k: enc[k].numpy().astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
    got = sess.run(["logits"], feeds)[0]
    if ref.ndim == 3:  # compare real tokens only
        m = enc["attention_mask"].numpy().astype(bool)
        return float(np.abs(ref[m] - got[m]).max())
    return float(np.abs(ref - got).max())


def golden_ner(model, tok, texts, name):
    from transformers import pipeline
    nlp = pipeline("token-classification", model=model, tokenizer=tok, aggregation_strategy="first", device="cpu")
    cases = []
    for text in texts:
        ents = nlp(text)
        cases.append({
            "text": text,
            "input_ids": tok(text)["input_ids"],
            "entities": [{"entity_group": e["entity_group"], "score": float(e["score"]), "word": e["word"],
                          "start": int(e["start"]), "end": int(e["end"]),
                          "text": text[int(e["start"]):int(e["end"])]} for e in ents],
        })
    return {"model": name, "pipeline": "token-classification", "aggregation_strategy": "first",
            "note": "outputs of the Hugging Face pipeline on the PyTorch model; start/end are code-point offsets "
                    "into text (Python str indices); text = text[start:end]; word is the pipeline's "
                    "convert_tokens_to_string of the word pieces (may differ from text, e.g. 'IL - 6')",
            "cases": cases}


def golden_re(model, tok, texts, name):
    from transformers import pipeline
    nlp = pipeline("text-classification", model=model, tokenizer=tok, top_k=None, device="cpu")
    cases = []
    for text in texts:
        out = nlp(text)
        if out and isinstance(out[0], list):
            out = out[0]
        cases.append({"text": text, "input_ids": tok(text)["input_ids"],
                      "labels": [{"label": o["label"], "score": float(o["score"])} for o in out]})
    return {"model": name, "pipeline": "text-classification", "top_k": None,
            "note": "outputs of the Hugging Face pipeline (softmax over the logits, sorted by score) on the PyTorch model",
            "cases": cases}


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")


def save_torch(model, tok, where, name):
    if where:
        model.save_pretrained(os.path.join(where, name))
        tok.save_pretrained(os.path.join(where, name))


def save_model_dir(model, tokdir, out, readme):
    """model.onnx + config.json + tokenizer files + README.md (no PyTorch weights)."""
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        with open(os.path.join(tmp, "config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
    cfg.pop("transformers_version", None)
    cfg.pop("dtype", None)
    cfg.pop("torch_dtype", None)
    cfg["id2label"] = {str(k): v for k, v in sorted(model.config.id2label.items())}
    write_json(os.path.join(out, "config.json"), cfg)
    for fn in sorted(os.listdir(tokdir)):
        shutil.copy(os.path.join(tokdir, fn), os.path.join(out, fn))
    export_onnx(model, os.path.join(out, "model.onnx"))
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as f:
        f.write(readme)


# pubmine's settings of the RE model (re.json): GAD-style, undirected gene-disease pairs; label "0"
# means no relation, "1" is emitted as "association".
RE_SETTINGS = {"pairs": [["Gene", "Disease"]], "directed": False, "negative": "0",
               "labels": {"1": "association"}, "threshold": 0.5, "max_len": 128}


# ---------------------------------------------------------------- README texts

NER_README = """# {name}: a tiny demo NER model (not BioBERT)

A {layers}-layer BERT (hidden size {hidden}, {heads} attention heads, {params:,} parameters) for token
classification, trained from scratch for a few minutes on CPU by `models/make_test_models.py` on
sentences that the script generates from templates over lists of disease, chemical and gene names
(those of `samples/make_samples.py` and some more). It exists so that pubmine's tests and demo have a
real model to run: it finds the obvious mentions in the bundled sample abstracts, and knows nothing of
real biomedical text. It is **not BioBERT**; use a real checkpoint (see `models/export.py`) for real work.

- labels (BIO, `config.json` `id2label`): {labels}
- tokenizer: cased BERT WordPiece, {vocab} tokens, made from the generated sentences
  (`tokenizer.json`; `vocab.txt` holds the same vocabulary in id order){shared}
- input: `input_ids`, `attention_mask`, `token_type_ids` (int64, [batch, sequence], at most 512
  tokens with [CLS] and [SEP]); output: `logits` (float32, [batch, sequence, {nlabels}])
- training labels: the first sub-token of each word (BERT pre-token) carries the word's tag, later
  sub-tokens are ignored (-100), as Hugging Face's `run_ner.py` with `label_all_tokens=False`
- held-out generated text: entity-level precision {p:.3f}, recall {r:.3f}, F1 {f1:.3f};
  names never seen in training: F1 {uf1:.3f}; the 40 sample abstracts (titles and abstracts of
  `samples/pubmed/demo_baseline.xml.gz`, mentions found by string match): F1 {sf1:.3f}
- ONNX Runtime vs PyTorch logits: max abs difference {diff:.2e}
- `golden.json`: what `pipeline("token-classification", aggregation_strategy="first")` returns
  on the PyTorch model for a set of fixture texts, for the parity tests

Regenerate (all demo models together, deterministic): `python models/make_test_models.py` in the
models venv (see `models/README.md`).
"""

RE_README = """# {name}: a tiny demo relation-extraction model (not BioBERT)

A {layers}-layer BERT (hidden size {hidden}, {heads} attention heads, {params:,} parameters) for
sequence classification, trained from scratch for a few minutes on CPU by
`models/make_test_models.py` on generated sentences, in the style of the GAD gene-disease data set as
BioBERT uses it: the two candidate mentions are replaced by `@GENE$` and `@DISEASE$`, and the
label is binary. It is **not BioBERT**, and knows only the script's templates (it mostly learns
that "no association", "did not differ", "not associated" and the like mean no relation).

- labels (`config.json` `id2label`): `"0"` = no relation, `"1"` = association
- input: the sentence with the gene mention replaced by `@GENE$` and the disease mention by
  `@DISEASE$` (both are single tokens of the tokenizer); `input_ids`, `attention_mask`,
  `token_type_ids` (int64, [batch, sequence]); output: `logits` (float32, [batch, 2])
- tokenizer: the same as `demo-ner` ({vocab} tokens)
- held-out generated sentences: accuracy {acc:.3f}
- ONNX Runtime vs PyTorch logits: max abs difference {diff:.2e}
- `golden.json`: what `pipeline("text-classification", top_k=None)` returns on the PyTorch
  model for a set of tagged sentences

Regenerate (all demo models together, deterministic): `python models/make_test_models.py` in the
models venv (see `models/README.md`).
"""


def write_conll(path, passages):
    """token<TAB>tag lines, a blank line after each passage (words as BERT pre-tokenizes them)."""
    pre = pre_tokenizers.BertPreTokenizer()
    lines = []
    for text, spans in passages:
        for w, (a, b) in pre.pre_tokenize_str(text):
            lines.append("{}\t{}\n".format(w, word_tag(a, b, spans, NER_LABELS)))
        lines.append("\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(lines))


def write_fixtures(out, re_held, ner_unseen):
    """The evaluation files, in the BioBERT data set formats."""
    fx = os.path.join(out, "fixtures")
    os.makedirs(fx, exist_ok=True)
    g = Gen("ner-conll-{}".format(SEED))
    write_conll(os.path.join(fx, "ner.conll"), [g.passage(1) for _ in range(40)])
    # the passages with names never seen in training: where the demo models are unsure, so that a
    # change of precision (int8, fp16) shows in the F1
    write_conll(os.path.join(fx, "ner_unseen.conll"), ner_unseen)
    with open(os.path.join(fx, "re.tsv"), "w", encoding="utf-8") as f:
        f.write("".join("{}\t{}\n".format(t, l) for t, l in re_held[:40]))
    with open(os.path.join(fx, "re_test.tsv"), "w", encoding="utf-8") as f:
        f.write("index\tsentence\tlabel\n")
        f.write("".join("{}\t{}\t{}\n".format(i, t, l) for i, (t, l) in enumerate(re_held[40:80])))


CONVERTED = (("demo-ner-int8", dict(int8=True)), ("demo-ner-fp16", dict(fp16=True, fp16_logits=True)))


def write_converted(out):
    """demo-ner converted by export.py --from-onnx: int8 (dynamic quantization, for CPU) and fp16
    with float16 logits, for the tests of those paths."""
    import export

    src = os.path.join(out, "demo-ner")
    for name, kw in CONVERTED:
        dst = os.path.join(out, name)
        diff, agree, n = export.convert_dir(src, dst, **kw)
        print("{}: vs demo-ner max abs logit diff {:.3e}, argmax agreement {:.1%} on {} tokens".format(
            name, diff, agree, n), flush=True)


# ---------------------------------------------------------------- main


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=HERE, help="where to write (default: models/)")
    ap.add_argument("--quick", action="store_true", help="few steps, for testing this script only")
    ap.add_argument("--save-torch", metavar="DIR",
                    help="also save the PyTorch checkpoints (save_pretrained) under DIR, e.g. to try models/export.py")
    ap.add_argument("--derived-only", action="store_true",
                    help="write only fixtures/ and the int8/fp16 conversions of the existing demo-ner (no training)")
    args = ap.parse_args()
    if args.derived_only:
        write_fixtures(args.out, re_dataset("re-held-{}".format(SEED), 400),
                       ner_dataset("ner-unseen-{}".format(SEED), 300, unseen=True))
        write_converted(args.out)
        return 0

    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    from transformers import BertForSequenceClassification, BertForTokenClassification
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error()

    scale = 0.1 if args.quick else 1.0
    t_start = time.time()

    # ---- data
    ner_train = ner_dataset("ner-train-{}".format(SEED), int(6000 * scale))
    ner_held = ner_dataset("ner-held-{}".format(SEED), 400)
    ner_unseen = ner_dataset("ner-unseen-{}".format(SEED), 300, unseen=True)
    re_train = re_dataset("re-train-{}".format(SEED), int(5000 * scale))
    re_held = re_dataset("re-held-{}".format(SEED), 400)
    samples = sample_texts()

    corpus = [t for t, _ in ner_train]
    g = Gen("vocab-{}".format(SEED))
    corpus += [g.re_untagged() for _ in range(2000)]
    corpus += [t for pair in samples for t in pair]
    # every name at least a few times, capitalised too, so that each is in the vocabulary's reach
    for typ in TYPES:
        for n in NAMES[typ][0] + NAMES[typ][1]:
            corpus += [n, cap(n)] * 2
    tok = build_tokenizer(corpus, vocab_size=3000)
    V = len(tok)
    # the tokenizer files, saved before any call can leave truncation or padding set in them
    tokdir = tempfile.mkdtemp(prefix="pubmine-tok-")
    save_tokenizer(tok, tokdir)
    print("vocabulary: {} tokens".format(V), flush=True)

    # ---- NER models
    results = {}
    diffs = {}
    held_texts = [t for t, _ in ner_held[:16]]
    sample_passages = [(t, silver_spans(t)) for pair in samples for t in pair]

    fixtures_ner = list(NER_FIXTURES)
    for title, abstract in samples[:3]:
        fixtures_ner.append(title)
        fixtures_ner.append(abstract)

    for name, labels in (("demo-ner", NER_LABELS), ("demo-ner-gene", GENE_LABELS)):
        torch.manual_seed(SEED)
        model = BertForTokenClassification(bert_config(V, labels))
        model.config.architectures = ["BertForTokenClassification"]
        init_positions(model)
        data = encode_ner(tok, ner_train, labels)
        secs = train(model, data, tok.pad_token_id, steps_per_epoch_cap=10 ** 9, epochs=4 if not args.quick else 1,
                     lr=2e-3, batch_size=16, seed=SEED, log=name)
        p, r, f1, *_ = eval_ner(model, tok, ner_held, labels)
        _, _, uf1, *_ = eval_ner(model, tok, ner_unseen, labels)
        _, _, sf1, *_ = eval_ner(model, tok, sample_passages, labels)
        print("{}: trained {:.0f}s; held-out P {:.4f} R {:.4f} F1 {:.4f}; unseen names F1 {:.4f}; "
              "samples F1 {:.4f}".format(name, secs, p, r, f1, uf1, sf1), flush=True)
        out = os.path.join(args.out, name)
        nparams = sum(x.numel() for x in model.parameters())
        save_model_dir(model, tokdir, out, "")
        save_torch(model, tok, args.save_torch, name)
        diff = onnx_parity(model, tok, os.path.join(out, "model.onnx"), fixtures_ner + held_texts)
        diffs[name] = diff
        results[name] = dict(p=p, r=r, f1=f1, uf1=uf1, sf1=sf1, secs=secs)
        print("{}: onnx vs torch max abs diff {:.3e}".format(name, diff), flush=True)
        shared = "" if name == "demo-ner" else "; the same tokenizer files as `demo-ner`"
        with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as f:
            f.write(NER_README.format(name=name, layers=ARCH["layers"], hidden=ARCH["hidden"], heads=ARCH["heads"], params=nparams,
                                      labels=", ".join("`{}`".format(x) for x in labels), vocab=V, shared=shared,
                                      nlabels=len(labels), p=p, r=r, f1=f1, uf1=uf1, sf1=sf1, diff=diff))
        write_json(os.path.join(out, "golden.json"), golden_ner(model, tok, fixtures_ner, name))

    # ---- RE model
    name = "demo-re-gene-disease"
    torch.manual_seed(SEED)
    model = BertForSequenceClassification(bert_config(V, RE_LABELS, "single_label_classification"))
    model.config.architectures = ["BertForSequenceClassification"]
    init_positions(model)
    data = [(tok(t)["input_ids"], l) for t, l in re_train]
    secs = train(model, data, tok.pad_token_id, steps_per_epoch_cap=10 ** 9, epochs=4 if not args.quick else 1,
                 lr=2e-3, batch_size=32, seed=SEED, seq_labels=True, log=name)
    acc = eval_re(model, tok, re_held)
    print("{}: trained {:.0f}s; held-out accuracy {:.4f}".format(name, secs, acc), flush=True)
    out = os.path.join(args.out, name)
    nparams = sum(x.numel() for x in model.parameters())
    save_model_dir(model, tokdir, out, "")
    save_torch(model, tok, args.save_torch, name)
    diff = onnx_parity(model, tok, os.path.join(out, "model.onnx"), RE_FIXTURES + [t for t, _ in re_held[:16]])
    diffs[name] = diff
    results[name] = dict(acc=acc, secs=secs)
    print("{}: onnx vs torch max abs diff {:.3e}".format(name, diff), flush=True)
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as f:
        f.write(RE_README.format(name=name, layers=ARCH["layers"], hidden=ARCH["hidden"], heads=ARCH["heads"], params=nparams, vocab=V, acc=acc, diff=diff))
    write_json(os.path.join(out, "golden.json"), golden_re(model, tok, RE_FIXTURES, name))
    write_json(os.path.join(out, "re.json"), RE_SETTINGS)

    write_fixtures(args.out, re_held, ner_unseen)
    write_converted(args.out)

    shutil.rmtree(tokdir)
    summary = {"results": results, "onnx_vs_torch_max_abs_diff": diffs, "vocab_size": V,
               "seconds": round(time.time() - t_start)}
    print(json.dumps(summary, indent=1))
    for name in ("demo-ner", "demo-ner-gene", "demo-re-gene-disease") + tuple(n for n, _ in CONVERTED):
        d = os.path.join(args.out, name)
        for fn in sorted(os.listdir(d)):
            print("  {}/{} {} bytes sha256 {}".format(name, fn, os.path.getsize(os.path.join(d, fn)),
                                                     sha(os.path.join(d, fn))))


if __name__ == "__main__":
    sys.exit(main())
