#!/usr/bin/env python3
"""runs_check.py RUNS.LOG: count the runs of each mailbox recorded by
runs.sh and the ones that overlapped another run of the same mailbox.

A run starts at its "start" line and ends at the later of its "end" line
and its "gone" line (its process group vanished), or now when it has
neither (it is still running).  Prints "runs N overlapping M mailboxes K" and one line per
overlapping pair; exits 1 when any pair overlapped, 2 on a bad log."""
import sys
import time


def main():
    runs = {}  # (uid, pid) -> [start, end, gone]
    order = []
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if len(parts) != 4 or parts[0] not in ("start", "end", "gone"):
                print(f"bad line {n}: {line!r}")
                return 2
            kind, uid, pid, ns = parts[0], parts[1], parts[2], int(parts[3])
            key = (uid, pid)
            if kind == "start":
                runs[key] = [ns, None, None]
                order.append(key)
            elif key in runs:
                runs[key][1 if kind == "end" else 2] = ns
    now = time.time_ns()
    by_uid = {}
    for key in order:
        start, end, gone = runs[key]
        known = [t for t in (end, gone) if t is not None]
        stop = max(known) if known else now
        stop = max(stop, start)  # "gone" is the last time seen alive
        by_uid.setdefault(key[0], []).append((start, stop, key[1]))
    overlaps = []
    for uid, spans in by_uid.items():
        spans.sort()
        for i, (s1, e1, p1) in enumerate(spans):
            for s2, e2, p2 in spans[i + 1:]:
                if s2 >= e1:
                    break
                overlaps.append((uid, p1, p2, (min(e1, e2) - s2) / 1e6))
    print(f"runs {len(order)} overlapping {len(overlaps)} mailboxes {len(by_uid)}")
    for uid, p1, p2, ms in overlaps[:50]:
        print(f"overlap: {uid} pid {p1} and pid {p2} for {ms:.1f} ms")
    return 1 if overlaps else 0


if __name__ == "__main__":
    sys.exit(main())
