#!/bin/sh
# tests/fuzz/run.sh [SECONDS (600)] [BUILD_DIR (build-fuzz)] [MODE (load)]: fuzzes what reads
# untrusted bytes with libFuzzer + AddressSanitizer + UndefinedBehaviorSanitizer. MODE (see
# fuzz_onnx_load.c): load (the ONNX loader), plan (+ shape inference), run (+ small runs), npy
# (the .npy parser). ONNX modes are seeded with the node-test models and tests/models, npy with
# the repo's .npy files. The library is built with clang in its own build folder (never the
# default build). Crashing inputs land in BUILD_DIR/fuzz-artifacts-MODE/: after fixing the bug,
# copy each ONNX one into tests/fuzz/corpus-crashes/, where test_onnx_fuzz_regress replays it in
# every test run. NNCL_FUZZ_PLAN=1 is the old spelling of MODE plan.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-600}
bdir=${2:-$src/build-fuzz}
mode=${3:-load}
[ "${NNCL_FUZZ_PLAN:-}" = 1 ] && [ "$mode" = load ] && mode=plan
san=address,undefined
if [ ! -f "$bdir/build.ninja" ]; then
  CC=clang meson setup "$bdir" "$src" -Dbuildtype=debugoptimized -Db_sanitize=$san \
    -Db_lundef=false -Dc_args="-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined" \
    -Dwerror=false
fi
ninja -C "$bdir" lib/libnncl_internal.a
# shellcheck disable=SC2046
clang -g -O1 -fsanitize=fuzzer,$san -fno-sanitize-recover=undefined -I"$src/include" \
  "$src/tests/fuzz/fuzz_onnx_load.c" \
  -Wl,--whole-archive "$bdir/lib/libnncl_internal.a" -Wl,--no-whole-archive \
  -o "$bdir/fuzz_onnx_load" $(pkg-config --libs OpenCL clblast libprotobuf-c libxxhash libcjson zlib) -lm -lpthread
corpus=$bdir/fuzz-corpus-$mode
mkdir -p "$corpus" "$bdir/fuzz-artifacts-$mode"
if [ -z "$(ls -A "$corpus")" ]; then
  i=0
  if [ "$mode" = npy ]; then
    for m in $(find "$src/tests/data" -name '*.npy' -size -64k); do
      cp "$m" "$corpus/seed_$i.npy"
      i=$((i + 1))
    done
  else
    for m in /usr/share/libonnx-testdata/data/node/*/model.onnx "$src"/tests/models/*/model.onnx; do
      [ -f "$m" ] || continue
      [ "$(stat -c %s "$m")" -le 65536 ] || continue
      cp "$m" "$corpus/seed_$i.onnx"
      i=$((i + 1))
    done
    cp "$src"/tests/fuzz/corpus-crashes/* "$corpus/" 2>/dev/null || true
  fi
fi
export NNCL_CACHE_DIR="$bdir/kernel-cache" NNCL_FUZZ_MODE="$mode"
# fast_unwind_on_malloc=0: CLBlast's allocations come through libstdc++'s operator new, whose
# frames the fast unwinder cannot walk, so without full stacks tests/lsan.supp's libclblast line
# never matches its process-wide program cache (found as a "leak" of the first run mode input).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:fast_unwind_on_malloc=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Leaks owned by the OpenCL stack (PoCL's LLVM at exit) are not nncl's: the same suppressions as
# scripts/check-asan, and use_tls=0 for the same tracer crash.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$src/tests/lsan.supp:print_suppressions=0:use_tls=0}
exec "$bdir/fuzz_onnx_load" -max_total_time="$secs" -max_len=65536 -timeout=20 -rss_limit_mb=4096 \
  -artifact_prefix="$bdir/fuzz-artifacts-$mode/" "$corpus"
