#!/usr/bin/env python3
"""The service measured from outside, against its database's own limit (issue 11).

    python3 bench/run.py              # PostgreSQL, 100,000 findings, 3 runs (about 15 minutes)
    python3 bench/run.py --quick      # PostgreSQL, 10,000 findings, 1 short run (under 3 minutes)
    python3 bench/run.py --sqlite     # the same on SQLite (no pgbench there)

Needs the README's two prerequisites (Rust, PostgreSQL reachable as BENCH_POSTGRES_URL,
default postgres://postgres@127.0.0.1:5432/test) plus `wrk` and `pgbench`
(Debian/Ubuntu: `apt-get install wrk postgresql-client`). Builds the release binary unless
--binary names one.

What it does:
1. starts the release binary on a fresh database (a new PostgreSQL database, dropped at the end,
   or a temp SQLite file);
2. loads the findings through the JSON import: 50 units, one inspection each, the largest
   inspection holding 40 % of them (S3 and S5 use it), every fifth finding closed;
3. restarts the service with every statement logged (`rectify::sql` at debug), sends each
   scenario's request once warm, and keeps the statements that request ran;
4. restarts it with logging at `warn` and runs each scenario with wrk (random ids within the
   caller's scope), then pgbench with the statements captured in 3 at the same concurrency,
   back to back, `--runs` times: pgbench of the whole statement set, and of the one query that
   answers the request (R_core = API rps / that);
5. prints a Markdown table (and appends it to --out): API rps, p50, p99, pgbench tps, the two
   ratios, statements per request (from the service's own `rectify_db_statements_total`) and
   the service's resident memory (peak during the scenario).
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ADMIN_PASSWORD = "bench-admin-password"
PASSWORD = "bench-password-1234"
SECRET = "bench-secret-bench-secret-bench-secret-0"


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


class Sampler:
    """The service's resident memory, sampled every 20 ms while a scenario runs."""

    def __init__(self, pid):
        self.pid, self.peak, self.stop = pid, rss_mb(pid), False
        self.before = self.peak
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.02)

    def finish(self):
        self.stop = True
        self.thread.join()
        self.after = rss_mb(self.pid)
        return self


class Database:
    """A fresh database for one benchmark: PostgreSQL (dropped at the end) or a SQLite file."""

    def __init__(self, sqlite, work):
        self.sqlite = sqlite
        if sqlite:
            self.path = os.path.join(work, "bench.db")
            self.url = f"sqlite://{self.path}"
        else:
            admin = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
            self.admin = admin
            self.name = f"rectify_bench_{os.getpid()}_{int(time.time())}"
            self.psql(f"CREATE DATABASE {self.name}", url=admin)
            base = admin.split("?")[0].rsplit("/", 1)[0]
            self.url = f"{base}/{self.name}?sslmode=disable"
            # psql, pgbench and `\copy` connect exactly as the service does: without TLS. (Until
            # 2026-12-03 they connected with libpq's default `prefer`, over TLS where the server
            # offers it, paying for encryption that the service did not: see RESULTS.md.)
            self.libpq = self.url

    def psql(self, sql, url=None):
        out = subprocess.run(["psql", url or self.libpq, "-XAtqc", sql], check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def query(self, sql):
        """Rows of `sql` as lists of strings."""
        if self.sqlite:
            with sqlite3.connect(self.path) as c:
                return [[str(v) for v in row] for row in c.execute(sql)]
        out = self.psql(sql)
        return [line.split("|") for line in out.splitlines() if line]

    def analyze(self):
        if self.sqlite:
            with sqlite3.connect(self.path) as c:
                c.execute("ANALYZE")
        else:
            self.psql("VACUUM ANALYZE")

    def drop(self):
        if not self.sqlite:
            self.psql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)", url=self.admin)


