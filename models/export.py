#!/usr/bin/env python3
"""Export a Hugging Face checkpoint to the model directory layout that pubmine reads.

    python models/export.py CHECKPOINT OUT_DIR [--task ner|re] [--fp16 [--fp16-logits] | --int8] [--opset 17]
    python models/export.py --from-onnx MODEL_DIR OUT_DIR (--int8 | --fp16 [--fp16-logits])

CHECKPOINT is a hub id or a local directory (as written by save_pretrained). The script loads it with
AutoTokenizer and AutoModelForTokenClassification (--task ner, the default) or
AutoModelForSequenceClassification (--task re), exports it with torch.onnx.export (the TorchScript
exporter, dynamo=False), and writes OUT_DIR:

    model.onnx               inputs input_ids, attention_mask[, token_type_ids]: int64 [batch, sequence];
                             output logits: float32, [batch, sequence, labels] (ner) or [batch, labels] (re)
    config.json              the checkpoint's config (id2label, label2id, max_position_embeddings, model_type)
    ner.json                 (ner) what pubmine shows the model: {"max_len": 128, "inputs": "sentences"} by default,
                             BioBERT's NER recipe; --max-len and --inputs passages for a checkpoint fine-tuned
                             on whole documents
    tokenizer.json           the fast tokenizer (with no truncation or padding set)
    vocab.txt                for a BERT WordPiece tokenizer, the vocabulary in id order
    tokenizer_config.json, special_tokens_map.json

--fp16 converts the exported float32 graph to float16 weights and activations with
onnxconverter-common (keep_io_types: inputs and logits stay int64/float32), for GPU execution
providers; with --fp16-logits the logits output stays float16 too, as in exports made from a
half-precision PyTorch model (pubmine reads both). --int8 fuses the graph with onnxruntime's
transformer optimizer (attention, skip layer norms, bias-GELU, embeddings), then quantizes the
matrix products and the embedding tables to int8, per channel, with quantize_dynamic, for CPU. Afterwards the script runs the exported model with
onnxruntime on a sample text (and a padded batch) and prints the largest absolute difference of the
logits from PyTorch, and how many argmax labels agree. It fails when a float32 export differs by
more than 1e-3.

--from-onnx converts a model directory pubmine already reads (a float32 model.onnx with its
config.json and tokenizer files, such as models/demo-ner or one this script exported) without
PyTorch or the hub: the other files are copied, model.onnx is quantized (--int8) or converted
(--fp16), and the logits are compared with the float32 model's on the sample texts.

Loading from the hub needs network access (and, for private models, HF_TOKEN); once downloaded, the
checkpoint sits in the Hugging Face cache (HF_HOME) and can be exported offline (HF_HUB_OFFLINE=1).

Checkpoints to start from
-------------------------
BioBERT itself (dmis-lab/biobert-base-cased-v1.2, dmis-lab/biobert-v1.1) is a pre-trained encoder
without a task head: it must be fine-tuned before export (the head would be random). Fine-tuned
BioBERT NER checkpoints on the hub include, one entity type each as BioBERT's own were:

    alvaroalon2/biobert_chemical_ner    chemicals (BC5CDR-chemicals, BC4CHEMD)
    alvaroalon2/biobert_diseases_ner    diseases (BC5CDR-diseases, NCBI-disease)
    alvaroalon2/biobert_genetic_ner     genes/proteins (BC2GM, JNLPBA)

Check each model card for its labels and licence before use. For relation extraction there is no
checkpoint we can vouch for: search the hub for token- or text-classification models whose base is
BioBERT (filter by task "text-classification" and search "biobert gad", "biobert chemprot",
"biobert ddi"), or fine-tune dmis-lab/biobert-base-cased-v1.2 yourself with transformers'
run_glue.py on BioBERT's RE data sets (GAD, EU-ADR: sentence with @GENE$/@DISEASE$, label 0/1),
then export the result with --task re. Whatever you pick, pubmine reads the labels from config.json.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

import numpy as np

SAMPLE_TEXT = ("Metformin reduced the expression of IL-6 in patients with type 2 diabetes, "
               "and BRCA1 mutations increase the risk of breast cancer.")
SAMPLE_RE_TEXT = "@GENE$ polymorphisms were associated with an increased risk of @DISEASE$."
ALL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="Export a Hugging Face checkpoint to pubmine's ONNX model directory.")
    ap.add_argument("checkpoint", help="hub id (e.g. alvaroalon2/biobert_diseases_ner) or local directory; "
                                       "with --from-onnx, a pubmine model directory with a float32 model.onnx")
    ap.add_argument("out_dir", help="directory to write (created; files in it are replaced)")
    ap.add_argument("--task", choices=["ner", "re"], default="ner",
                    help="ner: token classification (default); re: sequence classification (relation extraction)")
    prec = ap.add_mutually_exclusive_group()
    prec.add_argument("--fp16", action="store_true", help="float16 weights and activations (for GPU)")
    prec.add_argument("--int8", action="store_true", help="dynamic int8 quantization of the MatMul weights and embeddings, per channel (for CPU)")
    ap.add_argument("--fp16-logits", action="store_true",
                    help="with --fp16: leave the logits output float16 as well (default: float32)")
    ap.add_argument("--from-onnx", action="store_true",
                    help="CHECKPOINT is a pubmine model directory: convert its model.onnx (--int8 or --fp16) "
                         "without PyTorch")
    ap.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    ap.add_argument("--max-len", type=int, default=128,
                    help="ner: the input length the checkpoint was fine-tuned on, [CLS] and [SEP] included, written "
                         "to ner.json (default 128, BioBERT's NER fine-tuning length)")
    ap.add_argument("--inputs", choices=["sentences", "packed-sentences", "passages"], default="sentences",
                    help="ner: what pubmine shows the model, written to ner.json: sentences (as BioBERT's NER "
                         "checkpoints are fine-tuned, the default) or passages (a checkpoint fine-tuned on whole "
                         "documents)")
    ap.add_argument("--text", help="sample text for the parity check (default: a built-in sentence)")
    ap.add_argument("--revision", help="hub revision (branch, tag or commit) to load")
    ap.add_argument("--lowercase", choices=["auto", "yes", "no"], default="auto",
                    help="whether the BERT tokenizer lowercases its input; auto (default) keeps the checkpoint's "
                         "setting, except that a checkpoint with only a cased vocab.txt (as BioBERT's are) is "
                         "not lowercased")
    args = ap.parse_args(argv)
    if args.fp16_logits and not args.fp16:
        ap.error("--fp16-logits needs --fp16")
    if args.from_onnx and not (args.fp16 or args.int8):
        ap.error("--from-onnx needs --int8 or --fp16")
    return args


def load(checkpoint, task, revision=None):
    from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(checkpoint, revision=revision)
    if not getattr(tok, "is_fast", False):
        sys.exit("error: {} has no fast tokenizer (tokenizer.json); pubmine needs one".format(checkpoint))
    cls = AutoModelForTokenClassification if task == "ner" else AutoModelForSequenceClassification
    # eager attention: the plainest graph for the TorchScript exporter
    model = cls.from_pretrained(checkpoint, revision=revision, attn_implementation="eager")
    model = model.float().eval()
    return tok, model


def fix_case(tok, checkpoint, revision, mode):
    """A checkpoint with only vocab.txt (no tokenizer.json or tokenizer_config.json) gets BERT's default
    do_lower_case=True, which is wrong for a cased model such as BioBERT: its capitalised vocabulary
    would never match. Decide from the vocabulary (or --lowercase) and rebuild the tokenizer."""
    from tokenizers import normalizers
    from transformers import AutoTokenizer

    norm = json.loads(tok.backend_tokenizer.to_str()).get("normalizer") or {}
    if norm.get("type") != "BertNormalizer":
        if mode != "auto":
            print("note: --lowercase applies to BERT tokenizers only; ignored")
        return tok
    lower = bool(norm.get("lowercase"))
    words = [t for t in tok.get_vocab() if not (t.startswith("[") and t.endswith("]"))]
    cased_share = sum(any(c.isupper() for c in t) for t in words) / max(1, len(words))
    want = {"yes": True, "no": False}.get(mode, lower and cased_share < 0.05)
    if want == lower:
        return tok
    print("note: {} the input (the vocabulary has {:.0%} tokens with capitals)".format(
        "lowercasing" if want else "not lowercasing", cased_share))
    tok = AutoTokenizer.from_pretrained(checkpoint, revision=revision, do_lower_case=want)
    norm = json.loads(tok.backend_tokenizer.to_str()).get("normalizer") or {}
    if bool(norm.get("lowercase")) != want:
        tok.backend_tokenizer.normalizer = normalizers.BertNormalizer(
            clean_text=norm.get("clean_text", True), handle_chinese_chars=norm.get("handle_chinese_chars", True),
            strip_accents=norm.get("strip_accents"), lowercase=want)
        tok.init_kwargs["do_lower_case"] = want
    return tok


def input_names(tok, model):
    """The inputs that both the tokenizer produces and the model's forward takes."""
    import inspect

    params = inspect.signature(model.forward).parameters
    names = [n for n in ALL_INPUTS if n in tok.model_input_names and n in params]
    if "input_ids" not in names or "attention_mask" not in names:
        sys.exit("error: the model does not take input_ids and attention_mask")
    return names


