#!/bin/sh
# cli_precision_check.sh NNCL MODELS_DIR: --precision on the model commands. fp16 fails (exit 1)
# with the reason on stderr, never a silent fp32 run: on a device without cl_khr_fp16 (PoCL's CPU
# device) the message names the device and the extension. fp32 and fp16-storage run and agree on
# the top class; a bad value is refused.
set -u
nncl=$1
model=$2/fashion_cnn.onnx
fail() { echo "cli_precision_check: $*"; exit 1; }

# the device the commands open (the default) and whether it has the extension
info=$("$nncl" devices --json | /usr/bin/python3 -c '
import json, sys
d = [x for x in json.load(sys.stdin)["devices"] if x["default"]][0]
print(int(d["fp16"]), d["name"])') || fail "nncl devices --json: no default device"
has_fp16=${info%% *}
device=${info#* }

for cmd in "run" "info" "profile" "bench model"; do
  # shellcheck disable=SC2086 # $cmd is two words for bench model
  out=$("$nncl" $cmd "$model" --precision fp16 2>&1); rc=$?
  if [ "$has_fp16" = 1 ]; then # fp16 is fp16-storage's path there
    [ "$rc" -eq 0 ] || fail "nncl $cmd --precision fp16 exited $rc on a cl_khr_fp16 device: $out"
    continue
  fi
  [ "$rc" -eq 1 ] || fail "nncl $cmd --precision fp16 exited $rc, expected 1: $out"
  echo "$out" | grep -q "graph.precision=fp16" || fail "nncl $cmd: no reason given: $out"
  echo "$out" | grep -q "cl_khr_fp16" || fail "nncl $cmd: extension not named: $out"
  echo "$out" | grep -qF "$device" || fail "nncl $cmd: device '$device' not named: $out"
done

out=$("$nncl" run "$model" --precision fp32 2>&1); rc=$?
[ "$rc" -eq 0 ] || fail "nncl run --precision fp32 exited $rc: $out"
# fp16-storage runs on any device; on the same (seeded) random input its top class is fp32's
top32=$(echo "$out" | sed -n 's/.*row 0 top-5: *\([0-9]*\) .*/\1/p' | head -n 1)
out=$("$nncl" run "$model" --precision fp16-storage 2>&1); rc=$?
[ "$rc" -eq 0 ] || fail "nncl run --precision fp16-storage exited $rc: $out"
top16=$(echo "$out" | sed -n 's/.*row 0 top-5: *\([0-9]*\) .*/\1/p' | head -n 1)
[ -n "$top32" ] && [ "$top32" = "$top16" ] ||
  fail "fp16-storage top class '$top16' differs from fp32's '$top32': $out"
out=$("$nncl" run "$model" --precision=bf16 2>&1); rc=$?
[ "$rc" -ne 0 ] || fail "--precision bf16 was accepted: $out"
echo "$out" | grep -q "fp16" || fail "--precision bf16: allowed values not listed: $out"
echo "cli_precision_check: ok"
