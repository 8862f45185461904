#!/bin/sh
# tests/fuzz/run.sh [SECONDS (600)] [BUILD_DIR (build-fuzz)]: fuzzes the ONNX loader with
# libFuzzer + AddressSanitizer, seeded with the ONNX node-test models and tests/models. The
# library is built with clang in its own build folder (never the default build). Crashing
# inputs land in BUILD_DIR/fuzz-artifacts/: after fixing the bug, copy each into
# tests/fuzz/corpus-crashes/, where test_onnx_fuzz_regress replays them in every test run.
# NNCL_FUZZ_PLAN=1 also plans each loaded graph.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-600}
bdir=${2:-$src/build-fuzz}
if [ ! -f "$bdir/build.ninja" ]; then
  CC=clang meson setup "$bdir" "$src" -Dbuildtype=debugoptimized -Db_sanitize=address \
    -Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link -Dwerror=false
fi
ninja -C "$bdir" lib/libnncl_internal.a
# shellcheck disable=SC2046
clang -g -O1 -fsanitize=fuzzer,address -I"$src/include" "$src/tests/fuzz/fuzz_onnx_load.c" \
  -Wl,--whole-archive "$bdir/lib/libnncl_internal.a" -Wl,--no-whole-archive \
  -o "$bdir/fuzz_onnx_load" $(pkg-config --libs OpenCL clblast libprotobuf-c libxxhash libcjson zlib) -lm -lpthread
corpus=$bdir/fuzz-corpus
mkdir -p "$corpus" "$bdir/fuzz-artifacts"
if [ -z "$(ls -A "$corpus")" ]; then
  i=0
  for m in /usr/share/libonnx-testdata/data/node/*/model.onnx "$src"/tests/models/*/model.onnx; do
    [ -f "$m" ] || continue
    [ "$(stat -c %s "$m")" -le 65536 ] || continue
    cp "$m" "$corpus/seed_$i.onnx"
    i=$((i + 1))
  done
  cp "$src"/tests/fuzz/corpus-crashes/* "$corpus/" 2>/dev/null || true
fi
export NNCL_CACHE_DIR="$bdir/kernel-cache"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
exec "$bdir/fuzz_onnx_load" -max_total_time="$secs" -max_len=65536 -timeout=20 -rss_limit_mb=4096 \
  -artifact_prefix="$bdir/fuzz-artifacts/" "$corpus"
