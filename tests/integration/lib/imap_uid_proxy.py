#!/usr/bin/env python3
"""imap_uid_proxy.py - an IMAP proxy that makes a source mailbox look as if
it held two messages with the same UID.

    imap_uid_proxy.py --upstream-port P [--from-uid A --to-uid B]
                      [--mailbox INBOX] [--listen-port 0] [--port-file F]
                      [--delay-ms N] [--heal]
                      [--then refuse|stall|badlogin [--then-from N]
                       [--then-count K]]

Listens on 127.0.0.1 (a free port unless --listen-port), forwards every
connection to 127.0.0.1:P, and in the server's untagged FETCH replies for
the selected mailbox --mailbox (compared as the client named it, quotes
removed, modified UTF-7 decoded: --mailbox is the UTF-8 name) rewrites
`UID A` into `UID B`.  With B an existing lower UID, real
dsync sees a message reappear and prints `Mailbox 'INBOX' state corrupted:
Expunged message reappeared in session (uid=B < next_uid=...)`
(DESIGN.md section 4).  Literals ({N}) are passed through untouched, so
message bodies are never rewritten.  The chosen port is printed on stdout
(and written to --port-file) once the proxy listens.  Python 3 stdlib only;
stop it by its PID.

--heal stops the rewriting for good (every session) once a client sent
`UID EXPUNGE B` in --mailbox through the proxy: the repair of
move-duplicates (copy UID B away, expunge it) removed the duplicate, so the
source no longer shows two messages with UID B.

--delay-ms N holds every FETCH reply that carries a literal (a message
body) N ms before passing it on: a slow source, so that a migration lasts
long enough to stop its worker in the middle (without --from-uid nothing is
rewritten).

--then MODE makes the source fail from connection N on (--then-from,
default 2), to test the failure paths of the worker's IMAP repair.  dsync's
first attempt uses two connections: the first finds the duplicate, and
dsync reconnects once ("- reconnecting") and meets it again; the third
connection is then the worker's repair (--then-from 3).  Modes:
  refuse    the proxy closes its listening socket once it accepted
            connection N-1: later connects are refused by the kernel (the
            source went away);
  stall     later connections are accepted and never answered (no
            greeting): a source that hangs;
  badlogin  later connections reach the real source, but the password of
            their LOGIN / AUTHENTICATE PLAIN is replaced by a wrong one,
            so the real Dovecot refuses the login itself.
--then-count K limits stall and badlogin to K connections from N on (0:
all of them); later ones are passed on normally again.
The proxy writes one line per connection to stderr ("session N: MODE").
"""
import argparse
import base64
import re
import socket
import sys
import threading
import time

LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n$")
SELECT = re.compile(rb"^\S+ (?:SELECT|EXAMINE) (\"(?:[^\"\\]|\\.)*\"|\S+)",
                    re.IGNORECASE)
FETCH = re.compile(rb"^\* \d+ FETCH \(")
LOGIN = re.compile(rb"^(\S+ LOGIN (?:\"(?:[^\"\\]|\\.)*\"|\S+) ).*\r\n$",
                   re.IGNORECASE)
AUTH_PLAIN = re.compile(rb"^(\S+ AUTHENTICATE PLAIN)(?: (\S+))?\r\n$",
                        re.IGNORECASE)
WRONG = "dmf-proxy-wrong-password"
HEALED = threading.Event()


def mutf7_decode(name):
    """RFC 3501 modified UTF-7 -> str (lenient: a test tool)."""
    out, i = [], 0
    while i < len(name):
        if name[i] == "&":
            j = name.index("-", i)
            if j == i + 1:
                out.append("&")
            else:
                b = name[i + 1:j].replace(",", "/")
                b += "=" * (-len(b) % 4)
                out.append(base64.b64decode(b).decode("utf-16-be"))
            i = j + 1
        else:
            out.append(name[i])
            i += 1
    return "".join(out)


def wrong_plain(b64):
    """SASL PLAIN authzid\0authcid\0password with a wrong password."""
    try:
        parts = base64.b64decode(b64).split(b"\0")
    except ValueError:
        return b64
    if len(parts) != 3:
        return b64
    parts[2] = WRONG.encode()
    return base64.b64encode(b"\0".join(parts))


