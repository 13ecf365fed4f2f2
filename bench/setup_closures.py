#!/usr/bin/env python3
"""Loads N pending closure requests through the API, for the decision benchmark.

Usage: setup_closures.py BASE_URL ADMIN_PASSWORD N OUT_DIR

Creates an inspection whose approval chain has one step (leader), N findings
(one JSON import), and for each an assignment that is completed and submitted
for closure. Writes OUT_DIR/ids (one closure request id per line) and
OUT_DIR/token (the deciding leader's bearer token).
"""

import json
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor

BASE, ADMIN_PASSWORD, N, OUT = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
PASSWORD = "bench-password-1234"


def call(method, path, token=None, body=None, expect=(200, 201, 202)):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            return json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{method} {path}: {e.code} {e.read()[:300]!r}")


def token(username, password):
    return call("POST", "/api/v1/auth/token", body={"username": username, "password": password})["access_token"]


admin = token("admin", ADMIN_PASSWORD)
group = call("POST", "/api/v1/org-units", admin, {"name": "区委第三巡察组", "parent_id": 1})["id"]
bureau = call("POST", "/api/v1/org-units", admin, {"name": "行政审批服务局", "parent_id": 1})["id"]
users = {}
for name, unit, roles in [("leader", bureau, ["leader"]), ("officer", bureau, ["officer"]),
                          ("inspector", group, ["inspector"])]:
    call("POST", "/api/v1/users", admin, {"username": name, "display_name": name, "org_unit_id": unit,
                                         "roles": roles, "password": PASSWORD})
    users[name] = token(name, PASSWORD)
ledger = {
    "inspection": {"title": "基准测试巡察", "inspecting_body": "区委第三巡察组", "inspecting_unit_id": group,
                   "inspected_unit_id": bureau, "started_on": "2024-05-24", "ended_on": "2024-07-24",
                   "feedback_on": "2024-09-10", "approval_chain": ["leader"]},
    "sections": [{"title": "聚焦政治站位方面", "findings": [
        {"title": f"问题{i}", "responsible_unit_id": bureau, "due_on": "2030-12-31"} for i in range(N)]}],
}
imported = call("POST", "/api/v1/inspections/import", users["inspector"], ledger)
inspection = imported["inspection"]["id"]
findings = []
cursor = None
while True:
    q = f"/api/v1/findings?inspection_id={inspection}&limit=200" + (f"&cursor={cursor}" if cursor else "")
    page = call("GET", q, admin)
    findings += [f["id"] for f in page["items"]]
    cursor = page["next_cursor"]
    if not cursor:
        break
officer_id = call("GET", "/api/v1/auth/me", users["officer"])["id"]


def prepare(fid):
    a = call("POST", f"/api/v1/findings/{fid}/assignments", users["leader"],
             {"title": "落实整改", "responsible_unit_id": bureau, "assignee_id": officer_id, "due_on": "2030-06-30"})
    call("POST", f"/api/v1/assignments/{a['id']}/complete", users["officer"], {"outcome": "已整改"})
    r = call("POST", f"/api/v1/findings/{fid}/closure-requests", users["officer"],
             {"outcome": "已整改到位", "evidence": [{"title": "会议记录", "reference": "2024-12"}]})
    return r["id"]


with ThreadPoolExecutor(8) as pool:
    ids = list(pool.map(prepare, findings))
with open(f"{OUT}/ids", "w") as f:
    f.write("\n".join(str(i) for i in ids) + "\n")
with open(f"{OUT}/token", "w") as f:
    f.write(users["leader"])
print(f"{len(ids)} pending closure requests")
