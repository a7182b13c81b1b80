"""Reference side of bench/annotate.sh: the Hugging Face token-classification pipeline (PyTorch)
on the same model and texts as pubmine.

  make OUT_DIR                 a BERT-base-size token-classification model (12 layers, hidden 768,
                               12 heads, 512 positions; random weights, fixed seed) with the demo
                               model's tokenizer and labels, saved for PyTorch (OUT_DIR/torch) and
                               exported to ONNX (OUT_DIR/model.onnx + config + tokenizer files)
  run OUT_DIR DOCS.jsonl OUT   the pipeline with aggregation_strategy="first" over every passage of
                               the documents, on --threads torch threads; prints one JSON line of
                               figures and writes the entities it found to OUT (JSON lines)

Needs the venv of models/requirements.txt.
"""
import argparse
import json
import os
import shutil
import sys
import time

import torch
from transformers import AutoTokenizer, BertConfig, BertForTokenClassification, pipeline

DEMO = os.path.join(os.path.dirname(__file__), "..", "models", "demo-ner")
TOKENIZER_FILES = ["tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"]


def make(out):
    demo_cfg = json.load(open(os.path.join(DEMO, "config.json")))
    tok = AutoTokenizer.from_pretrained(DEMO)
    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=len(tok), hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
        intermediate_size=3072, max_position_embeddings=512,
        id2label={int(k): v for k, v in demo_cfg["id2label"].items()},
        label2id=demo_cfg["label2id"],
    )
    model = BertForTokenClassification(cfg).eval()
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(os.path.join(out, "torch"))
    tok.save_pretrained(os.path.join(out, "torch"))
    ids = tok("Metformin reduced IL-6 in type 2 diabetes.", return_tensors="pt")
    torch.onnx.export(
        model, (ids["input_ids"], ids["attention_mask"], ids["token_type_ids"]),
        os.path.join(out, "model.onnx"), dynamo=False, opset_version=17,
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
        dynamic_axes={n: {0: "batch", 1: "sequence"} for n in ["input_ids", "attention_mask", "token_type_ids", "logits"]},
    )
    cfg.to_json_file(os.path.join(out, "config.json"))
    for f in TOKENIZER_FILES:
        if os.path.exists(os.path.join(DEMO, f)):
            shutil.copy(os.path.join(DEMO, f), out)
    print(json.dumps({"made": out, "parameters": sum(p.numel() for p in model.parameters())}))


def run(out, docs_path, entities_path, threads, batch_size):
    torch.set_num_threads(threads)
    texts, ids = [], []
    for line in open(docs_path):
        d = json.loads(line)
        if d.get("deleted"):
            continue
        for i, p in enumerate(d["passages"]):
            texts.append(p["text"])
            ids.append((d["id"], i))
    tok = AutoTokenizer.from_pretrained(os.path.join(out, "torch"))
    model = BertForTokenClassification.from_pretrained(os.path.join(out, "torch")).eval()
    nlp = pipeline("token-classification", model=model, tokenizer=tok,
                   aggregation_strategy="first", device="cpu")
    tokens = sum(len(tok(t, add_special_tokens=False)["input_ids"]) for t in texts)
    nlp(texts[:2])  # warm-up
    start = time.perf_counter()
    with torch.inference_mode():
        results = nlp(texts, batch_size=batch_size)
    seconds = time.perf_counter() - start
    with open(entities_path, "w") as f:
        for (doc, passage), ents in zip(ids, results):
            for e in ents:
                f.write(json.dumps({"id": doc, "passage": passage, "start": int(e["start"]),
                                    "end": int(e["end"]), "type": e["entity_group"],
                                    "score": float(e["score"])}) + "\n")
    docs = len({d for d, _ in ids})
    print(json.dumps({"runner": f"transformers {__import__('transformers').__version__} pipeline (torch {torch.__version__})",
                      "threads": threads, "batch_size": batch_size, "documents": docs,
                      "passages": len(texts), "tokens": tokens, "seconds": seconds,
                      "tokens_per_s": tokens / seconds, "docs_per_s": docs / seconds}))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["make", "run"])
    ap.add_argument("out")
    ap.add_argument("docs", nargs="?")
    ap.add_argument("entities", nargs="?")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=8)
    a = ap.parse_args()
    if a.cmd == "make":
        make(a.out)
    else:
        run(a.out, a.docs, a.entities, a.threads, a.batch_size)