class Server:
    def __init__(self, binary, db, work, log_filter="warn", extra=None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(work, f"server-{self.port}.log")
        env = dict(os.environ)
        env.update({
            "RECTIFY_DATABASE_URL": db.url,
            "RECTIFY_BIND": f"127.0.0.1:{self.port}",
            "RECTIFY_JWT_SECRET": SECRET,
            "RECTIFY_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "RECTIFY_LOG": log_filter,
            "RECTIFY_LOG_FORMAT": "json",
            "RECTIFY_LOGIN_PER_MINUTE": "100000",
            "RECTIFY_IMPORT_MAX_FINDINGS": "100000",
        })
        env.update(extra or {})
        self.logfile = open(self.log_path, "w")
        self.proc = subprocess.Popen([binary, "serve"], env=env, stdout=self.logfile, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=2):
                    return
            except (urllib.error.URLError, ConnectionError, OSError):
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        raise SystemExit(f"the service did not start; see {self.log_path}")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.logfile.close()

    def call(self, method, path, token=None, body=None, headers=None):
        data = None if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=300) as res:
                raw = res.read()
                return json.loads(raw) if raw and res.headers.get_content_type().endswith("json") else raw
        except urllib.error.HTTPError as e:
            raise SystemExit(f"{method} {path}: {e.code} {e.read()[:300]!r}")

    def token(self, username, password):
        return self.call("POST", "/api/v1/auth/token", body={"username": username, "password": password})["access_token"]

    def statements(self):
        """Statements the service sent so far (None from a build without the counter)."""
        text = self.call("GET", "/metrics").decode()
        m = re.search(r"^rectify_db_statements_total (\d+)", text, re.M)
        return int(m.group(1)) if m else None


# --- loading ------------------------------------------------------------------------------


