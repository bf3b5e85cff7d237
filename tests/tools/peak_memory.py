"""Run a command; report its wall time and the peak of the summed resident memory of it and all its
descendants (sampled from /proc every 0.5 s; Linux). The README's study figures were measured with
`python tests/tools/peak_memory.py chainpay study bridging --transfers N --engine E`, which counts the fast
engine's node processes too (the Python process's own maxrss would not)."""
import os, subprocess, sys, time

def tree(pid):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop(); out.append(p); todo += kids.get(p, [])
    return out

def rss(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except FileNotFoundError:
        pass
    return 0

start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:])
peak = 0
while proc.poll() is None:
    peak = max(peak, sum(rss(p) for p in tree(proc.pid)))
    time.sleep(0.5)
print(f"exit {proc.returncode}; wall {time.perf_counter() - start:.1f} s; peak RSS (process tree) {peak / 2**20:.0f} MiB", file=sys.stderr)
