#!/usr/bin/env python3
"""genmail.py - fill, grow and thin an IMAP mailbox for migration tests.

Talks IMAP (plain LOGIN, no TLS) to a test server on loopback:

  genmail.py --port P fill    USER PASS --count N [--seed S]
  genmail.py --port P add     USER PASS --count N [--seed S]
  genmail.py --port P expunge USER PASS --count N [--seed S]

`fill` creates the folders (nested, with spaces and non-ASCII names, sent as
modified UTF-7 so the server stores them its own way) and appends N messages
spread over them; `add` appends N more; `expunge` removes N messages picked
at random.  Message sizes run from a few hundred bytes to 1 MB (mostly small,
a few large, as real mailboxes are).  Prints one summary line:
"messages=N bytes=B".
"""
import argparse
import base64
import imaplib
import random
import sys
import time

FOLDERS = ["INBOX", "Archive", "Archive/2024", "Sent Items", "Entwürfe",
           "Archive/2024/Q1 Reports", "Ünïcødé/日本語"]

MAX_SIZE = 1024 * 1024


def mutf7_encode(name):
    """RFC 3501 modified UTF-7."""
    out, buf = [], []

    def flush():
        if buf:
            raw = "".join(buf).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode().rstrip("=")
                       .replace("/", ",") + "-")
            buf.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            buf.append(ch)
    flush()
    return "".join(out)


def quote(name):
    return '"' + mutf7_encode(name).replace("\\", "\\\\").replace('"', '\\"') + '"'


def pick_size(rng):
    r = rng.random()
    if r < 0.70:
        return rng.randint(300, 8 * 1024)
    if r < 0.95:
        return rng.randint(8 * 1024, 128 * 1024)
    if r < 0.99:
        return rng.randint(128 * 1024, 512 * 1024)
    return rng.randint(512 * 1024, MAX_SIZE)


def make_message(rng, n, size, folder):
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000",
                         time.gmtime(1700000000 + n * 37))
    head = ("From: Sender %d <sender%d@example.org>\r\n"
            "To: rcpt@example.org\r\n"
            "Subject: test message %d in %s\r\n"
            "Date: %s\r\n"
            "Message-ID: <%d.%d@genmail.example.org>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n"
            "\r\n" % (n % 97, n % 97, n, folder.encode("ascii", "replace").decode(),
                      date, n, rng.randrange(1 << 30)))
    body = []
    left = max(size - len(head), 40)
    words = ["lorem", "ipsum", "dolor", "sit", "amet", "migration", "dovecot",
             "mailbox", "imapc", "dsync", "worker", "alpha", "beta"]
    line = []
    while left > 0:
        w = rng.choice(words)
        line.append(w)
        if sum(len(x) + 1 for x in line) > 70:
            s = " ".join(line) + "\r\n"
            body.append(s)
            left -= len(s)
            line = []
    return (head + "".join(body)).encode()


def connect(args):
    c = imaplib.IMAP4(args.host, args.port)
    c.login(args.user, args.password)
    return c


def ensure_folders(c):
    for f in FOLDERS:
        if f == "INBOX":
            continue
        typ, _ = c.create(quote(f))
        c.subscribe(quote(f))


def append(c, rng, count, start):
    total = 0
    for i in range(count):
        n = start + i
        folder = FOLDERS[0] if rng.random() < 0.4 else rng.choice(FOLDERS)
        msg = make_message(rng, n, pick_size(rng), folder)
        typ, data = c.append(quote(folder), None, None, msg)
        if typ != "OK":
            sys.exit("APPEND to %s failed: %s" % (folder, data))
        total += len(msg)
    return total


def existing(c):
    typ, data = c.list()
    names = []
    for line in data:
        if line is None:
            continue
        # (\HasNoChildren) "/" "name" or name
        s = line.decode()
        name = s.split(' "/" ', 1)[1]
        names.append(name)
    return names


def expunge(c, rng, count):
    boxes = []
    for name in existing(c):
        typ, data = c.select(name)
        if typ != "OK":
            continue
        typ, data = c.uid("SEARCH", None, "ALL")
        uids = data[0].split()
        boxes += [(name, u) for u in uids]
    victims = rng.sample(boxes, min(count, len(boxes)))
    by_box = {}
    for name, uid in victims:
        by_box.setdefault(name, []).append(uid.decode())
    for name, uids in by_box.items():
        c.select(name)
        c.uid("STORE", ",".join(uids), "+FLAGS.SILENT", "(\\Deleted)")
        c.expunge()
    return len(victims)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", type=int, default=0,
                   help="first message number (distinct Message-IDs)")
    p.add_argument("action", choices=["fill", "add", "expunge"])
    p.add_argument("user")
    p.add_argument("password")
    p.add_argument("--count", type=int, default=50)
    args = p.parse_args()
    rng = random.Random(args.seed)
    c = connect(args)
    if args.action == "expunge":
        n = expunge(c, rng, args.count)
        print("expunged=%d" % n)
    else:
        if args.action == "fill":
            ensure_folders(c)
        total = append(c, rng, args.count, args.start)
        print("messages=%d bytes=%d" % (args.count, total))
    c.logout()


if __name__ == "__main__":
    main()