def load(server, db, total, units):
    """50 units with a leader each and one inspection each, the first holding 40 %."""
    admin = server.token("admin", ADMIN_PASSWORD)
    group = server.call("POST", "/api/v1/org-units", admin, {"name": "区委巡察组", "parent_id": 1})["id"]
    server.call("POST", "/api/v1/users", admin, {"username": "inspector", "display_name": "巡察组", "org_unit_id": group,
                                                "roles": ["inspector"], "password": PASSWORD})
    inspector = server.token("inspector", PASSWORD)
    largest = total * 2 // 5
    rest = total - largest
    plan = []
    for k in range(units):
        unit = server.call("POST", "/api/v1/org-units", admin, {"name": f"被巡察单位{k + 1}", "parent_id": 1})["id"]
        leader = server.call("POST", "/api/v1/users", admin, {
            "username": f"leader{k + 1}", "display_name": f"领导{k + 1}", "org_unit_id": unit,
            "roles": ["leader"], "password": PASSWORD})["id"]
        n = largest if k == 0 else rest // (units - 1) + (1 if k - 1 < rest % (units - 1) else 0)
        plan.append((unit, leader, n))
    started = time.time()
    inspections = []
    for k, (unit, leader, n) in enumerate(plan):
        sections, seq = [], 0
        per = max(1, n // 8)
        for c in range(4):
            aspects = []
            for a in range(2):
                count = per if (c, a) != (3, 1) else n - seq
                findings = []
                for _ in range(count):
                    seq += 1
                    f = {"seq": seq, "title": f"问题{seq}：制度执行不到位",
                         "responsible_unit_id": unit, "responsible_leader_id": leader,
                         "measures": "建立台账，逐项销号",
                         "due_on": f"202{5 + seq % 3}-{1 + seq % 12:02d}-{1 + seq % 28:02d}"}
                    if seq % 5 == 0:
                        f["status"] = "closed"
                        f["outcome"] = "已整改到位"
                    findings.append(f)
                aspects.append({"title": f"方面{c + 1}-{a + 1}", "findings": findings})
            sections.append({"title": f"类别{c + 1}", "children": aspects})
        ledger = {"inspection": {"title": f"巡察{k + 1}", "inspecting_body": "区委巡察组", "inspecting_unit_id": group,
                                 "inspected_unit_id": unit, "started_on": "2024-05-24", "ended_on": "2024-07-24",
                                 "feedback_on": "2024-09-10"}, "sections": sections}
        inspections.append(server.call("POST", "/api/v1/inspections/import", inspector, ledger)["inspection"]["id"])
    log(f"imported {total:,} findings in {units} inspections in {time.time() - started:.1f} s")
    ranges = {}
    for i in inspections:
        lo, hi = db.query(f"SELECT min(id), max(id) FROM findings WHERE inspection_id = {i}")[0]
        ranges[i] = (int(lo), int(hi))
    return {"inspections": inspections, "ranges": ranges, "group": group, "unit": plan[0][0]}


def pending_closures(server, db, unit, count, label):
    """`count` closure requests waiting for a leader's one-step approval, in order."""
    admin = server.token("admin", ADMIN_PASSWORD)
    inspector = server.token("inspector", PASSWORD)
    leader = server.token("leader1", PASSWORD)
    officer_name = f"officer-{label}"
    officer_id = server.call("POST", "/api/v1/users", admin, {
        "username": officer_name, "display_name": "整改专员", "org_unit_id": unit,
        "roles": ["officer"], "password": PASSWORD})["id"]
    officer = server.token(officer_name, PASSWORD)
    group = int(db.query("SELECT id FROM org_units WHERE name = '区委巡察组'")[0][0])
    ledger = {"inspection": {"title": f"销号基准{label}", "inspecting_body": "区委巡察组", "inspecting_unit_id": group,
                             "inspected_unit_id": unit, "started_on": "2024-05-24", "ended_on": "2024-07-24",
                             "approval_chain": ["leader"]},
              "findings": [{"title": f"问题{i}", "responsible_unit_id": unit, "due_on": "2030-12-31"} for i in range(count)]}
    inspection = server.call("POST", "/api/v1/inspections/import", inspector, ledger)["inspection"]["id"]
    ids = [int(r[0]) for r in db.query(f"SELECT id FROM findings WHERE inspection_id = {inspection} ORDER BY id")]
    out = []
    from concurrent.futures import ThreadPoolExecutor

    def prepare(fid):
        a = server.call("POST", f"/api/v1/findings/{fid}/assignments", leader,
                        {"title": "落实整改", "responsible_unit_id": unit, "assignee_id": officer_id, "due_on": "2030-06-30"})
        server.call("POST", f"/api/v1/assignments/{a['id']}/complete", officer, {"outcome": "已整改"})
        return server.call("POST", f"/api/v1/findings/{fid}/closure-requests", officer,
                           {"outcome": "已整改到位", "evidence": [{"title": "会议记录", "reference": "2024-12"}]})["id"]

    with ThreadPoolExecutor(4) as pool:
        out = list(pool.map(prepare, ids))
    return out, leader


# --- statements ---------------------------------------------------------------------------


def split_binds(text):
    """`[1, "a, b", Some(2)]` → ['1', '"a, b"', 'Some(2)']."""
    text = text.strip()
    assert text.startswith("[") and text.endswith("]"), text
    items, depth, cur, quote, esc = [], 0, "", False, False
    for ch in text[1:-1]:
        if quote:
            cur += ch
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                quote = False
        elif ch == '"':
            quote = True
            cur += ch
        elif ch in "([":
            depth += 1
            cur += ch
        elif ch in ")]":
            depth -= 1
            cur += ch
        elif ch == "," and depth == 0:
            items.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        items.append(cur.strip())
    return items


def literal(value):
    """A bind value as diesel's debug output shows it → an SQL literal."""
    if value.startswith("Some(") and value.endswith(")"):
        return literal(value[5:-1])
    if value == "None":
        return "NULL"
    if value in ("true", "false"):
        return value.upper()
    if re.fullmatch(r"-?\d+(\.\d+)?", value):
        return value
    if value.startswith('"'):
        # A colon before a letter would be a pgbench variable: spelled apart.
        text = json.loads(value).replace("'", "''")
        return "'" + re.sub(r":(?=[A-Za-z_])", "' || ':' || '", text) + "'"
    if value.startswith("[") and value.endswith("]"):
        # An array literal, typed by the column it is compared with (an empty one too).
        items = [literal(v).strip("'") for v in split_binds(value)]
        return "'{" + ",".join(items) + "}'"
    if re.fullmatch(r"[A-Z][A-Za-z]*", value):
        # A Rust enum's name: stored as its snake_case text.
        return "'" + re.sub(r"(?<!^)([A-Z])", r"_\1", value).lower() + "'"
    return "'" + value.replace("'", "''") + "'"


def capture(server, request_id):
    """The statements a request ran: SQL with its binds written in, in order."""
    out = []
    with open(server.log_path) as f:
        for line in f:
            if request_id not in line or '"rectify::sql"' not in line:
                continue
            entry = json.loads(line)
            if entry.get("span", {}).get("request_id") != request_id:
                continue
            sql, _, binds = entry["sql"].partition(" -- binds: ")
            values = split_binds(binds) if binds else []
            sql = re.sub(r"\$(\d+)", lambda m: "{%s}" % (int(m.group(1)) - 1), sql.replace("{", "{{").replace("}", "}}"))
            out.append((sql, values))
    return out


def pgbench_script(statements, variables=()):
    """A pgbench script of `statements`; each of `variables` = (bind value, name, lo, hi)
    replaces that value by a random one in [lo, hi] on each run of the script."""
    lines = [f"\\set {name} random({lo}, {hi})" for _, name, lo, hi in variables]
    names = {str(value): ":" + name for value, name, _, _ in variables}
    for sql, values in statements:
        lits = [names.get(v.removeprefix("Some(").removesuffix(")"), None) or literal(v) for v in values]
        lines.append(sql.format(*lits) + ";")
    return "\n".join(lines) + "\n"


def pgbench(db, script, clients, seconds, work):
    path = os.path.join(work, "script.sql")
    with open(path, "w") as f:
        f.write(script)
    out = subprocess.run(["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", "2", "-T", str(seconds),
                          "-f", path, db.libpq], capture_output=True, text=True)
    m = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out.stdout)
    if not m:
        raise SystemExit(f"pgbench failed:\n{script}\n{out.stdout}\n{out.stderr}")
    return float(m.group(1))


