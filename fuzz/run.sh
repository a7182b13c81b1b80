#!/usr/bin/env bash
# Coverage-guided fuzzing of the input side with cargo-fuzz (libFuzzer), on the stable toolchain
# (`--sanitizer none`: the sanitizers need nightly; the crates forbid unsafe code, so a panic,
# an overflow, a hang or runaway memory is what there is to find).
#
#   fuzz/run.sh TARGET SECONDS   run one target (medline, jats, source, decode) that long
#   fuzz/run.sh all SECONDS      each target in turn, SECONDS each
#   fuzz/run.sh cmin TARGET|all  minimise the saved corpus with what the runs found
#
# New inputs go to fuzz/target/work/TARGET (the saved corpus fuzz/corpus/TARGET is read, not
# written; `cmin` merges the work corpus into it). A crash, timeout or out-of-memory input is
# written to fuzz/artifacts/TARGET/; once fixed, keep it under fuzz/regressions/TARGET/, which
# `cargo test` replays with the corpora (ingest/tests/fuzz_corpus.rs, stream/tests/fuzz_corpus.rs).
# Everything runs under `nice`, one fuzzer process at a time.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
targets=(medline jats source decode)

usage() {
    echo "usage: $0 {medline|jats|source|decode|all} SECONDS | $0 cmin {TARGET|all}" >&2
    exit 2
}

install() {
    if ! cargo fuzz --version >/dev/null 2>&1; then
        nice -n 19 cargo install --locked cargo-fuzz
    fi
}

# libFuzzer options per target: the dictionary and the largest input tried.
options() {
    case "$1" in
        medline | jats) echo "-dict=$here/dict/xml.dict -max_len=65536" ;;
        source) echo "-dict=$here/dict/xml.dict -max_len=65536" ;;
        decode) echo "-dict=$here/dict/json.dict -max_len=16384" ;;
        *) usage ;;
    esac
}

build() {
    nice -n 19 cargo fuzz build --sanitizer none "$@"
}

run() {
    local target="$1" seconds="$2"
    local work="$here/target/work/$target" log="$here/target/logs/$target.log"
    mkdir -p "$work" "$(dirname "$log")" "$here/artifacts/$target"
    echo "== $target for ${seconds}s (log: $log)"
    # -timeout: an input taking over 10 s is a hang; -rss_limit_mb: over 2 GiB is runaway memory.
    # shellcheck disable=SC2046
    nice -n 19 cargo fuzz run --sanitizer none "$target" "$work" \
        "$here/corpus/$target" "$here/regressions/$target" -- \
        $(options "$target") -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 2>&1 | tee "$log" | grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|ERROR|panicked|Test unit written' || true
    report "$target" "$log"
}

# The figures of a run, from its log.
report() {
    local target="$1" log="$2" last execs rate crashes
    last="$(grep -E '^#[0-9]+[[:space:]]' "$log" | tail -n 1 || true)"
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
    crashes="$(grep -c 'Test unit written' "$log" || true)"
    echo "-- $target: executions ${execs:-?}, ${rate:-?} exec/s," \
        "coverage $(grep -oE 'cov: [0-9]+ ft: [0-9]+' <<<"$last" | sed 's/cov:/edges/; s/ft:/features/')," \
        "corpus $(grep -oE 'corp: [^ ]+' <<<"$last" | cut -d' ' -f2), crashes ${crashes}"
}

cmin() {
    local target="$1" merged
    merged="$(mktemp -d)"
    mkdir -p "$here/target/work/$target"
    # shellcheck disable=SC2046
    nice -n 19 cargo fuzz run --sanitizer none "$target" "$merged" "$here/corpus/$target" \
        "$here/target/work/$target" -- -merge=1 -use_counters=0 $(options "$target") -timeout=10 \
        -rss_limit_mb=2048 2>&1 | grep -E 'MERGE-OUTER: [0-9]+ new files' || true
    # Edges only (no hit counts) and no input over 256 KiB: the saved corpora stay small.
    find "$merged" -type f -size +256k -delete
    rm -f "$here/corpus/$target"/*
    cp "$merged"/* "$here/corpus/$target/"
    rm -rf "$merged"
    echo "-- $target: $(find "$here/corpus/$target" -type f | wc -l) files," \
        "$(du -sh "$here/corpus/$target" | cut -f1)"
}

[ $# -eq 2 ] || usage
install
case "$1" in
    cmin)
        if [ "$2" = all ]; then set -- "${targets[@]}"; else set -- "$2"; fi
        build
        for t in "$@"; do cmin "$t"; done
        ;;
    all)
        build
        for t in "${targets[@]}"; do run "$t" "$2"; done
        ;;
    *)
        options "$1" >/dev/null
        build "$1"
        run "$1" "$2"
        ;;
esac
