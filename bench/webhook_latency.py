#!/usr/bin/env python3
"""Webhook delivery latency: event → receiver, p50/p99.

Usage: webhook_latency.py BASE_URL ADMIN_PASSWORD N [RATE_PER_SECOND]

Needs a running service with RECTIFY_WEBHOOK_ALLOW_PRIVATE=true. Subscribes a
receiver on 127.0.0.1 to finding.created, creates N findings at the given rate,
and measures, per delivery, the time from the event's `timestamp` (taken when
the event is written, just before its transaction commits) to its arrival.
"""

import json
import statistics
import sys
import threading
import time
import urllib.request
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BASE, ADMIN_PASSWORD, N = sys.argv[1], sys.argv[2], int(sys.argv[3])
RATE = float(sys.argv[4]) if len(sys.argv) > 4 else 20.0
arrivals = {}
lock = threading.Lock()


class Receiver(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        now = time.time()
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with lock:
            arrivals.setdefault(self.headers["webhook-id"], (now, body))
        self.send_response(204)
        self.end_headers()


server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()


def call(method, path, token=None, body=None):
    req = urllib.request.Request(BASE + path, data=None if body is None else json.dumps(body).encode(), method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=60) as res:
        return json.loads(res.read() or b"null")


admin = call("POST", "/api/v1/auth/token", body={"username": "admin", "password": ADMIN_PASSWORD})["access_token"]
group = call("POST", "/api/v1/org-units", admin, {"name": "巡察组", "parent_id": 1})["id"]
bureau = call("POST", "/api/v1/org-units", admin, {"name": "审批局", "parent_id": 1})["id"]
inspection = call("POST", "/api/v1/inspections", admin, {
    "title": "延迟测量", "inspecting_body": "巡察组", "inspecting_unit_id": group, "inspected_unit_id": bureau,
    "started_on": "2024-05-24", "ended_on": "2024-07-24"})["id"]
call("POST", "/api/v1/webhooks", admin, {"url": f"http://127.0.0.1:{server.server_address[1]}/hook",
                                        "event_types": ["finding.created"], "org_unit_id": bureau})
for i in range(N):
    call("POST", "/api/v1/findings", admin, {"inspection_id": inspection, "title": f"问题{i}"})
    time.sleep(1.0 / RATE)
deadline = time.time() + 30
while time.time() < deadline and len(arrivals) < N:
    time.sleep(0.05)
latencies = []
for arrived, body in arrivals.values():
    written = datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00")).timestamp()
    latencies.append((arrived - written) * 1000)
latencies.sort()
q = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))]
print(f"{len(latencies)}/{N} delivered; latency p50 {q(0.50):.1f} ms, p99 {q(0.99):.1f} ms, "
      f"max {latencies[-1]:.1f} ms, mean {statistics.mean(latencies):.1f} ms")
