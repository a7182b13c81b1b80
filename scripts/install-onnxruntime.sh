#!/usr/bin/env bash
# Unpacks the ONNX Runtime shared library from the PyPI `onnxruntime` wheel (`onnxruntime-gpu`
# with --gpu) into the tools cache and prints its path, for ORT_DYLIB_PATH. The `ort` crate is
# built with `load-dynamic`: it loads this library at run time instead of downloading binaries at
# build time (which this project's machines cannot). The version is pinned together with the ort
# release in Cargo.toml (ort 2.0.0-rc.15 speaks ONNX Runtime's API 31: 1.31.x).
set -euo pipefail
source "$(dirname "$0")/env.sh"
pkg=onnxruntime
if [ "${1:-}" = "--gpu" ]; then pkg=onnxruntime-gpu; fi
dir="$PUBMINE_TOOLS/$pkg-$ORT_VERSION"
lib="$dir/libonnxruntime.so.$ORT_VERSION"
if [ ! -f "$lib" ]; then
  log "unpacking $pkg $ORT_VERSION from PyPI into $dir"
  tmp=$(mktemp -d)
  python3 -m pip download -q --no-deps --only-binary=:all: --dest "$tmp" \
    --platform manylinux_2_28_x86_64 --python-version 3.11 "$pkg==$ORT_VERSION"
  mkdir -p "$dir"
  python3 - "$tmp"/*.whl "$dir" <<'PY'
import sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        base = name.rsplit("/", 1)[-1]
        if name.startswith("onnxruntime/capi/") and (base.startswith("libonnxruntime") and ".so" in base):
            with z.open(name) as src, open(f"{dest}/{base}", "wb") as out:
                out.write(src.read())
PY
  rm -rf "$tmp"
fi
test -f "$lib" || { log "no $lib in the wheel"; exit 1; }
echo "$lib"
