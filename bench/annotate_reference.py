"""Reference side of bench/annotate.sh: the Hugging Face token-classification pipeline (PyTorch)
on the same model and texts as pubmine.

  make OUT_DIR                 a BERT-base-size token-classification model (12 layers, hidden 768,
                               12 heads, 512 positions; random weights, fixed seed) with the demo
                               model's tokenizer and labels, saved for PyTorch (OUT_DIR/torch) and
                               exported to ONNX (OUT_DIR/model.onnx + config + tokenizer files)
  gemm OUT_DIR                 the CPU's matrix-product rates on the model's own linear layers at
                               8,192 rows (pubmine's batch of padded tokens), on --threads threads:
                               float32 through PyTorch and ONNX Runtime, int8 through ONNX Runtime;
                               and the model's matrix-product FLOPs per token
  profile MODEL_DIR            where an ONNX model's time goes, by operator type: ONNX Runtime's
                               profiler over batches of --rows inputs of --len tokens on --threads
                               threads; prints one JSON line of each type's share of the time
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
    # exported as models/export.py exports: eager attention (the saved PyTorch model keeps the default)
    model.set_attn_implementation("eager")
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


def gemm(out, threads, rows=8192):
    """GFLOP/s of PyTorch's float32 matrix products on the shapes of the model's linear layers (the
    query, key, value and output projections, the intermediate and output layers: 92% of the
    model's time in ONNX Runtime), each the fastest of the calls made in about 2 s; the same
    through ONNX Runtime (ort_rate); and the FLOPs per token position of the whole model apart
    from attention scores (which depend on the input length)."""
    torch.set_num_threads(threads)
    cfg = json.load(open(os.path.join(out, "config.json")))
    h, i, n = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    labels = len(cfg["id2label"])
    shapes = [(h, h)] * 4 + [(h, i), (i, h)]  # (in, out) per layer

    def torch_time(k, m):
        x, w = torch.randn(rows, k), torch.randn(m, k)
        with torch.inference_mode():
            return best_time(lambda: torch.nn.functional.linear(x, w))

    per_token = n * sum(2.0 * k * m for k, m in shapes) + 2.0 * h * labels
    print(json.dumps({"threads": threads, "rows": rows, "gflops": rate(shapes, rows, torch_time),
                      "ort_fp32_gflops": ort_rate(shapes, rows, threads, False),
                      "ort_int8_gops": ort_rate(shapes, rows, threads, True),
                      "flops_per_token": per_token, "layers": n, "hidden": h}))


def best_time(call, budget=2.0):
    """The fastest of the calls made in about `budget` seconds (after one to warm up): the rate a
    kernel reaches, free of the moments another process took the CPU."""
    call()
    best, start = float("inf"), time.perf_counter()
    while time.perf_counter() - start < budget:
        t = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - t)
    return best


def ort_rate(shapes, rows, threads, int8):
    """The same products through ONNX Runtime, as a one-MatMul graph per shape: float32, or
    quantized as models/export.py quantizes (dynamic, int8 weights per channel): the ceiling of
    what ONNX Runtime's kernels give on this CPU."""
    import tempfile

    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = threads, 1

    def ort_time(k, m):
        with tempfile.TemporaryDirectory() as tmp:
            w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((k, m)).astype(np.float32), "w")
            graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "mm",
                                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, k])],
                                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, m])], [w])
            path = os.path.join(tmp, "mm.onnx")
            onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), path)
            if int8:
                quantize_dynamic(path, path + ".q", weight_type=QuantType.QInt8, per_channel=True)
                path += ".q"
            sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
            x = {"x": np.random.default_rng(1).standard_normal((rows, k)).astype(np.float32)}
            return best_time(lambda: sess.run(None, x))

    return rate(shapes, rows, ort_time)


def rate(shapes, rows, time_of):
    """Giga-operations per second over the model's layer shapes, each weighed by how often a layer
    has it: `time_of(in, out)` is the fastest product of a rows x in matrix by an in x out one."""
    ops, seconds = 0.0, 0.0
    for k, m in sorted(set(shapes)):
        count = shapes.count((k, m))
        ops += count * 2.0 * rows * k * m
        seconds += count * time_of(k, m)
    return ops / seconds / 1e9


def profile(model_dir, threads, rows, length, runs=5):
    """Each operator type's share of the kernel time of MODEL_DIR/model.onnx, as pubmine's session
    runs it (every graph optimization on, `threads` intra-op threads), on `runs` batches of `rows`
    inputs of `length` tokens (after one to warm up). For int8 models it shows what the matrix
    products leave: the operators that stay float32 (layer norms, GELU, the attention's softmax)."""
    import collections
    import tempfile

    import numpy as np
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        so = ort.SessionOptions()
        so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.enable_profiling, so.profile_file_prefix = True, os.path.join(tmp, "profile")
        sess = ort.InferenceSession(os.path.join(model_dir, "model.onnx"), so, providers=["CPUExecutionProvider"])
        cfg = json.load(open(os.path.join(model_dir, "config.json")))
        ids = np.random.default_rng(0).integers(1000, cfg["vocab_size"], (rows, length)).astype(np.int64)
        ids[:, 0], ids[:, -1] = 101, 102
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        feed = {i.name: feed[i.name] for i in sess.get_inputs()}
        for _ in range(1 + runs):
            sess.run(None, feed)
        events = json.load(open(sess.end_profiling()))
    by_type, total = collections.Counter(), 0
    seen_runs = [e for e in events if e.get("name") == "model_run"]
    first = seen_runs[1]["ts"] if len(seen_runs) > 1 else 0  # the warm-up run left out
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and e["ts"] >= first:
            by_type[e["args"]["op_name"]] += e["dur"]
            total += e["dur"]
    print(json.dumps({"rows": rows, "length": length, "threads": threads,
                      "shares": {k: v / total for k, v in by_type.most_common()}}))


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
    ap.add_argument("cmd", choices=["make", "gemm", "profile", "run"])
    ap.add_argument("out")
    ap.add_argument("docs", nargs="?")
    ap.add_argument("entities", nargs="?")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--rows", type=int, default=160, help="profile: inputs per batch")
    ap.add_argument("--len", type=int, default=48, help="profile: tokens per input")
    a = ap.parse_args()
    if a.cmd == "make":
        make(a.out)
    elif a.cmd == "gemm":
        gemm(a.out, a.threads)
    elif a.cmd == "profile":
        profile(a.out, a.threads, a.rows, a.len)
    else:
        run(a.out, a.docs, a.entities, a.threads, a.batch_size)
