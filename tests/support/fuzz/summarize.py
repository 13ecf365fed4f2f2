"""Summarises one schemathesis NDJSON report: requests sent, answers by status, and each
distinct failure (check, operation, status, problem detail) with one reproduction.

usage: python summarize.py REPORT.ndjson [ACCEPTED_LOG]
"""

from __future__ import annotations

import base64
import collections
import json
import re
import sys


def _body(message: dict | None) -> str:
    if not message:
        return ""
    content = message.get("content") or message.get("body")
    if not content:
        return ""
    if "$base64" in content:
        return base64.b64decode(content["$base64"]).decode("utf-8", "replace")
    return str(content.get("string", ""))


def _detail(text: str) -> str:
    try:
        detail = json.loads(text).get("detail", "")
    except (ValueError, AttributeError):
        detail = text[:120]
    detail = re.sub(r"`[^`]*`", "`…`", str(detail))
    return re.sub(r"\d+", "N", detail)


def _curl(request: dict) -> str:
    parts = ["curl", "-X", request["method"]]
    for name, values in request.get("headers", {}).items():
        if name.lower() in ("user-agent", "accept-encoding", "accept", "connection", "content-length"):
            continue
        for value in values:
            if name.lower() == "authorization":
                value = "Bearer $TOKEN"
            parts += ["-H", f"'{name}: {value}'"]
    body = _body(request)
    if body:
        parts += ["-d", "'" + body.replace("'", "'\\''") + "'"]
    parts.append(f"'{request['uri']}'")
    return " ".join(parts)


def main() -> None:
    requests = 0
    statuses: collections.Counter[int] = collections.Counter()
    failures: dict[tuple, list] = collections.defaultdict(list)
    for line in open(sys.argv[1], encoding="utf-8"):
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        interactions = recorder.get("interactions", {})
        requests += len(interactions)
        for interaction in interactions.values():
            if interaction.get("response"):
                statuses[interaction["response"]["status_code"]] += 1
        for case_id, checks in recorder.get("checks", {}).items():
            for check in checks:
                if check["status"] != "failure":
                    continue
                interaction = interactions.get(case_id) or {}
                response = interaction.get("response") or {}
                case = recorder.get("cases", {}).get(case_id, {}).get("value", {})
                operation = f"{case.get('method', '?')} {case.get('path', '?')}"
                key = (check["name"], response.get("status_code"), _detail(_body(response)))
                failures[key].append((operation, finished.get("phase"), interaction))

    print(f"requests: {requests}")
    print("answers: " + ", ".join(f"{code}×{n}" for code, n in sorted(statuses.items())))
    if failures:
        print(f"distinct failures: {len(failures)}")
    for (check, status, detail), cases in sorted(failures.items(), key=lambda kv: (kv[0][0], str(kv[0][1]), kv[0][2])):
        operations = sorted({op for op, _, _ in cases})
        print(f"- {check}: {status} {detail!r} ({len(cases)} cases; {', '.join(operations)})")
        operation, phase, interaction = cases[0]
        if interaction.get("request"):
            print(f"    {phase}: {_curl(interaction['request'])}")
            print(f"    -> {_body(interaction.get('response'))[:300]}")
    if len(sys.argv) > 2:
        accepted: collections.defaultdict[str, set] = collections.defaultdict(set)
        try:
            for line in open(sys.argv[2], encoding="utf-8"):
                rule, label = line.rstrip("\n").split("\t")
                accepted[rule].add(label)
        except FileNotFoundError:
            pass
        if accepted:
            print("accepted rejections of schema-valid requests (hooks.py ACCEPTED; operations):")
            for rule, labels in sorted(accepted.items()):
                print(f"  {rule}: {len(labels)}")


if __name__ == "__main__":
    main()
