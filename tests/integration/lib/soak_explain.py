#!/usr/bin/env python3
"""soak_explain.py RUNS.LOG FAULTS.TXT FROZEN.TXT: for each pair of runs of
one mailbox that overlapped (as runs_check.py --frozen judges them), print
both runs' records and the faults lib/soak.sh injected from 5 s before the
first run to 2 s after the second, in milliseconds since the first record
of the log, so that a failed soak says what happened."""
import subprocess
import sys
import os


def main():
    runs_log, faults_txt, frozen_txt = sys.argv[1:4]
    recs = {}
    t0 = None
    with open(runs_log, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.split()
            if len(parts) != 4:
                continue
            kind, uid, pid, ns = parts[0], parts[1], parts[2], int(parts[3])
            t0 = ns if t0 is None else min(t0, ns)
            recs.setdefault((uid, pid), {})[kind] = ns
    if t0 is None:
        return 0
    faults = []
    if os.path.exists(faults_txt):
        with open(faults_txt, encoding="utf-8") as f:
            for line in f:
                ns, _, text = line.rstrip("\n").partition(" ")
                faults.append((int(ns), text))
    out = subprocess.run(
        [sys.executable, os.path.join(os.path.dirname(__file__), "runs_check.py"),
         "--frozen", frozen_txt, runs_log],
        capture_output=True, text=True).stdout

    def ms(ns):
        return f"{(ns - t0) / 1e6:.1f}" if ns is not None else "-"

    for line in out.splitlines():
        if not line.startswith("overlap: "):
            continue
        words = line.split()
        uid, p1, p2 = words[1], words[3], words[6]
        lo, hi = None, None
        for pid in (p1, p2):
            r = recs.get((uid, pid), {})
            print(f"{uid} pid {pid}: start {ms(r.get('start'))} end {ms(r.get('end'))}"
                  f" gone {ms(r.get('gone'))}")
            for v in r.values():
                lo = v if lo is None else min(lo, v)
                hi = v if hi is None else max(hi, v)
        for ns, text in faults:
            if lo is not None and lo - 5_000_000_000 <= ns <= hi + 2_000_000_000:
                print(f"  fault at {ms(ns)}: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
