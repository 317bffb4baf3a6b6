#!/usr/bin/python3
"""killer.py -- SIGKILL the programs of one imc instance at random moments,
for the crash tests.

    killer.py --home DIR --stop FILE [--names a,b,...] [--weights a=N,...]
              [--interval MIN MAX] [--report FILE]

Until FILE exists: sleep a random time between MIN and MAX seconds (default
0.2 0.6), pick one of the named programs (default imc-send, imc-remote,
imc-local, imc-smtpd) at random by weight (default 1 each), and when the
instance runs it, kill one of its processes, chosen at random, with
SIGKILL.  A program that does not run then is not replaced by another one,
so each program's kill rate follows its weight whatever else runs; except
that a program with a weight above 0 that was never killed yet is picked
first whenever it runs, so that every one is hit early in the run.

A process belongs to the instance when its name (/proc/PID/comm) is one of
the names and its environment (/proc/PID/environ) holds exactly
IMC_HOME=DIR, where DIR is the instance's env/IMC_HOME (every imc service
gets it from the instance's s6-envdir, and their children inherit it).
Nothing else on the machine is ever touched.  The process is opened as a
pidfd before it is checked, and the signal goes through that pidfd, so a
pid reused in between is never hit.

Around each kill of imc-send it counts the messages in the queue (files
in queue/new/ and queue/mess/*/), just before and just after, and keeps
the larger: only those can have deliveries repeated because of that kill
(the others were finished and removed before it, and nothing leaves the
queue while imc-send is down).

At the end the report FILE (default STOPFILE.kills) gets one line per
name, "NAME N", a line "total N", and "queued_at_send_kills N", the sum
of those counts.
"""
import argparse
import os
import random
import signal
import time

DEFAULT_NAMES = 'imc-send,imc-remote,imc-local,imc-smtpd'


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument('--home', required=True)
    p.add_argument('--stop', required=True)
    p.add_argument('--names', default=DEFAULT_NAMES)
    p.add_argument('--weights', default='')
    p.add_argument('--interval', nargs=2, type=float, default=[0.2, 0.6])
    p.add_argument('--report')
    a = p.parse_args()
    a.names = a.names.split(',')
    w = dict((n, 1.0) for n in a.names)
    for kv in filter(None, a.weights.split(',')):
        k, v = kv.split('=')
        w[k] = float(v)
    a.weights = w
    return a


def instance_home(home):
    """the instance's IMC_HOME as its services see it (env/IMC_HOME)"""
    try:
        with open(os.path.join(home, 'env', 'IMC_HOME')) as f:
            return f.read().strip()
    except OSError:
        return os.path.realpath(home)


def read(path):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except OSError:
        return None


def belongs(pid, names, marker):
    """the process's name if it is one of ours, else None"""
    comm = read('/proc/%d/comm' % pid)
    if comm is None:
        return None
    comm = comm.decode(errors='replace').strip()
    if comm not in names:
        return None
    env = read('/proc/%d/environ' % pid)
    if env is None or marker not in env.split(b'\0'):
        return None
    return comm


def candidates(names, marker):
    """{name: [pid, ...]} of the instance's running programs"""
    found = {}
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        n = belongs(int(d), names, marker)
        if n:
            found.setdefault(n, []).append(int(d))
    return found


def kill_one(pid, names, marker):
    """SIGKILL pid through a pidfd after checking it again: True if killed"""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return False
    try:
        if not belongs(pid, names, marker):
            return False
        signal.pidfd_send_signal(fd, signal.SIGKILL)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def queued(home):
    """messages in the queue: queue/new/ and queue/mess/*/"""
    q = os.path.join(home, 'queue')
    n = 0
    for d in [os.path.join(q, 'new')] + [os.path.join(q, 'mess', h) for h in '0123456789abcdef']:
        try:
            n += len(os.listdir(d))
        except OSError:
            pass
    return n


def main():
    a = parse_args()
    marker = b'IMC_HOME=' + instance_home(a.home).encode()
    kills = dict((n, 0) for n in a.names)
    at_risk = 0
    while not os.path.exists(a.stop):
        time.sleep(random.uniform(*a.interval))
        name = random.choices(a.names, [a.weights.get(n, 0) for n in a.names])[0]
        found = candidates(a.names, marker)
        unkilled = [n for n in a.names if not kills[n] and a.weights.get(n, 0) > 0 and found.get(n)]
        if unkilled:
            name = random.choice(unkilled)
        if not found.get(name):
            continue
        before = queued(a.home) if name == 'imc-send' else 0
        if kill_one(random.choice(found[name]), a.names, marker):
            kills[name] += 1
            if name == 'imc-send':
                at_risk += max(before, queued(a.home))
    with open(a.report or a.stop + '.kills', 'w') as f:
        for n in a.names:
            f.write('%s %d\n' % (n, kills[n]))
        f.write('total %d\n' % sum(kills.values()))
        f.write('queued_at_send_kills %d\n' % at_risk)


if __name__ == '__main__':
    main()