def export_onnx(model, names, task, path, opset):
    import torch

    class Logits(torch.nn.Module):
        def __init__(self, m, names):
            super().__init__()
            self.m = m
            self.names = names

        def forward(self, *args):
            return self.m(**dict(zip(self.names, args))).logits

    ids = torch.tensor([[101, 1000, 1001, 1002, 102], [101, 1003, 102, 0, 0]], dtype=torch.long)
    ids = ids.clamp(max=model.config.vocab_size - 1)
    dummy = {"input_ids": ids, "attention_mask": (torch.arange(5) < torch.tensor([[5], [3]])).long(),
             "token_type_ids": torch.zeros_like(ids)}
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes["logits"] = {0: "batch", 1: "sequence"} if task == "ner" else {0: "batch"}
    # the exporter restores the wrapper's training flag recursively afterwards: keep it in eval mode
    wrap = Logits(model, names).eval()
    with torch.no_grad():
        torch.onnx.export(wrap, tuple(dummy[n] for n in names), path, input_names=names, output_names=["logits"],
                          dynamic_axes=axes, opset_version=opset, dynamo=False, do_constant_folding=True)
    model.eval()


def to_fp16(src, dst, fp16_logits=False):
    import onnx
    from onnxconverter_common import float16

    m = onnx.load(src)
    m16 = float16.convert_float_to_float16(m, keep_io_types=not fp16_logits)
    onnx.save(m16, dst)


