"""Reference side of bench/re.sh: the Hugging Face text-classification pipeline (PyTorch) on the
same model and tagged sentences as pubmine.

  make OUT_DIR               a BERT-base-size sequence classifier (12 layers, hidden 768, 12 heads,
                             512 positions; random weights, fixed seed) with the demo RE model's
                             tokenizer (@GENE$ and @DISEASE$ single tokens), labels and re.json,
                             saved for PyTorch (OUT_DIR/torch) and exported to ONNX
                             (OUT_DIR/model.onnx + config + tokenizer files)
  data OUT.tsv N             N tagged gene-disease sentences, GAD-like in length (the demo
                             generator's templates, half of them behind a study-design clause),
                             in BioBERT's test.tsv format (index<TAB>sentence<TAB>label)
  run OUT_DIR DATA.tsv OUT   pipeline("text-classification", top_k=None) over the sentences, on
                             --threads torch threads; prints one JSON line of figures and writes
                             each sentence's label probabilities, in the model's label order, to
                             OUT (BioBERT's test_results.tsv layout)

Needs the venv of models/requirements.txt.
"""
import argparse
import json
import os
import random
import shutil
import sys
import time

import torch
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, pipeline

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "models", "demo-re-gene-disease")
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
    model = BertForSequenceClassification(cfg).eval()
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(os.path.join(out, "torch"))
    tok.save_pretrained(os.path.join(out, "torch"))
    ids = tok("Mutations in @GENE$ increase the risk of @DISEASE$.", return_tensors="pt")
    torch.onnx.export(
        model, (ids["input_ids"], ids["attention_mask"], ids["token_type_ids"]),
        os.path.join(out, "model.onnx"), dynamo=False, opset_version=17,
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
        dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                      "token_type_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch"}},
    )
    cfg.to_json_file(os.path.join(out, "config.json"))
    for f in TOKENIZER_FILES + ["re.json"]:
        if os.path.exists(os.path.join(DEMO, f)):
            shutil.copy(os.path.join(DEMO, f), out)
    print(json.dumps({"made": out, "parameters": sum(p.numel() for p in model.parameters())}))


def data(out, n):
    sys.path.insert(0, os.path.join(HERE, "..", "models"))
    import demo_data  # the generator of the demo models' sentences

    g = demo_data.Gen("bench-re")
    r = random.Random(7)
    with open(out, "w", encoding="utf-8") as f:
        f.write("index\tsentence\tlabel\n")
        for i in range(n):
            text, label = g.re_example()
            if r.random() < 0.5:
                clause = "In a case-control study of {} patients and {} controls recruited at {} hospitals between {} and {}, ".format(
                    r.randint(80, 4000), r.randint(80, 4000), r.randint(2, 14), r.randint(1995, 2010), r.randint(2011, 2024))
                text = clause + text[0].lower() + text[1:] if not text.startswith("@") else clause + text
            f.write("{}\t{}\t{}\n".format(i, text, label))


def run(out, data_path, results_path, threads, batch_size):
    torch.set_num_threads(threads)
    lines = open(data_path, encoding="utf-8").read().splitlines()[1:]
    texts = [l.split("\t")[1] for l in lines if l.strip()]
    tok = AutoTokenizer.from_pretrained(os.path.join(out, "torch"))
    model = BertForSequenceClassification.from_pretrained(os.path.join(out, "torch")).eval()
    nlp = pipeline("text-classification", model=model, tokenizer=tok, top_k=None, device="cpu")
    tokens = sum(len(tok(t)["input_ids"]) for t in texts)
    nlp(texts[:2])  # warm-up
    start = time.perf_counter()
    with torch.inference_mode():
        results = nlp(texts, batch_size=batch_size)
    seconds = time.perf_counter() - start
    labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
    with open(results_path, "w") as f:
        for res in results:
            by = {o["label"]: o["score"] for o in res}
            f.write("\t".join(repr(float(by[l])) for l in labels) + "\n")
    import transformers
    print(json.dumps({
        "runner": "HF pipeline (transformers {}, torch {})".format(transformers.__version__, torch.__version__),
        "pairs": len(texts), "tokens": tokens, "seconds": seconds, "pairs_per_s": len(texts) / seconds,
        "threads": threads, "batch_size": batch_size,
    }))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("out")
    d = sub.add_parser("data")
    d.add_argument("out")
    d.add_argument("n", type=int)
    r = sub.add_parser("run")
    r.add_argument("out")
    r.add_argument("data")
    r.add_argument("results")
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--batch-size", type=int, default=32)
    a = ap.parse_args()
    if a.cmd == "make":
        make(a.out)
    elif a.cmd == "data":
        data(a.out, a.n)
    else:
        run(a.out, a.data, a.results, a.threads, a.batch_size)


if __name__ == "__main__":
    main()
