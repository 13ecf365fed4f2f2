#!/usr/bin/env python3
"""Independent Standard Webhooks receiver for integration tests.

Verifies every POST with the reference library (PyPI ``standardwebhooks``, pinned in
requirements.txt), so a passing test proves interoperability, not self-agreement.

Usage:
    receiver.py PORT LOG_FILE [--secret SECRET | --secret-file PATH] [--fail-first N] [--fail-always]

    PORT          TCP port on 127.0.0.1; 0 picks a free one. Once listening, prints
                  ``LISTENING <port>`` on stdout (flushed).
    LOG_FILE      one JSON line is appended per request:
                  {"webhook_id", "timestamp", "verified", "status_returned", "body",
                   "path", "error"}
    --secret      endpoint secret ``whsec_...``; several may be given, separated by
                  commas or spaces (a request passes if any verifies).
                  Default: env WEBHOOK_SECRET.
    --secret-file a file holding the secret(s) as above, read again for every
                  request (a test writes it once the webhook exists).
    --fail-first  answer HTTP 500 to the first N *verified* requests (to test
                  retries). Default: env FAIL_FIRST or 0.
    --fail-always answer HTTP 500 to every verified request.

Responses: 401 if verification fails (bad/missing signature, timestamp outside the
library's 5-minute tolerance, non-UTF-8 body), 500 while --fail-first lasts,
otherwise 200. Exits 0 on SIGTERM or SIGINT.
"""

import argparse
import json
import os
import re
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("port", type=int)
    p.add_argument("log_file")
    p.add_argument("--secret", default=os.environ.get("WEBHOOK_SECRET"))
    p.add_argument("--secret-file")
    p.add_argument("--fail-first", type=int, default=int(os.environ.get("FAIL_FIRST", "0")))
    p.add_argument("--fail-always", action="store_true")
    args = p.parse_args(argv)
    if not args.secret and not args.secret_file:
        p.error("a secret is required (--secret, --secret-file or env WEBHOOK_SECRET)")
    if args.secret:
        try:
            args.webhooks = webhooks_of(args.secret)
        except Exception as e:  # bad base64, empty key
            p.error(f"invalid secret: {type(e).__name__}")
    else:
        args.webhooks = None
    return args


def webhooks_of(text):
    return [Webhook(s) for s in re.split(r"[,\s]+", text) if s]


class State:
    def __init__(self, webhooks, secret_file, fail_first, fail_always, log_file):
        self.webhooks = webhooks
        self.secret_file = secret_file
        self.fail_always = fail_always
        self.fail_remaining = fail_first
        self.log_file = log_file
        self.lock = threading.Lock()


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        server_version = "sw-test-receiver/1"

        def log_message(self, fmt, *args):  # keep stderr quiet
            pass

        def _read_body(self):
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length > 0 else b""

        def do_POST(self):
            body = self._read_body()
            headers = {k: v for k, v in self.headers.items()}
            verified, parsed, error = False, None, None
            webhooks = state.webhooks
            if webhooks is None:
                try:
                    with open(state.secret_file, encoding="utf-8") as f:
                        webhooks = webhooks_of(f.read())
                except Exception as e:
                    webhooks, error = [], f"no secret yet: {type(e).__name__}"
            for wh in webhooks:
                try:
                    parsed = wh.verify(body, headers)
                    verified, error = True, None
                    break
                except Exception as e:  # WebhookVerificationError, ValueError, ...
                    error = f"{type(e).__name__}: {e}"
            if not verified:
                try:
                    parsed = json.loads(body)
                except Exception:
                    parsed = body.decode("utf-8", "replace")

            with state.lock:
                if not verified:
                    status = 401
                elif state.fail_always:
                    status = 500
                elif state.fail_remaining > 0:
                    state.fail_remaining -= 1
                    status = 500
                else:
                    status = 200
                ts = self.headers.get("webhook-timestamp")
                try:
                    ts = int(ts)
                except (TypeError, ValueError):
                    pass
                record = {
                    "webhook_id": self.headers.get("webhook-id"),
                    "timestamp": ts,
                    "verified": verified,
                    "status_returned": status,
                    "body": parsed,
                    "path": self.path,
                    "error": error,
                    "signatures": len(self.headers.get("webhook-signature", "").split()),
                }
                with open(state.log_file, "a", encoding="utf-8") as f:
                    f.write(json.dumps(record) + "\n")

            reply = b"ok\n" if status == 200 else (b"unauthorized\n" if status == 401 else b"try again\n")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(reply)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(reply)
            self.close_connection = True

    return Handler


def main(argv):
    args = parse_args(argv)
    state = State(args.webhooks, args.secret_file, args.fail_first, args.fail_always, args.log_file)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(state))
    server.daemon_threads = True

    def stop(_signum, _frame):
        # shutdown() waits for serve_forever() to return, which runs in this
        # (main) thread: call it from another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    print(f"LISTENING {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
