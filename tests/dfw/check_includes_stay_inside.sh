#!/bin/sh
# dfw_includes_stay_inside: dfw's sources include only the C++ library, dfw's own headers and
# platform/ — nothing else of the project. Usage: $0 <repository root>
set -eu
root="$1"
dfw="$root/dataplane-under-test/dfw"
[ -d "$dfw/src" ] || { echo "no dfw sources under $dfw" >&2; exit 2; }
# Quoted includes must resolve inside dataplane-under-test (dfw/src, dfw/include, platform).
bad=""
for f in $(find "$dfw/src" "$dfw/include" -name '*.h' -o -name '*.cc' | sort); do
  for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
    dir=$(dirname "$f")
    if [ -e "$dir/$inc" ] || [ -e "$dfw/src/$inc" ] || [ -e "$dfw/include/$inc" ] ||
       [ -e "$root/dataplane-under-test/platform/include/$inc" ]; then
      continue
    fi
    bad="$bad$f: #include \"$inc\"\n"
  done
  # Angle includes of project layers would be a dependency too.
  if grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(sim|models|scenarios|analysis|cli|segsim)/' "$f"; then
    bad="$bad$f: includes a project layer\n"
  fi
done
if [ -n "$bad" ]; then
  printf "dfw includes something outside dataplane-under-test:\n$bad" >&2
  exit 1
fi
echo "ok: dfw includes nothing outside dataplane-under-test"
