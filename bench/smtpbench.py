#!/usr/bin/python3
"""smtpbench.py -- the Python helpers of bench/smtp.sh (sockets, /proc memory, the sink count).

    smtpbench.py sinkwatch WANT DONE PROGRESS
        stdin: the output of `smtp-sink -c` (counters "sess=S quit=Q mesg=M" separated by CR).
        When M first reaches WANT, writes "EPOCH_SECONDS M" to the file DONE (write, rename).
        At most every 0.5 s, and at EOF, writes "EPOCH_SECONDS M" to the file PROGRESS the
        same way (for the caller's stall check).  At EOF prints the last M on stdout.
    smtpbench.py memsample ROOTPID COMM INTERVAL
        Until SIGTERM, every INTERVAL seconds one line for the descendants of ROOTPID:
          EPOCH n_COMM sum_private_COMM_kb max_private_COMM_kb n_tree private_tree_kb
        (private = Private_Clean + Private_Dirty of /proc/PID/smaps_rollup, in KB).
    smtpbench.py treemem ROOTPID [COMM]
        One line for ROOTPID and its descendants now:
          n_tree private_kb pss_kb rss_kb n_COMM private_COMM_kb
        COMM defaults to imc-smtpd.  Exit 1 when ROOTPID does not exist.
    smtpbench.py idle HOST PORT COUNT TIMEOUT
        Opens COUNT connections, reads each greeting (a line starting "220"), prints
        "ready OPEN GREETED FAILED" and flushes, then holds them all until SIGTERM;
        then closes them and exits 0.  A connection that fails or gets
        something else than 220 within TIMEOUT seconds counts as FAILED (reason on stderr).
    smtpbench.py procwatch INTERVAL
        Until SIGTERM, every INTERVAL seconds "EPOCH PROCESSES": the `processes` counter of
        /proc/stat (forks since boot).  Starts no process itself.
    smtpbench.py procwindow PROCFILE SAMPLES N
        The processes started in the window of a postfix-baseline.sh run, per message: the window
        runs from the first EPOCH (first field) of its sampler's file SAMPLES to the last one plus
        the sampler's interval (0.5 s: the sampler is stopped at the window's end, at most that
        long after its last line); the counter at each end is interpolated from PROCFILE
        (procwatch's lines).  Prints "PER_MESSAGE DELTA",
        or "n/a n/a" when the files do not cover the window.
    smtpbench.py greet HOST PORT TIMEOUT
        One new connection: prints "ok SECONDS LINE" when a 220 greeting came within
        TIMEOUT seconds (then sends QUIT), else "fail SECONDS REASON" and exits 1.

Failure modes: a process that vanishes while it is read is skipped; bad arguments exit 100.
"""
import os
import selectors
import signal
import socket
import sys
import time


# ---------------------------------------------------------------- /proc
def proc_table():
    """{pid: (ppid, comm)} of every process now."""
    t = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        r = s.rfind(")")
        t[int(d)] = (int(s[r + 2:].split()[1]), s[s.find("(") + 1:r])
    return t


def descendants(root, table):
    """root and every descendant of it that is in table."""
    kids = {}
    for pid, (ppid, _) in table.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = [], [root] if root in table else []
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, ()))
    return out


def rollup(pid):
    """(private, pss, rss) KB of pid, or None when it is gone."""
    v = {}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                k, _, rest = line.partition(":")
                if k in ("Rss", "Pss", "Private_Clean", "Private_Dirty"):
                    v[k] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return v.get("Private_Clean", 0) + v.get("Private_Dirty", 0), v.get("Pss", 0), v.get("Rss", 0)


def tree_memory(root, comm):
    """(n_tree, private, pss, rss, n_comm, private_comm list) for root's tree now."""
    table = proc_table()
    n = priv = pss = rss = 0
    cp = []
    for pid in descendants(root, table):
        m = rollup(pid)
        if m is None:
            continue
        n += 1
        priv += m[0]
        pss += m[1]
        rss += m[2]
        if table[pid][1] == comm:
            cp.append(m[0])
    return n, priv, pss, rss, len(cp), cp


