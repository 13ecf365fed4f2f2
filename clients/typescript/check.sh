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

echo "== generate src/schema.d.ts from openapi/openapi.json"
npm run --silent generate

echo "== tsc --strict"
npm run --silent typecheck
echo "typecheck: no errors"

echo "== redocly lint (recommended)"
# Redocly lists each problem, then the counts; it exits non-zero on any error.
npm run --silent lint
