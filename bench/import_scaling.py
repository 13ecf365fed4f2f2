#!/usr/bin/env python3
"""How import time grows with a ledger's size (issue 10, item 2).

Starts BINARY on a fresh database (a temp SQLite file, or a new PostgreSQL database
on the server of RECTIFY_BENCH_POSTGRES_URL, dropped afterwards), makes the units,
a leader and an inspector, then imports a JSON ledger of each size in turn and prints the
seconds each import took and the seconds per 1,000 findings (flat when the cost is linear).

    python3 bench/import_scaling.py target/release/rectify sqlite 1000 2000 4000
    RECTIFY_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
        python3 bench/import_scaling.py target/release/rectify postgres 1000 2000 4000

The ledger: 10 categories of 5 aspects, the findings spread over the aspects, every
finding numbered and naming a responsible unit and leader (the checks a real ledger
makes each row pay), every third one closed. RECTIFY_IMPORT_MAX_FINDINGS is raised to
the largest size. RECTIFY_BENCH_SHAPE=flat imports the issue's shape instead: titles
only, under no section (100,000 of them make 2 MiB).
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import requests

PASSWORD = "bench-password-123"


def cpu_seconds(pids):
    """User + system CPU of these processes so far (Linux /proc), which a busy machine disturbs less than wall time."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flat(n, group, bureau, run):
    """The issue's shape: 100,000 findings in 2 MiB, titles only, under no section."""
    return {
        "inspection": {"title": f"巡察{run}-{n}", "inspecting_body": "区委第三巡察组", "inspecting_unit_id": group,
                       "inspected_unit_id": bureau, "started_on": "2024-05-24", "ended_on": "2024-07-24"},
        "findings": [{"title": f"问题{i}"} for i in range(n)],
    }


def ledger(n, group, bureau, leader, run):
    sections = []
    per_aspect = max(1, n // 50)
    seq = 0
    for c in range(10):
        aspects = []
        for a in range(5):
            findings = []
            count = per_aspect if (c, a) != (9, 4) else n - seq
            for _ in range(count):
                seq += 1
                f = {"seq": seq, "title": f"问题{seq}：学习贯彻不深入", "responsible_unit_id": bureau,
                     "responsible_leader_id": leader, "measures": "坚持每周集中学习"}
                if seq % 3 == 0:
                    f["status"] = "closed"
                    f["outcome"] = "已整改"
                findings.append(f)
            aspects.append({"title": f"方面{c}-{a}", "findings": findings})
        sections.append({"title": f"类别{c}", "children": aspects})
    return {
        "inspection": {"title": f"巡察{run}-{n}", "inspecting_body": "区委第三巡察组", "inspecting_unit_id": group,
                       "inspected_unit_id": bureau, "started_on": "2024-05-24", "ended_on": "2024-07-24"},
        "sections": sections,
    }


def main():
    binary, backend, sizes = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3:]]
    shape = os.environ.get("RECTIFY_BENCH_SHAPE", "full")
    tmp = tempfile.mkdtemp(prefix="rectify-bench-")
    drop = None
    if backend == "postgres":
        base = os.environ["RECTIFY_BENCH_POSTGRES_URL"]
        name = "bench_" + uuid.uuid4().hex[:12]
        subprocess.run(["psql", base, "-qc", f"CREATE DATABASE {name}"], check=True)
        url = base.rsplit("/", 1)[0] + "/" + name
        drop = lambda: subprocess.run(["psql", base, "-qc", f"DROP DATABASE {name} WITH (FORCE)"], check=False)
        backends = lambda: subprocess.run(
            ["psql", base, "-Atc", f"SELECT pid FROM pg_stat_activity WHERE datname = '{name}'"],
            capture_output=True, text=True, check=True).stdout.split()
    else:
        url = f"sqlite://{tmp}/rectify.db"
        backends = lambda: []
    port = free_port()
    env = dict(os.environ, RECTIFY_DATABASE_URL=url, RECTIFY_BIND=f"127.0.0.1:{port}",
               RECTIFY_JWT_SECRET="bench-secret-bench-secret-bench-secret-0", RECTIFY_ADMIN_PASSWORD=PASSWORD,
               RECTIFY_LOG="warn", RECTIFY_IMPORT_MAX_FINDINGS=str(max(sizes)), RECTIFY_STATEMENT_TIMEOUT_MS="3600000")
    server = subprocess.Popen([binary, "serve"], env=env)
    api = f"http://127.0.0.1:{port}/api/v1"
    try:
        for _ in range(300):
            try:
                requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        token = lambda u, p: requests.post(f"{api}/auth/token", json={"username": u, "password": p}).json()["access_token"]
        admin = {"Authorization": "Bearer " + token("admin", PASSWORD)}
        unit = lambda name: requests.post(f"{api}/org-units", headers=admin, json={"name": name, "parent_id": 1}).json()["id"]
        group, bureau = unit("巡察组"), unit("审批局")
        user = lambda name, u, roles: requests.post(f"{api}/users", headers=admin, json={
            "username": name, "display_name": name, "org_unit_id": u, "roles": roles, "password": PASSWORD}).json()["id"]
        leader = user("leader", bureau, ["leader"])
        user("inspector", group, ["inspector"])
        inspector = {"Authorization": "Bearer " + token("inspector", PASSWORD)}
        print(f"{backend}: findings, seconds, seconds per 1,000, CPU seconds (service + database) per 1,000")
        for run, n in enumerate(sizes):
            shaped = flat(n, group, bureau, run) if shape == "flat" else ledger(n, group, bureau, leader, run)
            body = json.dumps(shaped, ensure_ascii=False, separators=(",", ":")).encode()
            pids = [server.pid, *backends()]
            cpu = cpu_seconds(pids)
            started = time.monotonic()
            res = requests.post(f"{api}/inspections/import", headers={**inspector, "Content-Type": "application/json"},
                                data=body, timeout=3600)
            took = time.monotonic() - started
            cpu = cpu_seconds(pids) - cpu
            assert res.status_code == 201, res.text[:500]
            print(f"{backend}: {n:6d} {took:8.2f} {took * 1000 / n:8.3f} {cpu * 1000 / n:8.3f}", flush=True)
    finally:
        server.terminate()
        server.wait()
        if drop:
            drop()


if __name__ == "__main__":
    main()