# --- scenarios ----------------------------------------------------------------------------


def wrk(server, script, clients, seconds, args):
    cmd = ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", os.path.join(HERE, script),
           server.base, "--"] + [str(a) for a in args]
    out = subprocess.run(cmd, capture_output=True, text=True)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"wrk failed: {out.stdout}\n{out.stderr}")
    return json.loads(lines[-1])


def wrk_until(server, script, clients, limit, args, progress, target):
    """wrk sending a fixed set of requests (once.lua): stopped as soon as `progress()` reaches
    `target` (polled every 50 ms), or has stood still for two seconds within 1 % of it (a
    request whose answer wrk never read), so that its rate is the work over the time it took."""
    cmd = ["wrk", "-t2", f"-c{clients}", f"-d{limit}s", "--timeout", "10s", "-s", os.path.join(HERE, script),
           server.base, "--"] + [str(a) for a in args]
    started = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    elapsed, last, moved = None, None, time.time()
    while proc.poll() is None:
        value = progress()
        if value != last:
            last, moved = value, time.time()
        if value >= target or (value >= 0.99 * target and time.time() - moved > 2):
            elapsed = moved - started
            proc.send_signal(signal.SIGINT)
            break
        time.sleep(0.05)
    out, err = proc.communicate()
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"wrk failed: {out}\n{err}")
    result = json.loads(lines[-1])
    result["seconds"] = elapsed or (time.time() - started)
    return result


