"""Schemathesis hooks for the Rectify fuzz run (loaded through SCHEMATHESIS_HOOKS=hooks).

Two things live here, each listed with its reason in README.md beside this file:

1. `before_call`: every webhook URL the fuzzer sends is replaced by a loopback address
   before the request leaves, so that no webhook the run creates can ever deliver outside
   this machine (the server runs with RECTIFY_WEBHOOK_ALLOW_PRIVATE=true so that loopback
   is accepted and the webhook operations get real ids to work on); and a valid
   Idempotency-Key becomes a fresh one, so that creating requests are not all refused as
   reuses of the spec's example key.

2. `rectify_positive_data_acceptance`: the built-in `positive_data_acceptance` check, run
   as is, except that a rejection listed in ACCEPTED below is not a failure. Each entry is
   a rejection of a schema-valid request that no JSON Schema can predict: it depends on
   the database's state, on today's date, on another field, or on a signature. The script
   runs this check in place of the built-in one (`--exclude-checks positive_data_acceptance`);
   every other rejection of schema-valid data still fails the run.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Callable

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

# Port 9 (discard): nothing listens there, so a delivery fails at once, on loopback.
LOOPBACK_WEBHOOK_URL = "http://127.0.0.1:9/rectify-fuzz"


# The spec's Idempotency-Key pattern: printable ASCII and tabs, not blank.
IDEMPOTENCY_KEY = re.compile(r"^[\t -~]*[!-~][\t -~]*$")


@schemathesis.hook
def before_call(context, case, kwargs):
    """Edits made just before a request leaves. Schemathesis re-validates the case after
    them, so a case stays negative only if something else in it is invalid."""
    # Webhook targets: only loopback.
    body = case.body
    if case.path.startswith("/api/v1/webhooks") and isinstance(body, dict) and isinstance(body.get("url"), str):
        body["url"] = LOOPBACK_WEBHOOK_URL
    # A valid Idempotency-Key becomes a fresh one. The fuzzer sends the spec's example key
    # with every creating POST; the server (rightly) refuses a key reused for a different
    # request for 24 hours, so after the first create every other one would be a 422 and
    # the run would create almost nothing to work on.
    # Not in a "missing header" case: an edited header container is re-validated with the
    # token in it, which would relabel a "missing Authorization" case as positive and send it
    # with the token.
    data = getattr(getattr(case.meta, "phase", None), "data", None)
    if getattr(data, "scenario", None) == "missing_parameter" and getattr(data, "parameter_location", None) == "header":
        return
    for name, value in list((case.headers or {}).items()):
        if name.lower() == "idempotency-key" and isinstance(value, str) and len(value) <= 255 \
                and IDEMPOTENCY_KEY.search(value):
            case.headers[name] = str(uuid.uuid4())


@dataclass(frozen=True)
class Accepted:
    name: str
    status: int
    problem_type: str  # the `type` of the application/problem+json answer
    detail: str  # a regular expression searched in `detail` (or in one of `errors[].message`)
    reason: str
    also: Callable[[Any, dict], bool] | None = None  # a further condition on (case, problem)


def _integral_float_sent(case, problem: dict) -> bool:
    """The field named in the error was sent as a number with a fraction part equal to zero."""
    for error in problem.get("errors") or []:
        m = re.search(r"floating point `([^`]+)`", error.get("message", ""))
        if m:
            try:
                if float(m.group(1)).is_integer():
                    return True
            except ValueError:
                pass
    return False


def _a_header_violates_its_schema(case, problem: dict) -> bool:
    """A header the case sent does not match the `pattern` the spec declares for it: the
    case is negative, whatever its label says (the coverage phase labels a case by the
    component it varies, and may pair a positive path with a negative header)."""
    sent = {k.lower(): v for k, v in (case.headers or {}).items()}
    for param in case.operation.headers:
        definition = param.definition
        pattern = (definition.get("schema") or {}).get("pattern")
        value = sent.get(definition["name"].lower())
        if pattern and isinstance(value, str) and re.search(pattern, value) is None:
            return True
    return False


# Rejections of schema-valid requests that are the contract, not a gap in the spec.
# Keep README.md's table in step with this list.
ACCEPTED: list[Accepted] = [
    Accepted(
        "forged-cursor",
        400,
        "/problems/bad-request",
        r"^the cursor is invalid; start again without it$",
        "A cursor is opaque and HMAC-signed (the spec says: one made up or changed is a 400). "
        "The pattern declares its shape; only the server can make a valid one.",
    ),
    Accepted(
        "header-outside-its-pattern",
        400,
        "/problems/bad-request",
        r"^If-Match must be ",
        "The If-Match value sent does not match the declared pattern: a negative case that "
        "the coverage phase labelled positive (it varied the path id and drew the header from "
        "its negative strategy). Accepted only when the sent value really violates the pattern.",
        _a_header_violates_its_schema,
    ),
    Accepted(
        "stale-etag",
        412,
        "/problems/precondition-failed",
        r"^the resource has changed since it was read",
        "Optimistic concurrency: a well-formed If-Match that is not the resource's current "
        "ETag is refused. Which version is current is state, not schema.",
    ),
    Accepted(
        "no-such-referenced-row",
        422,
        "/problems/validation",
        r"^(no such |the user does not belong to the responsible unit|the user's unit cannot see"
        r"|the user is neither an officer nor a leader|neither unit lies in your org scope"
        r"|this unit cannot see the inspection|the assignee does not belong to this unit)",
        "Referenced ids (units, inspections, sections, users) must exist and be visible to the "
        "caller: database state, not something a schema can say.",
    ),
    Accepted(
        "cross-field-or-clock",
        422,
        "/problems/validation",
        r"^(must not be before (started_on|ended_on|feedback_on)|must not be after the finding's due_on"
        r"|must be after the current due_on|must not be in the past)",
        "Dates ordered against another field, the stored due date or today's date "
        "(documented in each field's description).",
    ),
    Accepted(
        "state-rule",
        422,
        "/problems/validation",
        r"^(a unit cannot move below itself|a section cannot move below itself|sections nest at most"
        r"|you cannot remove your own admin role|you cannot deactivate yourself"
        r"|the finding has no responsible unit|an open assignment of this finding is due on "
        r"|is required to answer|no number is left after the highest given one)",
        "Rules on the current tree, the caller or other rows (no cycles, the last admin keeps the "
        "role, a notice needs the finding's responsible unit, a finding's due date not before its "
        "open assignments'): state.",
    ),
    Accepted(
        "reject-needs-comment",
        422,
        "/problems/validation",
        r"^is required to reject",
        "A rule across two fields: `comment` is required when `decision` is `reject` (the "
        "operation's description says so). JSON Schema could state it only with if/then, which "
        "the generator does not follow.",
    ),
    Accepted(
        "username-letters",
        422,
        "/problems/validation",
        r"^must be 2–64 letters, digits",
        "A username's letters are Unicode letters and digits (Rust's char::is_alphanumeric). The "
        "declared pattern approximates that by refusing controls, spaces and ASCII punctuation "
        "but `.`, `_`, `-`, `@`: Python's regex engine, which generates the cases, has no \\p{L}. "
        "Other symbols (U+00B7, unassigned code points) pass the pattern and are refused.",
    ),
    Accepted(
        "credit-code-check-character",
        422,
        "/problems/validation",
        r"^the check character should be ",
        "GB 32100-2015 check character (a weighted checksum mod 31); the pattern declares the "
        "shape, and no regular expression can say the checksum.",
    ),
    Accepted(
        "ledger-without-findings",
        422,
        "/problems/validation",
        r"^the ledger holds no findings$",
        "POST /inspections/import: a ledger must hold at least one finding somewhere in its "
        "category → aspect tree (`findings`, or `sections[].findings`, `sections[].children[]…`). "
        "Every part is optional on its own; only a recursive `contains` could say it.",
    ),
    Accepted(
        "text-ledger-without-problems",
        422,
        "/problems/validation",
        r"^no numbered problems: none of the document's [0-9]+ line\(s\) starts with a heading number"
        r"|: this is a ledger sheet's header \(",
        "POST /inspections/import with a text document: the text must contain numbered problems "
        "((1) or 1.) to import; what free text says is not for a schema.",
    ),
    Accepted(
        "sheet-without-a-ledger",
        422,
        "/problems/validation",
        r"^no header row among the first 30 rows|^the sheet has no rows of problems below its header"
        r"|^row [0-9]+: no column holds the problems|^the workbook has no (visible )?worksheet"
        r"|^the sheet has no row [0-9]+ \(it has|^no column `[^`]*`: name one by its letter"
        r"|^the workbook has no worksheet 「|^the Word file holds more than",
        "POST /inspections/import with a CSV/TSV/XLSX/DOCX body: a ledger sheet needs a header "
        "row naming its columns, and `header_row`/`columns`/`sheet` must name what is there: "
        "what the cells say is not for a schema.",
    ),
    Accepted(
        "office-body-not-a-file",
        400,
        "/problems/bad-request",
        r"^the body is not (a readable XLSX workbook|a ZIP package, as every (XLSX|DOCX) file is)"
        r"|^the ZIP package holds no word/document\.xml|^the (XLSX|DOCX) (file|package)",
        "POST /inspections/import with an XLSX or DOCX media type: the body must be such a file "
        "(a ZIP package); the generator sends arbitrary bytes (`format: binary`).",
    ),
    Accepted(
        "ledger-parameters-for-text-only",
        400,
        "/problems/bad-request",
        r"^query parameter `[a-z_]+` is for documents and sheets: a JSON ledger carries its own inspection$"
        r"|^query parameter `[a-z_]+` is for spreadsheets \(|^query parameter `sheet` is for XLSX workbooks$"
        r"|^query parameter `[a-z_]+` is for a ledger table, and this Word file has none",
        "POST /inspections/import: the document parameters apply to documents and sheets, the "
        "sheet parameters to sheets only; OpenAPI cannot tie query parameters to one request "
        "media type (the spec says so in each).",
    ),
    Accepted(
        "integral-float-for-integer",
        422,
        "/problems/validation",
        r"invalid type: floating point `[^`]+`, expected i(32|64)",
        "JSON Schema counts 2.0 as an integer; the server (serde) wants integers written without "
        "a fraction, as every JSON encoder writes them. No schema keyword can say so.",
        _integral_float_sent,
    ),
]

_LOG = os.environ.get("RECTIFY_FUZZ_ACCEPTED_LOG")
_LOCK = threading.Lock()
_SEEN: set[tuple[str, str]] = set()


def _note(rule: str, label: str) -> None:
    if not _LOG:
        return
    with _LOCK:
        if (rule, label) in _SEEN:
            return
        _SEEN.add((rule, label))
        with open(_LOG, "a", encoding="utf-8") as f:
            f.write(f"{rule}\t{label}\n")


def _problem(response) -> dict | None:
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _accepted(case, response) -> str | None:
    problem = _problem(response)
    if problem is None:
        return None
    texts = [problem.get("detail") or ""] + [e.get("message", "") for e in problem.get("errors") or []]
    for rule in ACCEPTED:
        if response.status_code != rule.status or problem.get("type") != rule.problem_type:
            continue
        if not any(re.search(rule.detail, t) for t in texts):
            continue
        # A 422 with several errors is accepted only if every one of them is accepted.
        if len(problem.get("errors") or []) > 1 and not all(
            any(re.search(r.detail, e.get("message", "")) for r in ACCEPTED if r.status == 422)
            for e in problem["errors"]
        ):
            return None
        if rule.also is not None and not rule.also(case, problem):
            continue
        return rule.name
    return None


@schemathesis.check
def rectify_positive_data_acceptance(ctx, response, case):
    """`positive_data_acceptance`, less the rejections listed in ACCEPTED."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        rule = _accepted(case, response)
        if rule is None:
            raise
        _note(rule, case.operation.label)
        return None