# ---------------------------------------------------------------- commands
def write_atomic(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def cmd_sinkwatch(want, done, progress):
    buf, last, reported, written = b"", 0, False, 0.0
    while True:
        d = os.read(0, 65536)
        if not d:
            break
        parts = (buf + d).split(b"\r")
        buf = parts[-1]
        for p in parts[:-1]:
            i = p.rfind(b"mesg=")
            if i >= 0:
                last = int(p[i + 5:].split()[0] or 0)
        now = time.time()
        if last >= want and not reported:
            write_atomic(done, "%.6f %d\n" % (now, last))
            reported = True
        if now - written >= 0.5:
            write_atomic(progress, "%.6f %d\n" % (now, last))
            written = now
    write_atomic(progress, "%.6f %d\n" % (time.time(), last))
    print(last)


def cmd_memsample(root, comm, interval):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        ts = time.time()
        n, priv, _, _, nc, cp = tree_memory(root, comm)
        print("%.3f %d %d %d %d %d" % (ts, nc, sum(cp), max(cp, default=0), n, priv), flush=True)
        time.sleep(max(0.0, interval - (time.time() - ts)))


def processes():
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("processes "):
                return int(line.split()[1])
    return 0


def cmd_procwatch(interval):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        print("%.3f %d" % (time.time(), processes()), flush=True)
        time.sleep(interval)


def first_fields(path, cast):
    out = []
    with open(path) as f:
        for line in f:
            p = line.split()
            try:
                out.append([cast(x) for x in p[:2]])
            except ValueError:
                continue
    return out


def at(points, t):
    """the counter at time t, interpolated between the two samples around it"""
    for (t0, v0), (t1, v1) in zip(points, points[1:]):
        if t0 <= t <= t1:
            return v0 + (v1 - v0) * ((t - t0) / (t1 - t0) if t1 > t0 else 0)
    return None


PF_SAMPLE_INTERVAL = 0.5     # postfix-baseline.sh's sampler


def cmd_procwindow(procfile, samples, n):
    try:
        points = first_fields(procfile, float)
        ts = [p[0] for p in first_fields(samples, float)]
    except OSError:
        ts, points = [], []
    a = at(points, ts[0]) if ts else None
    b = at(points, ts[-1] + PF_SAMPLE_INTERVAL) if ts else None
    if a is None or b is None or n <= 0:
        print("n/a n/a")
        return 0
    print("%.3f %d" % ((b - a) / n, round(b - a)))
    return 0


def cmd_treemem(root, comm):
    n, priv, pss, rss, nc, cp = tree_memory(root, comm)
    if not n:
        return 1
    print("%d %d %d %d %d %d" % (n, priv, pss, rss, nc, sum(cp)))
    return 0


def greeting(sock, deadline):
    """the first line from sock, or raise OSError when none came in time."""
    data = b""
    while b"\n" not in data:
        left = deadline - time.time()
        if left <= 0:
            raise OSError("no greeting in time")
        sock.settimeout(left)
        d = sock.recv(512)
        if not d:
            raise OSError("closed before the greeting: %r" % data)
        data += d
    return data.split(b"\n")[0].decode("latin-1").rstrip("\r")


def open_many(host, port, count, timeout):
    """count connected sockets (each non-blocking connect), and how many failed."""
    socks, failed = [], 0
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.settimeout(timeout)
            s.connect((host, port))
            socks.append(s)
        except OSError as e:
            print("smtpbench: idle: connect: %s" % e, file=sys.stderr)
            s.close()
            failed += 1
    return socks, failed


def read_greetings(socks, timeout):
    """how many of socks got a 220 line within timeout (all read in parallel)."""
    sel = selectors.DefaultSelector()
    bufs = {}
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        bufs[s] = b""
    good, deadline = 0, time.time() + timeout
    while bufs and time.time() < deadline:
        for key, _ in sel.select(max(0.0, deadline - time.time())):
            s = key.fileobj
            try:
                d = s.recv(512)
            except OSError:
                d = b""
            bufs[s] += d
            if b"\n" in bufs[s] or not d:
                if bufs[s].startswith(b"220"):
                    good += 1
                else:
                    print("smtpbench: idle: greeting: %r" % bufs[s][:80], file=sys.stderr)
                sel.unregister(s)
                del bufs[s]
    return good


def cmd_idle(host, port, count, timeout):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 64), hard))
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    socks, failed = open_many(host, port, count, timeout)
    good = read_greetings(socks, timeout)
    print("ready %d %d %d" % (len(socks), good, count - good), flush=True)
    while not stop:
        signal.pause()
    for s in socks:
        s.close()
    return 0


def cmd_greet(host, port, timeout):
    t0 = time.time()
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            line = greeting(s, t0 + timeout)
            dt = time.time() - t0
            if not line.startswith("220"):
                print("fail %.3f %s" % (dt, line))
                return 1
            s.sendall(b"QUIT\r\n")
            print("ok %.3f %s" % (dt, line))
            return 0
    except OSError as e:
        print("fail %.3f %s" % (time.time() - t0, e))
        return 1


def main(a):
    try:
        if a[:1] == ["sinkwatch"] and len(a) == 4:
            return cmd_sinkwatch(int(a[1]), a[2], a[3]) or 0
        if a[:1] == ["memsample"] and len(a) == 4:
            return cmd_memsample(int(a[1]), a[2], float(a[3]))
        if a[:1] == ["treemem"] and len(a) in (2, 3):
            return cmd_treemem(int(a[1]), a[2] if len(a) == 3 else "imc-smtpd")
        if a[:1] == ["idle"] and len(a) == 5:
            return cmd_idle(a[1], int(a[2]), int(a[3]), float(a[4]))
        if a[:1] == ["procwatch"] and len(a) == 2:
            return cmd_procwatch(float(a[1]))
        if a[:1] == ["procwindow"] and len(a) == 4:
            return cmd_procwindow(a[1], a[2], int(a[3]))
        if a[:1] == ["greet"] and len(a) == 4:
            return cmd_greet(a[1], int(a[2]), float(a[3]))
    except ValueError:
        pass
    print("usage: smtpbench.py sinkwatch WANT DONE PROGRESS | memsample ROOTPID COMM INTERVAL |"
          " treemem ROOTPID [COMM] | idle HOST PORT COUNT TIMEOUT | greet HOST PORT TIMEOUT |"
          " procwatch INTERVAL | procwindow PROCFILE SAMPLES N", file=sys.stderr)
    return 100


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