def route_count(server, route):
    text = server.call("GET", "/metrics").decode()
    return sum(int(m.group(1)) for m in re.finditer(
        r'^rectify_http_requests_total\{[^}]*route="' + re.escape(route) + r'"[^}]*\} (\d+)', text, re.M))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="10,000 findings, one 3-second run of each")
    ap.add_argument("--sqlite", action="store_true", help="measure the embedded SQLite default instead")
    ap.add_argument("--binary", help="the service binary (default: build the release binary)")
    ap.add_argument("--findings", type=int, help="findings to load (default 100,000; --quick 10,000)")
    ap.add_argument("--runs", type=int, help="runs of each scenario (default 3; --quick 1)")
    ap.add_argument("--seconds", type=int, help="seconds per wrk and pgbench run (default 10; --quick 3)")
    ap.add_argument("--out", help="also append the table to this Markdown file")
    ap.add_argument("--keep", action="store_true", help="keep the database (its URL is printed) and the work folder")
    ap.add_argument("--label", default="", help="a name for this binary in the table's title")
    ap.add_argument("--only", help="measure only these scenarios, by the start of their names, comma-separated "
                    "(e.g. `S5` or `S1,S2`; `1,000` for the sign-ins): to measure one lever")
    a = ap.parse_args()
    total = a.findings or (10_000 if a.quick else 100_000)
    runs = a.runs or (1 if a.quick else 3)
    seconds = a.seconds or (3 if a.quick else 10)
    decisions = 300 if a.quick else 1000
    for tool in ["wrk"] + ([] if a.sqlite else ["pgbench", "psql"]):
        if not shutil.which(tool):
            raise SystemExit(f"`{tool}` is needed: apt-get install wrk postgresql-client")
    binary = a.binary
    if not binary:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
        target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
        binary = os.path.join(target, "release", "rectify")
    work = tempfile.mkdtemp(prefix="rectify-bench-")
    db = Database(a.sqlite, work)
    servers = []
    try:
        only = [p.strip() for p in a.only.split(",")] if a.only else None
        results = run(binary, db, work, servers, total, runs, seconds, decisions,
                      lambda name: only is None or name.startswith(tuple(only)))
    finally:
        for s in servers:
            if s.proc.poll() is None:
                s.stop()
        if a.keep:
            log(f"kept: {db.url} and {work}")
        else:
            db.drop()
    backend = "SQLite" if a.sqlite else "PostgreSQL"
    title = (f"### {backend}, {total:,} findings, {runs} run(s) of {seconds} s"
             f"{', ' + a.label if a.label else ''} ({time.strftime('%Y-%m-%d %H:%M')}, load average "
             f"{os.getloadavg()[0]:.1f})")
    table = render(title, results, a.sqlite)
    print(table)
    if a.out:
        with open(a.out, "a") as f:
            f.write(table + "\n")
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)


