// What a frontend writes against Rectify with a client generated from
// openapi/openapi.json (openapi-typescript) and openapi-fetch. CI type-checks
// it under `tsc --strict`: when the spec changes in a way that breaks one of
// these calls, CI fails here before a frontend finds out.
//
// Only stable component names are used (`Finding`, `Problem`, …); pages are
// reached through `paths[...]`, never by their component name.

import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
export type Finding = Schemas["Finding"];
export type FindingPatch = Schemas["FindingPatch"];
export type FindingStatus = Schemas["FindingStatus"];
export type Assignment = Schemas["Assignment"];
export type ClosureRequest = Schemas["ClosureRequest"];
export type NewDecision = Schemas["NewDecision"];
export type Problem = Schemas["Problem"];
export type FieldError = Schemas["FieldError"];

/** The filters of `GET /api/v1/findings`, as the spec declares them. */
export type FindingFilter = Omit<
  NonNullable<paths["/api/v1/findings"]["get"]["parameters"]["query"]>,
  "cursor"
>;

export type RectifyClient = Client<paths>;

// ---------------------------------------------------------------------------
// Errors: every error is application/problem+json (RFC 9457).

/** Narrows what openapi-fetch hands back as `error` to a problem document. */
export function isProblem(value: unknown): value is Problem {
  return (
    typeof value === "object" &&
    value !== null &&
    "status" in value &&
    typeof value.status === "number" &&
    "title" in value &&
    typeof value.title === "string" &&
    "type" in value &&
    typeof value.type === "string"
  );
}

/** A failed call: the HTTP status and, when the body was one, the problem document. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | undefined;

  constructor(response: Response, error: unknown) {
    const problem = isProblem(error) ? error : undefined;
    super(
      problem !== undefined
        ? `${problem.status} ${problem.title}: ${problem.detail}`
        : `${response.status} ${response.statusText}`,
    );
    this.name = "ApiError";
    this.status = response.status;
    this.problem = problem;
  }

  /** Per-field messages of a validation problem (422), keyed by field. */
  fieldErrors(): Map<string, string[]> {
    const byField = new Map<string, string[]>();
    for (const { field, message } of this.problem?.errors ?? []) {
      const messages = byField.get(field) ?? [];
      messages.push(message);
      byField.set(field, messages);
    }
    return byField;
  }
}

/**
 * The data of a successful call, or an ApiError. openapi-fetch returns
 * `{ data }` for 2xx and `{ error }` otherwise; `error` is typed as the
 * declared problem+json body but is whatever the body parsed to (an empty
 * string for a body-less answer), so it is checked, not trusted.
 */
async function ok<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok || error !== undefined || data === undefined) {
    throw new ApiError(response, error);
  }
  return data;
}

// ---------------------------------------------------------------------------
// The client and signing in.

/** An openapi-fetch client for `baseUrl` (e.g. `https://rectify.example/`) that sends the token once set. */
export function connect(baseUrl: string): {
  client: RectifyClient;
  setToken: (token: string | undefined) => void;
} {
  let token: string | undefined;
  const client = createClient<paths>({ baseUrl });
  client.use({
    onRequest({ request }) {
      if (token !== undefined) {
        request.headers.set("Authorization", `Bearer ${token}`);
      }
      return request;
    },
  });
  return {
    client,
    setToken: (next) => {
      token = next;
    },
  };
}

/** Exchanges a username and password for a bearer token (POST /api/v1/auth/token). */
export async function logIn(
  client: RectifyClient,
  username: string,
  password: string,
): Promise<{ token: string; expiresAt: Date }> {
  const issued = await ok(
    client.POST("/api/v1/auth/token", { body: { username, password } }),
  );
  return {
    token: issued.access_token,
    expiresAt: new Date(Date.now() + issued.expires_in * 1000),
  };
}

// ---------------------------------------------------------------------------
// Lists: `{ items, next_cursor }`, followed until `next_cursor` is null.

/** Every finding matching `filter`, page after page. */
export async function* findings(
  client: RectifyClient,
  filter: FindingFilter,
): AsyncGenerator<Finding, void, undefined> {
  let cursor: string | undefined;
  do {
    const page = await ok(
      client.GET("/api/v1/findings", {
        params: { query: { ...filter, cursor } },
      }),
    );
    yield* page.items;
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined);
}