class Lines:
    """Reads CRLF lines and literals from a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                out, self.buf = self.buf[:i + 2], self.buf[i + 2:]
                return out
            if len(self.buf) > 1 << 20:  # no CRLF in 1 MB: pass it on
                out, self.buf = self.buf, b""
                return out
            self._fill()

    def raw(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


class Session:
    def __init__(self, client, args, mode=None):
        self.client = client
        self.args = args
        self.mode = mode
        self.auth_next = False
        self.selected = None
        self.upstream = socket.create_connection(("127.0.0.1",
                                                  args.upstream_port))
        pat = r"(?<=[( ])UID %d(?=[ )])" % args.from_uid
        self.uid_re = re.compile(pat.encode())
        self.uid_to = b"UID %d" % args.to_uid

    def run(self):
        threads = [threading.Thread(target=self.pump, args=(src, dst, up),
                                    daemon=True)
                   for src, dst, up in ((self.client, self.upstream, True),
                                        (self.upstream, self.client, False))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def rewrite(self, line):
        if HEALED.is_set():
            return line
        if self.selected != self.args.mailbox or not FETCH.match(line):
            return line
        return self.uid_re.sub(self.uid_to, line)

    def note_select(self, line):
        m = SELECT.match(line)
        if m:
            name = m.group(1)
            if name.startswith(b'"'):
                name = re.sub(rb"\\(.)", rb"\1", name[1:-1])
            name = name.decode("utf-8", "replace")
            try:
                name = mutf7_decode(name)
            except (ValueError, UnicodeDecodeError):
                pass
            self.selected = name

    def bad_login(self, line):
        """--then badlogin: the client's password replaced."""
        if self.auth_next:
            self.auth_next = False
            if line.strip() != b"*":
                return wrong_plain(line.strip()) + b"\r\n"
            return line
        m = LOGIN.match(line)
        if m:
            return m.group(1) + b'"' + WRONG.encode() + b'"\r\n'
        m = AUTH_PLAIN.match(line)
        if m:
            if m.group(2) is None:
                self.auth_next = True  # the response follows the "+"
                return line
            return m.group(1) + b" " + wrong_plain(m.group(2)) + b"\r\n"
        return line

    def pump(self, src, dst, upward):
        reader = Lines(src)
        try:
            while True:
                line = reader.line()
                fetch = False
                if upward:
                    if self.mode == "badlogin":
                        line = self.bad_login(line)
                    self.note_select(line)
                    self.note_expunge(line)
                else:
                    fetch = bool(FETCH.match(line))
                    line = self.rewrite(line)
                m = LITERAL.search(line)
                if fetch and m and self.args.delay_ms > 0:
                    time.sleep(self.args.delay_ms / 1000.0)
                dst.sendall(line)
                while m:
                    dst.sendall(reader.raw(int(m.group(1))))
                    # the line goes on after the literal
                    line = reader.line()
                    if fetch:
                        line = self.rewrite_tail(line)
                    dst.sendall(line)
                    m = LITERAL.search(line)
        except (EOFError, OSError):
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def note_expunge(self, line):
        if (self.args.heal and self.selected == self.args.mailbox and
                re.match(rb"^\S+ UID EXPUNGE %d\r\n$" % self.args.to_uid,
                         line, re.IGNORECASE)):
            HEALED.set()

    def rewrite_tail(self, line):
        # the rest of a FETCH line after a literal ( UID n FLAGS ...)
        if HEALED.is_set() or self.selected != self.args.mailbox:
            return line
        return self.uid_re.sub(self.uid_to, line)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream-port", type=int, required=True)
    ap.add_argument("--listen-port", type=int, default=0)
    ap.add_argument("--mailbox", default="INBOX")
    ap.add_argument("--from-uid", type=int, default=-1)
    ap.add_argument("--to-uid", type=int, default=-1)
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--heal", action="store_true")
    ap.add_argument("--port-file")
    ap.add_argument("--then", choices=["refuse", "stall", "badlogin"])
    ap.add_argument("--then-from", type=int, default=2)
    ap.add_argument("--then-count", type=int, default=0)
    args = ap.parse_args()
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.listen_port))
    srv.listen(64)
    port = srv.getsockname()[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        import os
        os.rename(args.port_file + ".tmp", args.port_file)
    print(port, flush=True)
    n = 0
    stalled = []
    while True:
        client, _ = srv.accept()
        n += 1
        mode = None
        if args.then and n >= args.then_from and (
                args.then_count == 0 or
                n < args.then_from + args.then_count):
            mode = args.then
        sys.stderr.write("session %d: %s\n" % (n, mode or "pass"))
        sys.stderr.flush()
        if args.then == "refuse" and n == args.then_from - 1:
            srv.close()  # later connects: ECONNREFUSED
        if mode == "stall":
            stalled.append(client)  # accepted, never answered
            continue
        try:
            s = Session(client, args, mode)
        except OSError as e:
            sys.stderr.write("upstream: %s\n" % e)
            client.close()
            continue
        threading.Thread(target=s.run, daemon=True).start()
        if args.then == "refuse" and n == args.then_from - 1:
            threading.Event().wait()  # serve the open ones until killed


if __name__ == "__main__":
    main()
