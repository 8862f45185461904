#!/bin/sh
# cli_input_checks.sh NNCL TESTS_DIR: the CLI's own argument checks (issue 12, item 11): `nncl test`
# on a folder with a model but no data sets fails with a message (it once passed NULL to qsort,
# which UBSan reports in check-asan), and the same input given twice to `nncl run` is an error.
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
echo "cli_input_checks: ok"
