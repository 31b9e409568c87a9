#!/usr/bin/env python3
"""http_standin.py - a stand-in for Dovecot's doveadm HTTP API, for what the
tests cannot get from community Dovecot 2.3 (director and obox commands) and
for failures a healthy server never shows (malformed JSON, a slow reply, a
certificate that does not verify).

It answers POST /doveadm/v1 bodies [[command, params, tag]] in Dovecot's
shapes: [["doveadmResponse", PAYLOAD, tag]] or [["error", {"type":
"exitCode", "exitCode": N}, tag]], and appends one JSON line per request to
--log: {"command", "params", "auth" (the scheme only, never the secret),
"path", "client_port" (the TCP connection it came on)}.

  --replies FILE  JSON {"command": {"response": PAYLOAD} | {"exitCode": N}}
                  (missing commands: exitCode 64)
  --mode M        normal | malformed (the body is not JSON) | slow (sleep
                  --delay seconds first) | status (answer --status)
  --tls CERT KEY  serve HTTPS
  --port-file F   the port it listens on (127.0.0.1, chosen by the system)
"""
import argparse
import http.server
import json
import socketserver
import ssl
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--replies")
    ap.add_argument("--log", required=True)
    ap.add_argument("--mode", default="normal")
    ap.add_argument("--delay", type=float, default=5)
    ap.add_argument("--status", type=int, default=500)
    ap.add_argument("--tls", nargs=2)
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    replies = json.load(open(a.replies)) if a.replies else {}

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n)
            auth = (self.headers.get("Authorization") or "").split(" ")[0]
            try:
                req = json.loads(raw)
                cmd, params, tag = req[0][0], req[0][1], req[0][2]
            except Exception:
                cmd, params, tag = None, None, None
            with open(a.log, "a") as f:
                f.write(json.dumps({"command": cmd, "params": params,
                                    "auth": auth, "path": self.path,
                                    "client_port": self.client_address[1]})
                        + "\n")
            if a.mode == "slow":
                time.sleep(a.delay)
            if a.mode == "status":
                body = b"[]"
                self.send_response(a.status)
            elif a.mode == "malformed":
                body = b"<html>this is not JSON"
                self.send_response(200)
            else:
                r = replies.get(cmd, {"exitCode": 64})
                if "response" in r:
                    out = [["doveadmResponse", r["response"], tag]]
                else:
                    out = [["error", {"type": "exitCode",
                                      "exitCode": r["exitCode"]}, tag]]
                body = json.dumps(out).encode()
                self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    srv = S(("127.0.0.1", 0), H)
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
