#!/usr/bin/env bash
# CI's check of openapi/openapi.json from a TypeScript client's side:
#   1. the pinned tools, exactly as package-lock.json has them (npm ci);
#   2. a client generated from the committed spec (openapi-typescript);
#   3. src/ (a frontend's login, filtered lists, PATCH with If-Match, a workflow
#      action, the XLSX download, problem+json errors) type-checked under strict;
#   4. Redocly's recommended ruleset over the spec: errors fail, warnings are listed.
# Needs Node >= 20.19 and npm; openapi-typescript 7 needs TypeScript 5.
set -euo pipefail
cd "$(dirname "$0")"

echo "== node $(node --version), npm $(npm --version)"
npm ci --no-audit --no-fund

# Each step runs even when an earlier one failed, so the lint listing is
# always printed; the script fails at the end if any step did.
failed=()

echo "== generate src/schema.d.ts from openapi/openapi.json"
# openapi-typescript validates with the same redocly.yaml and stops on an error.
rm -f src/schema.d.ts
npm run --silent generate || failed+=(generate)

echo "== tsc --strict"
if [[ -f src/schema.d.ts ]] && npm run --silent typecheck; then
    echo "typecheck: no errors"
else
    failed+=(typecheck)
fi

echo "== redocly lint (recommended)"
# Each problem, then the counts; non-zero on any error (warnings pass).
npm run --silent lint || failed+=(lint)

if ((${#failed[@]})); then
    echo "FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "client check: generate, typecheck and lint passed"
