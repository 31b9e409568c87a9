#!/usr/bin/env python3
"""soak_explain.py RUNS.LOG FAULTS.TXT FROZEN.TXT [DW_DIR]: for each pair of
runs of one mailbox that overlapped (as runs_check.py --frozen judges them),
print both runs' records and the faults lib/soak.sh injected from 5 s before
the first run to 2 s after the second, in milliseconds since the first
record of the log, so that a failed soak says what happened.

With DW_DIR (the soak's directory), each run is also named by the worker
that started it (DW_DIR/runs/parents has "PID PPID" per run,
DW_DIR/workers.txt "NAME PID" per worker started) and that worker's log
lines about the mailbox in the same window are printed
(DW_DIR/NAME.log, lines "2026-...Z LEVEL [job ID UID@phase] text", and its
lines without a job about leases, rescues and the heartbeat), and so
is whether the run was among the processes frozen (FROZEN.TXT lists only the
ones killed while stopped; DW_DIR/frozen-all.txt all of them)."""
import calendar
import os
import subprocess
import sys
import time


def log_ns(stamp):
    """'2026-12-03T17:29:01.123Z' -> ns since the epoch, or None."""
    try:
        whole, frac = stamp.rstrip("Z").split(".")
        secs = calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S"))
        return (secs * 1000 + int(frac)) * 1_000_000
    except ValueError:
        return None


def read_pairs(path):
    out = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                words = line.split()
                if len(words) >= 2:
                    out.setdefault(words[0], []).append(words[1:])
    return out


def main():
    runs_log, faults_txt, frozen_txt = sys.argv[1:4]
    dw_dir = sys.argv[4] if len(sys.argv) > 4 else None
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
    parents, workers, frozen_all = {}, {}, {}
    if dw_dir is not None:
        # a pid can be reused (pid_max 32768): keep the last parent seen
        parents = {pid: v[-1][0] for pid, v in
                   read_pairs(os.path.join(dw_dir, "runs", "parents")).items()}
        for name, pids in read_pairs(os.path.join(dw_dir, "workers.txt")).items():
            for (pid,) in pids:
                workers[pid] = name
        for ns, pids in read_pairs(os.path.join(dw_dir, "frozen-all.txt")).items():
            for p in pids:
                for pid in p:
                    frozen_all.setdefault(pid, []).append(int(ns))
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
        names = []
        for pid in (p1, p2):
            r = recs.get((uid, pid), {})
            ppid = parents.get(pid)
            name = workers.get(ppid, "?") if ppid is not None else "?"
            names.append(name)
            frozen = ", frozen at " + " ".join(ms(ns) for ns in frozen_all[pid]) \
                if pid in frozen_all else ""
            print(f"{uid} pid {pid}: start {ms(r.get('start'))} end {ms(r.get('end'))}"
                  f" gone {ms(r.get('gone'))} (worker {name}, pid {ppid or '?'}{frozen})")
            for v in r.values():
                lo = v if lo is None else min(lo, v)
                hi = v if hi is None else max(hi, v)
        for ns, text in faults:
            if lo is not None and lo - 5_000_000_000 <= ns <= hi + 2_000_000_000:
                print(f"  fault at {ms(ns)}: {text}")
        for name in dict.fromkeys(n for n in names if n != "?"):
            path = os.path.join(dw_dir, name + ".log")
            if not os.path.exists(path):
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                for logline in f:
                    stamp, _, rest = logline.rstrip("\n").partition(" ")
                    ns = log_ns(stamp)
                    about = f" {uid}@" in rest or ("[job " not in rest and any(
                        w in rest for w in ("lease", "given up", "rescued", "heartbeat")))
                    if (ns is None or not about or lo is None
                            or not lo - 5_000_000_000 <= ns <= hi + 1_000_000_000):
                        continue
                    print(f"  {name} at {ms(ns)}: {rest[:300]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