def run(binary, db, work, servers, total, runs, seconds, decisions, wanted):
    # 1–2: load.
    s = Server(binary, db, work)
    servers.append(s)
    data = load(s, db, total, 50)
    largest = data["inspections"][0]
    lo, hi = data["ranges"][largest]
    all_lo = min(r[0] for r in data["ranges"].values())
    all_hi = max(r[1] for r in data["ranges"].values())
    closures = ([pending_closures(s, db, data["unit"], decisions, f"{r + 1}") for r in range(runs)]
                if wanted("S4") else [])
    s.stop()
    # What autovacuum does within a minute or so of a bulk load (planner statistics, the
    # visibility map): measured is the steady state, not the first minute after an import.
    db.analyze()

    # 3: the statements of each scenario's request, from a service that logs them.
    s = Server(binary, db, work, "warn,rectify::sql=debug,rectify::telemetry=info")
    servers.append(s)
    settle(s, db)
    admin = s.token("admin", ADMIN_PASSWORD)
    leader = s.token("leader1", PASSWORD)
    tokens = {"admin": admin, "leader": leader}
    for name, tok in tokens.items():
        with open(os.path.join(work, name), "w") as f:
            f.write(tok)
    page = s.call("GET", f"/api/v1/findings?inspection_id={largest}&status=open&limit=50", leader)
    cursor = None
    for _ in range(5):
        page = s.call("GET", f"/api/v1/findings?inspection_id={largest}&limit=50"
                      + (f"&cursor={cursor}" if cursor else ""), leader)
        cursor = page["next_cursor"]
    scenarios = [
        # name, caller, clients, path template, id range, the table the answering query reads
        ("S1 get a finding (leader)", "leader", 16, "/api/v1/findings/{id}", (lo, hi), '"findings"'),
        ("S1 get a finding (admin)", "admin", 16, "/api/v1/findings/{id}", (all_lo, all_hi), '"findings"'),
        ("S2 page of 50, status=open", "leader", 16,
         f"/api/v1/findings?inspection_id={largest}&status=open&limit=50", (0, 0), '"findings"'),
        ("S2 page of 50, sort=-due_on", "leader", 16,
         f"/api/v1/findings?inspection_id={largest}&sort=-due_on&limit=50", (0, 0), '"findings"'),
        ("S2 page 6 by cursor", "leader", 16,
         f"/api/v1/findings?inspection_id={largest}&limit=50&cursor={cursor}", (0, 0), '"findings"'),
        ("S3 stats of the largest inspection", "admin", 4, f"/api/v1/inspections/{largest}/stats", (0, 0), None),
    ]
    scenarios = [sc for sc in scenarios if wanted(sc[0])]
    captured = {}
    for k, (name, who, _, path, (rlo, rhi), _) in enumerate(scenarios):
        probe = path.replace("{id}", str(rlo))
        s.call("GET", probe, tokens[who])  # warm: the caller's user cached, statements prepared
        rid = f"bench-capture-{k}"
        s.call("GET", probe, tokens[who], headers={"X-Request-Id": rid})
        time.sleep(0.2)
        captured[name] = capture(s, rid)
    if closures:
        closure_probe = closures[0][0].pop()
        probe_ids = (closure_probe, int(db.query(f"SELECT finding_id FROM approval_requests WHERE id = {closure_probe}")[0][0]))
        decided_findings = [[int(r[0]) for r in db.query(
            f"SELECT finding_id FROM approval_requests WHERE id BETWEEN {min(ids)} AND {max(ids)}")] for ids, _ in closures]
        s.call("POST", f"/api/v1/closure-requests/{closure_probe}/decisions", closures[0][1],
               {"decision": "approve", "comment": "同意"}, headers={"X-Request-Id": "bench-capture-s4"})
        time.sleep(0.2)
        captured["S4"] = capture(s, "bench-capture-s4")
    with open(os.path.join(work, "captured.json"), "w") as f:
        json.dump(captured, f, ensure_ascii=False, indent=1)
    s.stop()

    # 4: measure.
    s = Server(binary, db, work)
    servers.append(s)
    settle(s, db)
    time.sleep(2)
    results = {"idle_mb": rss_mb(s.proc.pid), "rows": [], "captured": captured}
    for name, tok in (("admin", s.token("admin", ADMIN_PASSWORD)), ("leader", s.token("leader1", PASSWORD))):
        with open(os.path.join(work, name), "w") as f:
            f.write(tok)
    for name, who, clients, path, (rlo, rhi), table in scenarios:
        statements = captured[name]
        core = [st for st in statements if table and f"FROM {table}" in st[0]][:1] or statements
        variables = [(rlo, "id", rlo, rhi)] if "{id}" in path else []
        for r in range(runs):
            before = s.statements()
            sampler = Sampler(s.proc.pid)
            api = wrk(s, "get.lua", clients, seconds, [os.path.join(work, who), path, rlo, rhi])
            sampler.finish()
            per_request = per(s.statements(), before, api["requests"])
            row = {"scenario": name, "run": r + 1, "clients": clients, "rps": api["requests"] / api["seconds"],
                   "p50": api["p50_ms"], "p99": api["p99_ms"], "errors": api["non2xx"] + api["socket_errors"],
                   "statements": per_request, "rss": sampler.peak}
            if not db.sqlite and statements:
                row["pg_all"] = pgbench(db, pgbench_script(statements, variables), clients, seconds, work)
                row["pg_core"] = pgbench(db, pgbench_script(core, variables), clients, seconds, work)
            results["rows"].append(row)
            log(json.dumps(row))
        if name.startswith(("S1", "S2")):
            # p99 at half the maximum rate: each connection paced (wrk's `delay`).
            best = max(r["rps"] for r in results["rows"] if r["scenario"] == name)
            pause = max(1, round(clients * 1000 / (best / 2)))
            api = wrk(s, "get.lua", clients, seconds, [os.path.join(work, who), path, rlo, rhi, pause])
            rate = api["requests"] / api["seconds"]
            for row in results["rows"]:
                if row["scenario"] == name:
                    row["half"] = f"at {rate:,.0f} rps: p99 {api['p99_ms']:.1f} ms"
            log(f"{name} at half rate: {rate:,.0f} rps, p99 {api['p99_ms']:.1f} ms")
    # S4: closure decisions, each once.
    for r in range(runs if closures else 0):
        ids, leader_token = closures[r]
        ids_path = os.path.join(work, f"closures-{r}")
        with open(ids_path, "w") as f:
            f.write("\n".join(str(i) for i in ids) + "\n")
        with open(os.path.join(work, "decider"), "w") as f:
            f.write(leader_token)
        events_before = int(db.query("SELECT count(*) FROM audit_events WHERE action = 'closure.approved'")[0][0])
        before = s.statements()
        sampler = Sampler(s.proc.pid)
        approved = "SELECT count(*) FROM audit_events WHERE action = 'closure.approved'"
        target = events_before + len(ids)
        api = wrk_until(s, "once.lua", 16, 120, [2, ids_path, os.path.join(work, "decider"), "POST",
                                                "/api/v1/closure-requests/{line}/decisions",
                                                '{"decision":"approve","comment":"同意"}'],
                        lambda: int(db.query(approved)[0][0]), target)
        sampler.finish()
        events = int(db.query("SELECT count(*) FROM audit_events WHERE action = 'closure.approved'")[0][0]) - events_before
        row = {"scenario": "S4 closure decisions", "run": r + 1, "clients": 16, "rps": events / api["seconds"],
               "p50": api["p50_ms"], "p99": api["p99_ms"], "errors": api["5xx"], "statements":
               per(s.statements(), before, api["requests"]), "rss": sampler.peak,
               "note": f"{events} of {len(ids)} decided (one closure.approved event each), {api['5xx']} 5xx"}
        if not db.sqlite and captured["S4"]:
            # The decision's own statements, on random requests and findings of the same kind
            # (decided already: the conditional UPDATEs find their row but change nothing, so
            # this is what the database does for a decision minus those row writes).
            reqs, fids = closures[r][0], decided_findings[r]
            variables = [(probe_ids[0], "rid", min(reqs), max(reqs)), (probe_ids[1], "fid", min(fids), max(fids))]
            row["pg_all"] = pgbench(db, pgbench_script(captured["S4"], variables), 16, seconds, work)
        results["rows"].append(row)
        log(json.dumps(row))
    # S5: the CSV export of the largest inspection.
    for r in range(runs if wanted("S5") else 0):
        sampler = Sampler(s.proc.pid)
        started = time.time()
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=300)
        conn.request("GET", f"/api/v1/inspections/{largest}/export?format=csv",
                     headers={"Authorization": "Bearer " + admin_token(work)})
        res = conn.getresponse()
        first = res.read(1)
        ttfb = time.time() - started
        size = len(first) + len(res.read())
        elapsed = time.time() - started
        conn.close()
        sampler.finish()
        row = {"scenario": "S5 CSV export of the largest inspection", "run": r + 1, "clients": 1, "rps": None,
               "p50": elapsed * 1000, "p99": None, "ttfb": ttfb * 1000, "errors": 0 if res.status == 200 else 1,
               "statements": None, "rss": sampler.peak,
               "note": f"{size / 1e6:.1f} MB, RSS {sampler.before:.0f} → peak {sampler.peak:.0f} → {sampler.after:.0f} MB"}
        if not db.sqlite:
            copy = ("\\copy (SELECT f.seq, s.title, f.title, f.measures, u.name, l.display_name, f.due_on, f.status, "
                    "f.outcome FROM findings f LEFT JOIN sections s ON s.id = f.section_id "
                    "LEFT JOIN org_units u ON u.id = f.responsible_unit_id "
                    f"LEFT JOIN users l ON l.id = f.responsible_leader_id WHERE f.inspection_id = {largest} "
                    "ORDER BY f.seq) TO '/dev/null' WITH (FORMAT csv, HEADER)")
            t = time.time()
            subprocess.run(["psql", db.libpq, "-Xqc", copy], check=True)
            row["copy_ms"] = (time.time() - t) * 1000
        results["rows"].append(row)
        log(json.dumps(row))
    # Memory: 1,000 sign-ins at 16 clients.
    if wanted("1,000 sign-ins"):
        names = os.path.join(work, "signins")
        with open(names, "w") as f:
            f.write("\n".join(f"leader{1 + i % 50}" for i in range(1000)) + "\n")
        sampler = Sampler(s.proc.pid)
        target = route_count(s, "/api/v1/auth/token") + 1000
        api = wrk_until(s, "once.lua", 16, 300, [2, names, "-", "POST", "/api/v1/auth/token",
                                                '{"username":"{line}","password":"' + PASSWORD + '"}'],
                        lambda: route_count(s, "/api/v1/auth/token"), target)
        time.sleep(1)
        sampler.finish()
        results["rows"].append({"scenario": "1,000 sign-ins", "run": 1, "clients": 16, "rps": api["ok"] / api["seconds"],
                                "p50": api["p50_ms"], "p99": api["p99_ms"], "errors": api["5xx"] + api["4xx"],
                                "statements": None, "rss": sampler.peak,
                                "note": f"RSS {sampler.before:.0f} → peak {sampler.peak:.0f} → {sampler.after:.0f} MB a second later"})
        log(json.dumps(results["rows"][-1]))
    results["idle_after_mb"] = rss_mb(s.proc.pid)
    s.stop()
    return results


