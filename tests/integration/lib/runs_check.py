#!/usr/bin/env python3
"""runs_check.py RUNS.LOG: count the runs of each mailbox recorded by
runs.sh and the ones that overlapped another run of the same mailbox.

A run starts at its "start" line and ends at its "end" line: run.sh
writes it once its child has exited and starts nothing after it, so only
the exiting shell is left.  A run without an "end" (killed) ends at its
"gone" line (its last process vanished, so this counts children that
outlived the shell), or now when it has neither (it is still running).
The "gone" of a run that has an "end" is not used: it only adds the
watcher's wake-up latency (3-18 ms seen on a busy 2-core machine), which
would count a next run started just after as overlapping.  Prints "runs N overlapping M mailboxes K" and one line per
overlapping pair; exits 1 when any pair overlapped, 2 on a bad log.

runs_check.py --frozen FILE RUNS.LOG: as above, where FILE has lines
"NS PID..." for processes that were stopped (SIGSTOP) at NS together with
the worker that ran them (lib/soak.sh freezes a worker's whole session,
as a VM pause does) and killed before they were continued: a listed run
that started before NS and has no "end" did nothing after NS, so it ends
there instead of at its "gone" (the kill came only after the thaw).  The
caller must make sure none of them was continued alive (soak.sh counts
them).  Prints "frozen N" too: the runs so cut.

runs_check.py --alive RUNS.LOG: prints "alive UID PID" for every run whose
process group has not been seen gone yet; exits 1 when there is one."""
import sys
import time


def main():
    alive_only = len(sys.argv) > 2 and sys.argv[1] == "--alive"
    if alive_only:
        del sys.argv[1]
    frozen = {}  # pid -> the earliest time it was frozen
    if len(sys.argv) > 3 and sys.argv[1] == "--frozen":
        with open(sys.argv[2], encoding="utf-8") as f:
            for line in f:
                ns, *pids = line.split()
                for pid in pids:
                    frozen.setdefault(pid, []).append(int(ns))
        del sys.argv[1:3]
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
    if alive_only:
        left = [key for key in order if runs[key][2] is None]
        for uid, pid in left:
            print(f"alive {uid} {pid}")
        return 1 if left else 0
    now = time.time_ns()
    by_uid = {}
    cut = 0
    for key in order:
        start, end, gone = runs[key]
        stop = end if end is not None else gone if gone is not None else now
        if end is None:
            at = [ns for ns in frozen.get(key[1], []) if start < ns < stop]
            if at:
                stop = min(at)
                cut += 1
        by_uid.setdefault(key[0], []).append((start, stop, key[1]))
    overlaps = []
    for uid, spans in by_uid.items():
        spans.sort()
        for i, (s1, e1, p1) in enumerate(spans):
            for s2, e2, p2 in spans[i + 1:]:
                if s2 >= e1:
                    break
                overlaps.append((uid, p1, p2, (min(e1, e2) - s2) / 1e6))
    print(f"runs {len(order)} overlapping {len(overlaps)} mailboxes {len(by_uid)}"
          + (f" frozen {cut}" if frozen else ""))
    for uid, p1, p2, ms in overlaps[:50]:
        print(f"overlap: {uid} pid {p1} and pid {p2} for {ms:.1f} ms")
    return 1 if overlaps else 0


if __name__ == "__main__":
    sys.exit(main())
