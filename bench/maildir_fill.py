#!/usr/bin/env python3
"""maildir_fill.py - write a big maildir++ mailbox straight to disk.

    maildir_fill.py MAILDIR COUNT [--seed S] [--uid UID --gid GID]

Filling a mailbox over IMAP costs about 28 ms a message here; the
benchmark needs 50,000, so this writes the files directly (Dovecot indexes
them on first access).  Messages and their sizes come from
tests/integration/lib/genmail.py (same generator, same size distribution:
mostly a few KB, some up to 1 MB), spread over INBOX and the folders
Archive, Archive/2024, Sent Items and Entwürfe (maildir++ names: .Archive,
.Archive.2024, ".Sent Items", .Entw&APw-rfe).  Prints
"messages=N bytes=B".
"""
import argparse
import os
import random
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "integration", "lib"))
sys.dont_write_bytecode = True
import genmail  # noqa: E402

FOLDERS = ["INBOX", "Archive", "Archive/2024", "Sent Items", "Entwürfe"]


def text_block(rng, size=1 << 21):
    """2 MB of genmail-style lines to cut message bodies from (genmail's
    own word-by-word bodies cost 10 ms a message)."""
    words = ["lorem", "ipsum", "dolor", "sit", "amet", "migration",
             "dovecot", "mailbox", "imapc", "dsync", "worker", "alpha", "beta"]
    lines, n = [], 0
    while n < size:
        line = " ".join(rng.choice(words) for _ in range(12)) + "\r\n"
        lines.append(line)
        n += len(line)
    return "".join(lines).encode()


def make_message(rng, block, n, size, folder):
    head = genmail.make_message(rng, n, 0, folder)  # headers + 1 line
    head = head[:head.index(b"\r\n\r\n") + 4]
    left = max(size - len(head), 40)
    start = rng.randrange(0, len(block) - left - 1)
    start = block.index(b"\n", start) + 1
    body = block[start:start + left]
    cut = body.rfind(b"\r\n")
    if cut > 0:
        body = body[:cut + 2]
    else:
        body = body.rstrip(b"\r\n") + b"\r\n"
    return head + body


def disk_name(folder):
    if folder == "INBOX":
        return ""
    return "." + genmail.mutf7_encode(folder).replace("/", ".")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("maildir")
    ap.add_argument("count", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--uid", type=int, default=-1)
    ap.add_argument("--gid", type=int, default=-1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    dirs = {}
    for f in FOLDERS:
        d = os.path.join(args.maildir, disk_name(f))
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        if f != "INBOX":
            open(os.path.join(d, "maildirfolder"), "w").close()
        dirs[f] = d
    with open(os.path.join(args.maildir, "subscriptions"), "w") as s:
        for f in FOLDERS[1:]:
            s.write(f + "\n")
    block = text_block(rng)
    total = 0
    base = 1700000000
    for n in range(args.count):
        folder = "INBOX" if rng.random() < 0.4 else rng.choice(FOLDERS)
        msg = make_message(rng, block, n, genmail.pick_size(rng), folder)
        t = base + n
        name = "%d.M%dP%d.bench,S=%d:2,S" % (t, n, os.getpid(), len(msg))
        path = os.path.join(dirs[folder], "cur", name)
        with open(path, "wb") as f:
            f.write(msg)
        os.utime(path, (t, t))
        total += len(msg)
    if args.uid >= 0:
        for root, ds, fs in os.walk(args.maildir):
            os.chown(root, args.uid, args.gid)
            for x in fs:
                os.chown(os.path.join(root, x), args.uid, args.gid)
        os.chown(os.path.dirname(os.path.abspath(args.maildir)),
                 args.uid, args.gid)
    print("messages=%d bytes=%d" % (args.count, total))


if __name__ == "__main__":
    main()