# The operators to_int8 gives int8 weights: the matrix products, the fused attention's
# projections, and the embedding tables.
INT8_OPS = ["MatMul", "Attention", "Gather", "EmbedLayerNormalization"]


def to_int8(src, dst, config, ops=None):
    """Quantizes the float32 graph SRC to DST for CPU: first ONNX Runtime's transformer optimizer
    fuses each layer's attention (Attention), its residual additions with their layer norms
    (SkipLayerNormalization), the bias with GELU (BiasGelu) and the embeddings with their layer norm
    (EmbedLayerNormalization), ONNX Runtime's own operators; then quantize_dynamic gives the
    matrix products, the fused attention's projections and the embedding tables int8 weights
    with per-channel scales, activations quantized at run time.

    Measured on the Species model that models/train_ner.py fine-tunes (LINNAEUS test split, `pubmine
    eval ner`, inference seconds on 2 cores): float32 F1 0.7660 in 53.5 s; the graph fused, still
    float32, the same F1 in 47.3 s; int8 as before (no fusion, per channel) F1 0.7614 in 37.2 s,
    per tensor 0.7512 in 35.5 s; fused then int8 per channel (this) 0.7669 in 31.3 s, per tensor
    0.7561 in 29.0 s. Per-tensor scales cost ner-disease two points of F1 (0.7970 against 0.8187),
    so per channel stays. The fusions need the attention heads and hidden size (CONFIG, the model's
    config.json as a dict); without them the graph is quantized unfused. OPS (default INT8_OPS)
    names the operators to quantize: ["MatMul"] keeps the attention and the embeddings float32
    (ner-disease: see models/README.md)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    heads, hidden = config.get("num_attention_heads"), config.get("hidden_size")
    with tempfile.TemporaryDirectory() as tmp:
        fused = src
        if heads and hidden:
            fused = os.path.join(tmp, "fused.onnx")
            # opt_level 0: the optimizer's fusions only, none of the session's hardware-specific
            # rewrites, so the file runs wherever ONNX Runtime does
            m = optimize_model(src, model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=0)
            stats = m.get_fused_operator_statistics()
            print("  fused: " + ", ".join("{} {}".format(k, v) for k, v in sorted(stats.items()) if v))
            m.save_model_to_file(fused)
        else:
            print("  no num_attention_heads/hidden_size in config.json: quantized unfused")
        quantize_dynamic(fused, dst, weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=ops or INT8_OPS,
                         # the fused operators' outputs have no shape-inferred type: they are float
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def convert_dir(src, dst, int8=False, fp16=False, fp16_logits=False, texts=None):
    """--from-onnx: write DST as SRC with its float32 model.onnx quantized (int8) or converted (fp16).
    Returns (max abs logit difference, argmax agreement, tokens compared) against SRC's model on
    `texts` (padded into one batch), the special tokens left out."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    src_onnx = os.path.join(src, "model.onnx")
    if not os.path.exists(src_onnx) or not os.path.exists(os.path.join(src, "config.json")):
        sys.exit("error: {} is not a model directory (model.onnx and config.json)".format(src))
    if os.path.realpath(src) == os.path.realpath(dst):
        sys.exit("error: the output directory must differ from the input")
    os.makedirs(dst, exist_ok=True)
    for fn in sorted(os.listdir(src)):
        # golden files and READMEs describe the source model, not the converted one
        if fn not in ("model.onnx", "golden.json", "README.md") and os.path.isfile(os.path.join(src, fn)):
            shutil.copy(os.path.join(src, fn), os.path.join(dst, fn))
    target = os.path.join(dst, "model.onnx")
    if int8:
        with open(os.path.join(src, "config.json"), encoding="utf-8") as f:
            to_int8(src_onnx, target, json.load(f))
    else:
        to_fp16(src_onnx, target, fp16_logits)
    tok = Tokenizer.from_file(os.path.join(src, "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    encs = [tok.encode(t) for t in (texts or [SAMPLE_TEXT, "BRCA1 variants."])]
    width = max(len(e.ids) for e in encs)
    ids = np.zeros((len(encs), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for i, e in enumerate(encs):
        ids[i, :len(e.ids)] = e.ids
        mask[i, :len(e.ids)] = 1
    out = []
    for path in (src_onnx, target):
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        feed = {i.name: feed[i.name] for i in sess.get_inputs()}
        out.append(sess.run(["logits"], feed)[0].astype(np.float32))
    ref, got = out
    if ref.ndim == 3:
        keep = mask.astype(bool)
        ref, got = ref[keep], got[keep]
    diff = float(np.abs(ref - got).max())
    agree = float((ref.argmax(-1) == got.argmax(-1)).mean())
    return diff, agree, ref.shape[0]


def main_from_onnx(args):
    kind = "int8" if args.int8 else "fp16 (float16 logits)" if args.fp16_logits else "fp16"
    texts = [args.text] if args.text else None
    diff, agree, n = convert_dir(args.checkpoint, args.out_dir, int8=args.int8, fp16=args.fp16,
                                 fp16_logits=args.fp16_logits, texts=texts)
    print("converted {} to {} in {}".format(args.checkpoint, kind, args.out_dir))
    print("  model.onnx: {:.1f} MB (float32: {:.1f} MB)".format(
        os.path.getsize(os.path.join(args.out_dir, "model.onnx")) / 1e6,
        os.path.getsize(os.path.join(args.checkpoint, "model.onnx")) / 1e6))
    print("  {} vs float32 onnxruntime on {} rows: max abs logit diff {:.3e}, argmax agreement {:.1%}".format(
        kind, n, diff, agree))
    return 0


def write_ner_settings(out, max_len, inputs):
    """ner.json: what pubmine shows a token classifier (annotate/src/ner.rs, NerSettings)."""
    with open(os.path.join(out, "ner.json"), "w", encoding="utf-8") as f:
        json.dump({"inputs": inputs, "max_len": max_len}, f, indent=2, sort_keys=True)
        f.write("\n")


def save_tokenizer(tok, out, max_positions):
    tok.backend_tokenizer.no_truncation()
    tok.backend_tokenizer.no_padding()
    tok.save_pretrained(out)
    # a checkpoint without tokenizer_config.json gets model_max_length 1e30: say the model's limit
    path = os.path.join(out, "tokenizer_config.json")
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    for k in ("is_local", "local_files_only"):
        cfg.pop(k, None)
    if isinstance(max_positions, int) and not (0 < cfg.get("model_max_length", 0) <= max_positions):
        cfg["model_max_length"] = max_positions
    with open(path, "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    backend = json.loads(tok.backend_tokenizer.to_str())
    if backend.get("model", {}).get("type") == "WordPiece":
        vocab = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
        if [i for _, i in vocab] == list(range(len(vocab))):
            with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8") as f:
                f.write("".join(t + "\n" for t, _ in vocab))
        else:
            print("note: vocabulary ids are not contiguous; vocab.txt not written (tokenizer.json has it all)")
    path = os.path.join(out, "special_tokens_map.json")
    if not os.path.exists(path):
        stm = {k: str(getattr(tok, k)) for k in ("unk_token", "sep_token", "pad_token", "cls_token", "mask_token",
                                                  "bos_token", "eos_token") if getattr(tok, k, None) is not None}
        with open(path, "w", encoding="utf-8") as f:
            json.dump(stm, f, indent=2)
            f.write("\n")


def parity(tok, model, names, path, text, task):
    """Largest |logits difference| between PyTorch and onnxruntime, and the argmax agreement."""
    import onnxruntime as ort
    import torch

    other = "BRCA1 variants." if task == "ner" else "@GENE$ and @DISEASE$."
    enc = tok([text, other], padding=True, truncation=True, max_length=512, return_tensors="pt")
    with torch.no_grad():
        ref = model(**{n: enc[n] for n in names}).logits.float().numpy()
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = sess.run(["logits"], {n: enc[n].numpy().astype(np.int64) for n in names})[0].astype(np.float32)
    if task == "ner":
        keep = enc["attention_mask"].numpy().astype(bool)
        ref, got = ref[keep], got[keep]
    diff = float(np.abs(ref - got).max())
    agree = float((ref.argmax(-1) == got.argmax(-1)).mean())
    return diff, agree, ref.shape[0]


def main(argv=None):
    args = parse_args(argv)
    if args.from_onnx:
        return main_from_onnx(args)
    import torch

    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    tok, model = load(args.checkpoint, args.task, args.revision)
    tok = fix_case(tok, args.checkpoint, args.revision, args.lowercase)
    names = input_names(tok, model)
    os.makedirs(args.out_dir, exist_ok=True)
    target = os.path.join(args.out_dir, "model.onnx")
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = os.path.join(tmp, "model.onnx")
        export_onnx(model, names, args.task, fp32, args.opset)
        if args.fp16:
            to_fp16(fp32, target, args.fp16_logits)
        elif args.int8:
            to_int8(fp32, target, model.config.to_dict())
        else:
            shutil.copy(fp32, target)
        model.config.save_pretrained(tmp)
        shutil.copy(os.path.join(tmp, "config.json"), os.path.join(args.out_dir, "config.json"))
    save_tokenizer(tok, args.out_dir, getattr(model.config, "max_position_embeddings", None))
    if args.task == "ner":
        write_ner_settings(args.out_dir, args.max_len, args.inputs)

    text = args.text or (SAMPLE_TEXT if args.task == "ner" else SAMPLE_RE_TEXT)
    kind = "fp16" if args.fp16 else "int8" if args.int8 else "fp32"
    if args.fp16_logits:
        kind = "fp16 (float16 logits)"
    try:
        diff, agree, n = parity(tok, model, names, target, text, args.task)
    except Exception as e:  # e.g. an fp16 graph the CPU provider has no kernel for
        print("warning: could not run the {} model on the CPU provider: {}".format(kind, e))
        diff = None
    labels = model.config.id2label
    print("exported {} ({}, {}, opset {}) to {}".format(args.checkpoint, args.task, kind, args.opset, args.out_dir))
    print("  inputs: {}; labels: {}".format(", ".join(names), json.dumps({int(k): v for k, v in labels.items()})))
    print("  max_position_embeddings: {}; model.onnx: {:.1f} MB".format(
        getattr(model.config, "max_position_embeddings", "?"), os.path.getsize(target) / 1e6))
    if diff is not None:
        print("  onnxruntime vs PyTorch on {} {}: max abs logit diff {:.3e}, argmax agreement {:.1%}".format(
            n, "tokens" if args.task == "ner" else "texts", diff, agree))
        if kind == "fp32" and diff > 1e-3:
            sys.exit("error: the fp32 export differs from PyTorch by {:.3e}".format(diff))
    return 0


if __name__ == "__main__":
    sys.exit(main())
