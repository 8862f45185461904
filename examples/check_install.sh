#!/bin/sh
# check_install.sh: `meson install --destdir` into a temporary folder, then, from /tmp, what a user
# of the installed copy does: `nncl info` on an installed model, `nncl demo` finding its models
# next to the executable (../share/nncl/models), and an example compiled with the staged
# pkg-config file and run.
# usage: check_install.sh BUILD_DIR PREFIX LIBDIR DATADIR
set -eu
build=$1 prefix=$2 libdir=$3 datadir=$4
stage=$(mktemp -d /tmp/nncl-install-XXXXXX)
trap 'rm -rf "$stage"' EXIT
meson install -C "$build" --destdir "$stage" --no-rebuild --quiet
root=$stage$prefix
export LD_LIBRARY_PATH="$root/$libdir"
cd /tmp
nncl="$root/bin/nncl"
models="$root/$datadir/nncl/models"
test -f "$models/fashion_cnn.onnx" || { echo "models not installed in $models"; exit 1; }
test -f "$root/$datadir/doc/nncl/README.md" || { echo "docs not installed"; exit 1; }
"$nncl" info "$models/fashion_cnn.onnx" | grep -q '^output   logits' || { echo "nncl info failed"; exit 1; }
"$nncl" demo --out "$stage/demo-out" > "$stage/demo.txt" || { cat "$stage/demo.txt"; exit 1; }
grep -q "^Models: $root/bin/../$datadir/nncl/models" "$stage/demo.txt" || {
  echo "demo did not use the installed models:"; head -5 "$stage/demo.txt"; exit 1; }
# pkg-config from the staged prefix
export PKG_CONFIG_PATH="$root/$libdir/pkgconfig"
cc -std=c11 -o "$stage/run_model" "$root/$datadir/doc/nncl/examples/run_model.c" \
  $(pkg-config --define-variable=prefix="$root" --cflags --libs nncl)
"$stage/run_model" "$models/fashion_cnn.onnx" | grep -q '^logits float32 \[1, 10\]' || {
  echo "example built with pkg-config failed"; exit 1; }
echo "installed copy in $stage works from /tmp: nncl info, nncl demo, pkg-config + run_model"