def settle(server, db):
    """Waits (up to five minutes) for the service's own background work to finish: started on a
    database full of findings, its deadline scan writes their due and overdue events, and the
    sealer seals them. Measured is the service at rest, not that catching up."""
    deadline = time.time() + 300
    last = server.statements()
    while time.time() < deadline:
        time.sleep(1)
        now = server.statements()
        if last is None or now is None or now - last < 50:
            return
        last = now
    log("background work still busy after five minutes; measuring anyway")


def per(after, before, requests):
    """Statements per request between two readings (less the /metrics read between them)."""
    if after is None or before is None:
        return None
    return (after - before - 1) / max(1, requests)


def admin_token(work):
    with open(os.path.join(work, "admin")) as f:
        return f.read().strip()


def median(rows, key):
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else None


def fmt(v, spec=",.0f"):
    return "—" if v is None else format(v, spec)


def render(title, results, sqlite):
    lines = [title, "",
             f"Idle resident memory after start: {results['idle_mb']:.0f} MB; after every scenario: "
             f"{results['idle_after_mb']:.0f} MB. Medians of the runs; pgbench `-M prepared` with the "
             "statements the request ran (captured from the service), at the same concurrency, right "
             "after each API run.", ""]
    if sqlite:
        lines += ["| scenario | clients | API rps | p50 ms | p99 ms | errors | statements / request | peak RSS MB | notes |",
                  "|---|---|---|---|---|---|---|---|---|"]
    else:
        lines += ["| scenario | clients | API rps | p50 ms | p99 ms | errors | pgbench tps: all statements / the answering query | ratio all | R_core | statements / request | peak RSS MB | notes |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    order = []
    for r in results["rows"]:
        if r["scenario"] not in order:
            order.append(r["scenario"])
    for name in order:
        rows = [r for r in results["rows"] if r["scenario"] == name]
        rps, all_, core = median(rows, "rps"), median(rows, "pg_all"), median(rows, "pg_core")
        notes = "; ".join(r["note"] for r in rows if r.get("note")) or rows[0].get("half", "")
        if name.startswith("S5"):
            t, c, ttfb = median(rows, "p50"), median(rows, "copy_ms"), median(rows, "ttfb")
            notes = (f"total {t / 1000:.2f} s, first byte {ttfb:.0f} ms"
                     + (f", `\\copy` {c / 1000:.2f} s = {t / c:.2f}× " if c else "") + "; " + notes)
        cells = [name, str(rows[0]["clients"]), fmt(rps), fmt(median(rows, "p50"), ".1f"), fmt(median(rows, "p99"), ".1f"),
                 str(sum(r["errors"] for r in rows))]
        if not sqlite:
            cells += [f"{fmt(all_)} / {fmt(core)}" if all_ else "—",
                      fmt(rps / all_ if rps and all_ else None, ".2f"), fmt(rps / core if rps and core else None, ".2f")]
        cells += [fmt(median(rows, "statements"), ".2f"), fmt(max(r["rss"] for r in rows)), notes]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
