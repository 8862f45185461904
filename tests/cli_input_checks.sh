#!/bin/sh
# cli_input_checks.sh NNCL TESTS_DIR: the CLI's own argument checks (issue 12, item 11): `nncl test`
# on a folder with a model but no data sets fails with a message (it once passed NULL to qsort,
# which UBSan reports in check-asan), the same input given twice to `nncl run` is an error, and
# `nncl train`'s numbers are checked (atof once read "--lr abc" as 0 and "--batch 0x" as 0), and so
# are the other commands' numeric flags, the bench tables' included (atoi read "--runs abc" as 0,
# "--top 3x" as 3).
set -u
nncl=$1
models=$2/models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "cli_input_checks: $*"; exit 1; }

mkdir "$tmp/no_sets"
cp "$models/loader_dim_param/model.onnx" "$tmp/no_sets/"
out=$("$nncl" test "$tmp/no_sets" 2>&1); rc=$?
[ "$rc" -ne 0 ] || fail "nncl test without data sets exited 0: $out"
echo "$out" | grep -q "no test_data_set_N folders" || fail "no message: $out"

in=$models/loader_dim_param/test_data_set_0/input_0.pb
name=X # the one input of loader_dim_param/model.onnx
out=$("$nncl" run "$models/loader_dim_param/model.onnx" --input "$name=$in" --input "$name=$in" 2>&1)
rc=$?
[ "$rc" -ne 0 ] || fail "the same input twice was accepted: $out"
echo "$out" | grep -q "given twice" || fail "no message for the repeated input: $out"

for bad in "--lr abc" "--lr -1" "--batch 0" "--batch 64x" "--epochs 1.5" "--momentum nan" \
           "--batch-axis 9" "--clip-norm 1e999"; do
  flag=${bad%% *}
  # shellcheck disable=SC2086 # the flag and its value are two words
  out=$("$nncl" train "$models/resnet_mini/model.onnx" --data fashion-mnist $bad 2>&1); rc=$?
  [ "$rc" -eq 2 ] || fail "train $bad: exit $rc (want 2): $out"
  echo "$out" | grep -q "nncl train: $flag takes a" || fail "train $bad: no message: $out"
done
m=$models/loader_dim_param/model.onnx
while IFS='|' read -r cmd flag args; do
  # shellcheck disable=SC2086 # the command and arguments are several words
  out=$("$nncl" $cmd $args 2>&1); rc=$?
  [ "$rc" -eq 2 ] || fail "$cmd $args: exit $rc (want 2): $out"
  echo "$out" | grep -q "nncl $cmd: $flag takes a" || fail "$cmd $args: no message: $out"
done <<EOF
profile|--runs|$m --runs abc
profile|--warmup|$m --warmup -1
classify|--top|$m x.png --top 3x
demo|--epochs|--epochs 0
demo|--batch|--batch 1.5
test|--rtol|$tmp --rtol -1
test|--atol|$tmp --atol abc
bench gemm|--size|--size 0
bench gemm|--runs|--runs 2x
bench conv|--runs|--runs abc
bench model|--warmup|$m --warmup -1
bench model|--batches|$m --batches 0
bench ops|--elements|--elements 10
bench rnn|--hidden|--hidden 5x
EOF
echo "cli_input_checks: ok"
