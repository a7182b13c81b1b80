"""Plots each figure of bench/scale.sh's CSV against the number of documents written."""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(src, dst):
    rows = list(csv.DictReader(open(src)))
    x = [float(r["documents"]) for r in rows]
    panels = [
        ("documents/s", ["store_docs_per_s", "index_docs_per_s"]),
        ("bytes per stored document", ["db_bytes_per_doc", "index_bytes_per_doc"]),
        ("ms per batch", ["batch_ms", "dashboard_ms_per_batch"]),
        ("dashboard reads p99, ms", [k for k in rows[0] if k.endswith("p99_ms") and not k.startswith(("search", "document"))]),
        ("search and document p99, ms", [k for k in rows[0] if k.endswith("p99_ms") and k.startswith(("search", "document"))]),
        ("p50, ms", [k for k in rows[0] if k.endswith("p50_ms")]),
    ]
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    for ax, (title, keys) in zip(axes.flat, panels):
        for k in keys:
            ax.plot(x, [float(r[k]) for r in rows], marker="o", label=k)
        ax.set_xscale("log")
        ax.set_title(title)
        ax.set_xlabel("documents written")
        ax.legend(fontsize=7)
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(dst, dpi=90)
    print(f"plot in {dst}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
