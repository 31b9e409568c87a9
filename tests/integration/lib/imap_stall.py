#!/usr/bin/env python3
"""imap_stall.py - a source IMAP server that accepts and then stalls, and
a client that connects to it the way an IMAP client does (waits for the
greeting with a read timeout), for the fault soak (lib/soak.sh).

  imap_stall.py serve PORTFILE COUNTFILE
      listen on 127.0.0.1 (a free port, written to PORTFILE), accept every
      connection and never send a byte; each accepted connection adds a
      line to COUNTFILE; a connection is closed when its client goes.
  imap_stall.py connect PORT SECONDS
      connect, wait SECONDS for the "* OK" greeting; none came: print a
      Dovecot-like error on stderr and exit 75 (EX_TEMPFAIL)."""
import select
import socket
import sys


def serve(portfile, countfile):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(128)
    with open(portfile + ".tmp", "w") as f:
        f.write(f"{ls.getsockname()[1]}\n")
    import os
    os.rename(portfile + ".tmp", portfile)
    conns = []
    while True:
        r, _, _ = select.select([ls] + conns, [], [])
        for s in r:
            if s is ls:
                c, _ = ls.accept()
                conns.append(c)
                with open(countfile, "a") as f:
                    f.write("accepted\n")
            else:
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if not data:  # the client went: forget it
                    conns.remove(s)
                    s.close()


def connect(port, secs):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.settimeout(secs)
    try:
        greeting = s.recv(4096)
    except socket.timeout:
        print(f"Error: imapc(127.0.0.1:{port}): no greeting in {secs:g} "
              f"seconds (server stalled) - disconnecting", file=sys.stderr)
        return 75
    if not greeting.startswith(b"* OK"):
        print(f"Error: imapc(127.0.0.1:{port}): bad greeting", file=sys.stderr)
        return 75
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
    else:
        sys.exit(connect(int(sys.argv[2]), float(sys.argv[3])))
