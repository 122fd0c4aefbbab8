#!/bin/sh
# dfw_no_project_symbols: the dfw archive must not need any symbol of the project outside
# dataplane-under-test/ (the simulator, models, scenarios, analysis, cli). Usage: $0 libdfw.a
set -eu
archive="$1"
[ -f "$archive" ] || { echo "no archive: $archive" >&2; exit 2; }
undefined=$(nm -C --undefined-only "$archive" | sed -n 's/^[[:space:]]*[Uw][[:space:]]\{1,\}//p' | sort -u)
[ -n "$undefined" ] || { echo "nm found no undefined symbols in $archive: cannot check" >&2; exit 2; }
bad=$(printf '%s\n' "$undefined" | grep -E '(^|[^A-Za-z0-9_])(sim|models|scenarios|analysis|segsim|cli|controller|agent)::' || true)
if [ -n "$bad" ]; then
  echo "libdfw.a needs project symbols from outside dataplane-under-test:" >&2
  printf '%s\n' "$bad" >&2
  exit 1
fi
echo "ok: $(printf '%s\n' "$undefined" | wc -l) undefined symbols, none from the project outside dataplane-under-test"
