// Runs main() against a live server: `npm run build && node dist/run.js http://127.0.0.1:8080`
// (Node 20 cannot run TypeScript directly). Not run in CI, which has no server.
// On a database filled by `rectify demo` (users inspector, officer, leader).

import { ApiError, describeProblem, main } from "./workflow.js";

// The two Node globals used here, declared rather than pulling in @types/node:
// the program itself is browser code (lib DOM).
declare const process: {
  argv: string[];
  env: Record<string, string | undefined>;
  exitCode: number | undefined;
};

const baseUrl = process.argv[2] ?? "http://127.0.0.1:8080";
const password = process.env["RECTIFY_DEMO_PASSWORD"];

try {
  const summary = await main(baseUrl, password);
  console.log(JSON.stringify(summary, null, 2));
} catch (err) {
  console.error(
    err instanceof ApiError && err.problem !== undefined
      ? describeProblem(err.problem)
      : err,
  );
  process.exitCode = 1;
}
