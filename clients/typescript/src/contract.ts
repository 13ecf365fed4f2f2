// Type-level expectations about the generated client. Nothing here runs:
// `npm run typecheck` fails if the spec stops guaranteeing one of them
// (an `@ts-expect-error` that no longer finds an error is itself an error).

import type { Client } from "openapi-fetch";
import type { components, paths } from "./schema";

type Schemas = components["schemas"];

/** True when A and B are mutually assignable. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <T extends true>(): T | undefined => undefined;

/** A list's items are exactly the resource's schema (pages may be renamed; items may not drift). */
type PageItem<P extends keyof paths> = paths[P] extends {
  get: { responses: { 200: { content: { "application/json": { items: (infer I)[] } } } } };
}
  ? I
  : never;
same<Same<PageItem<"/api/v1/findings">, Schemas["Finding"]>>();
same<Same<PageItem<"/api/v1/assignments">, Schemas["Assignment"]>>();
same<Same<PageItem<"/api/v1/closure-requests">, Schemas["ClosureRequest"]>>();

/** Every page carries `next_cursor: string | null`. */
type Cursor<P extends keyof paths> = paths[P] extends {
  get: { responses: { 200: { content: { "application/json": { next_cursor: infer C } } } } };
}
  ? C
  : never;
same<Same<Cursor<"/api/v1/findings">, string | null>>();

/** A problem document's fields as a client reads them. */
same<Same<Schemas["Problem"]["status"], number>>();
same<Same<Schemas["Problem"]["errors"], Schemas["FieldError"][] | undefined>>();

export async function expectations(client: Client<paths>): Promise<void> {
  // PATCH needs If-Match.
  // @ts-expect-error -- the header parameter is required
  await client.PATCH("/api/v1/findings/{id}", { params: { path: { id: 1 } }, body: {} });

  // Status filters are the enum, not any string.
  // @ts-expect-error -- "done" is not a FindingStatus
  await client.GET("/api/v1/findings", { params: { query: { status: ["done"] } } });

  // The XLSX export read as a Blob.
  const xlsx = await client.GET("/api/v1/inspections/{id}/export", {
    params: { path: { id: 1 }, query: { format: "xlsx" } },
    parseAs: "blob",
  });
  if (xlsx.data !== undefined) {
    const blob: Blob = xlsx.data;
    void blob;
  }

  // Errors of a declared operation are typed as the problem document.
  const token = await client.POST("/api/v1/auth/token", {
    body: { username: "u", password: "p" },
  });
  if (token.error !== undefined) {
    const status: number = token.error.status;
    const detail: string = token.error.detail;
    void [status, detail];
  }
}