/** Collects an async iterable (the lists are small enough for a screen). */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) {
    all.push(item);
  }
  return all;
}

// ---------------------------------------------------------------------------
// Reading and changing one resource: ETag / If-Match.

/** A resource together with the ETag to send back as `If-Match`. */
export interface Versioned<T> {
  value: T;
  etag: string;
}

/** The ETag of a response, or the one the service derives from `version` (`"<version>"`). */
function etagOf(response: Response, version: number): string {
  return response.headers.get("ETag") ?? `"${version}"`;
}

export async function getFinding(
  client: RectifyClient,
  id: number,
): Promise<Versioned<Finding>> {
  const { data, error, response } = await client.GET("/api/v1/findings/{id}", {
    params: { path: { id } },
  });
  if (error !== undefined || data === undefined) {
    throw new ApiError(response, error);
  }
  return { value: data, etag: etagOf(response, data.version) };
}

/** PATCHes a finding's descriptive fields; `If-Match` is required (428 without it, 412 when stale). */
export async function updateFinding(
  client: RectifyClient,
  current: Versioned<Finding>,
  changes: FindingPatch,
): Promise<Versioned<Finding>> {
  const { data, error, response } = await client.PATCH("/api/v1/findings/{id}", {
    params: {
      path: { id: current.value.id },
      header: { "If-Match": current.etag },
    },
    body: changes,
  });
  if (error !== undefined || data === undefined) {
    throw new ApiError(response, error);
  }
  return { value: data, etag: etagOf(response, data.version) };
}

// ---------------------------------------------------------------------------
// Workflow actions.

/** Claims the first unassigned assignment of a finding (认领) for the caller, if there is one. */
export async function claimFirstOpenAssignment(
  client: RectifyClient,
  findingId: number,
): Promise<Assignment | undefined> {
  const page = await ok(
    client.GET("/api/v1/findings/{id}/assignments", {
      params: { path: { id: findingId } },
    }),
  );
  const open = page.items.find((a) => a.status === "unassigned");
  if (open === undefined) {
    return undefined;
  }
  return ok(
    client.POST("/api/v1/assignments/{id}/claim", {
      params: {
        path: { id: open.id },
        header: { "If-Match": `"${open.version}"` },
      },
    }),
  );
}

/** Decides the current step of every closure request waiting for the caller. */
export async function decideAwaitingClosures(
  client: RectifyClient,
  decide: (request: ClosureRequest) => NewDecision,
): Promise<ClosureRequest[]> {
  const decided: ClosureRequest[] = [];
  let cursor: string | undefined;
  do {
    const page = await ok(
      client.GET("/api/v1/closure-requests", {
        params: { query: { awaiting: "me", status: ["pending"], cursor } },
      }),
    );
    for (const request of page.items) {
      const decision = decide(request);
      decided.push(
        await ok(
          client.POST("/api/v1/closure-requests/{id}/decisions", {
            params: {
              path: { id: request.id },
              header: { "If-Match": `"${request.version}"` },
            },
            body: { ...decision, step: request.current_step },
          }),
        ),
      );
    }
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined);
  return decided;
}

// ---------------------------------------------------------------------------
// Documents: the ledger (台账) as XLSX.

export interface Download {
  blob: Blob;
  filename: string;
}

/** GET /api/v1/inspections/{id}/export?format=xlsx, as a Blob to save. */
export async function downloadLedgerXlsx(
  client: RectifyClient,
  inspectionId: number,
): Promise<Download> {
  const { data, error, response } = await client.GET(
    "/api/v1/inspections/{id}/export",
    {
      params: { path: { id: inspectionId }, query: { format: "xlsx" } },
      headers: {
        Accept: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
      },
      parseAs: "blob",
    },
  );
  if (error !== undefined || data === undefined) {
    throw new ApiError(response, error);
  }
  const blob: Blob = data;
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const named = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  const filename =
    named?.[1] !== undefined
      ? decodeURIComponent(named[1])
      : `ledger-${inspectionId}.xlsx`;
  return { blob, filename };
}

// ---------------------------------------------------------------------------
// Showing a problem to a person.

export function describeProblem(problem: Problem): string {
  const lines = [`${problem.status} ${problem.title}`, problem.detail];
  for (const { field, message } of problem.errors ?? []) {
    lines.push(`  ${field}: ${message}`);
  }
  return lines.join("\n");
}

