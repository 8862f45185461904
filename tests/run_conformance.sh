#!/bin/sh
# run_conformance.sh NNCL LIST ROOT: runs `nncl test` over every folder listed in LIST (paths
# relative to ROOT, the libonnx-testdata data folder; '#' starts a comment). A listed folder
# that does not exist is a failure, not a skip: the list only grows.
set -eu
nncl=$1 list=$2 root=$3
if [ ! -d "$root" ]; then
  echo "run_conformance.sh: $root is missing (Debian package libonnx-testdata)" >&2
  exit 1
fi
set --
missing=0
while IFS= read -r line || [ -n "$line" ]; do
  dir=${line%%#*}
  dir=$(printf '%s' "$dir" | tr -d '[:space:]')
  [ -n "$dir" ] || continue
  if [ ! -f "$root/$dir/model.onnx" ]; then
    echo "FAIL $root/$dir: listed in $list but has no model.onnx"
    missing=$((missing + 1))
    continue
  fi
  set -- "$@" "$root/$dir"
done < "$list"
[ "$#" -gt 0 ] || { echo "run_conformance.sh: $list lists nothing" >&2; exit 1; }
status=0
"$nncl" test "$@" || status=$?
[ "$missing" -eq 0 ] || { echo "$missing listed folders are missing"; exit 1; }
exit "$status"