/** What the screen does with a failed PATCH, by the problem's status. */
export function explainPatchFailure(err: unknown): string {
  if (!(err instanceof ApiError) || err.problem === undefined) {
    return `unexpected failure: ${String(err)}`;
  }
  const problem = err.problem;
  switch (problem.status) {
    case 412:
      return "Someone else changed this finding; reload it and apply your change again.";
    case 422:
      return [...err.fieldErrors()]
        .map(([field, messages]) => `${field}: ${messages.join("; ")}`)
        .join("\n");
    default:
      return describeProblem(problem);
  }
}

// ---------------------------------------------------------------------------
// The whole flow, as the sample data (`rectify demo`) allows it.

export interface Summary {
  openFindings: number;
  patched: { id: number; version: number } | undefined;
  staleWriteRefused: string | undefined;
  invalidWriteRefused: string | undefined;
  claimed: number | undefined;
  decided: number;
  ledger: { filename: string; bytes: number } | undefined;
  unauthenticated: string;
}

/**
 * Signs in as the sample data's inspector, officer and leader in turn and
 * walks a finding through the calls a frontend makes.
 */
export async function main(
  baseUrl: string,
  password = "rectify-demo-password",
): Promise<Summary> {
  const inspector = connect(baseUrl);

  // A call without a token: 401, a problem document.
  let unauthenticated = "";
  const anonymous = await inspector.client.GET("/api/v1/auth/me");
  if (anonymous.error !== undefined) {
    const problem: unknown = anonymous.error;
    unauthenticated = isProblem(problem)
      ? describeProblem(problem)
      : `${anonymous.response.status}`;
  }

  inspector.setToken((await logIn(inspector.client, "inspector", password)).token);
  const me = await ok(inspector.client.GET("/api/v1/auth/me"));

  // The open work of the first inspection, every page of it.
  const inspections = await ok(
    inspector.client.GET("/api/v1/inspections", { params: { query: { limit: 1 } } }),
  );
  const inspection = inspections.items[0];
  const open =
    inspection === undefined
      ? []
      : await collect(
          findings(inspector.client, {
            inspection_id: inspection.id,
            status: ["open", "in_progress"],
            sort: "due_on",
            limit: 10,
          }),
        );

  // Read, change, and see a stale or invalid change refused.
  let patched: Summary["patched"];
  let staleWriteRefused: string | undefined;
  let invalidWriteRefused: string | undefined;
  const first = open[0];
  if (first !== undefined) {
    const current = await getFinding(inspector.client, first.id);
    const updated = await updateFinding(inspector.client, current, {
      measures: `${current.value.measures ?? ""}\n(checked by ${me.display_name})`.trim(),
    });
    patched = { id: updated.value.id, version: updated.value.version };
    try {
      await updateFinding(inspector.client, current, { title: current.value.title });
    } catch (err) {
      staleWriteRefused = explainPatchFailure(err);
    }
    try {
      await updateFinding(inspector.client, updated, { title: "" });
    } catch (err) {
      invalidWriteRefused = explainPatchFailure(err);
    }
  }

  // An officer claims work; a leader decides what waits for them.
  let claimed: number | undefined;
  if (first !== undefined) {
    const officer = connect(baseUrl);
    officer.setToken((await logIn(officer.client, "officer", password)).token);
    try {
      claimed = (await claimFirstOpenAssignment(officer.client, first.id))?.id;
    } catch (err) {
      // Out of the officer's scope, or claimed meanwhile: shown, not fatal.
      if (!(err instanceof ApiError) || (err.status !== 403 && err.status !== 404 && err.status !== 409)) {
        throw err;
      }
    }
  }
  const leader = connect(baseUrl);
  leader.setToken((await logIn(leader.client, "leader", password)).token);
  const decided = await decideAwaitingClosures(leader.client, (request) =>
    request.evidence.length > 0
      ? { decision: "approve" }
      : { decision: "reject", comment: "请补充整改佐证材料" },
  );

  const ledger =
    inspection === undefined
      ? undefined
      : await downloadLedgerXlsx(inspector.client, inspection.id);

  return {
    openFindings: open.length,
    patched,
    staleWriteRefused,
    invalidWriteRefused,
    claimed,
    decided: decided.length,
    ledger: ledger && { filename: ledger.filename, bytes: ledger.blob.size },
    unauthenticated,
  };
}
