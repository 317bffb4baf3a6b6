#!/usr/bin/python3
"""memwatch.py -- samples the memory of one imc instance's SMTP side during
a load test.

    memwatch.py --home DIR --stop FILE [--interval SECONDS]

Until FILE exists, every interval (default 0.5 s): find imc-tcpd and the
imc-smtpd processes of the instance (name in /proc/PID/comm and exactly
IMC_HOME=DIR in /proc/PID/environ, DIR from the instance's env/IMC_HOME)
and read imc-tcpd's resident size (VmRSS of /proc/PID/status) and, for
every imc-smtpd, its resident size and its private memory (Private_Clean
+ Private_Dirty of /proc/PID/smaps_rollup: what the process costs beyond
the pages it shares with the other sessions).

At the end stdout gets "key value" lines (sizes in KB):
  samples               samples taken
  tcpd_rss_first        imc-tcpd's VmRSS in the first sample
  tcpd_rss_peak         the largest
  smtpd_peak            the most imc-smtpd processes seen at once
  smtpd_rss_peak        the largest sum of their VmRSS
  smtpd_private_peak    the largest sum of their private memory
  per_conn_private      private memory per session in the sample with the
                        most sessions
  per_conn_rss          VmRSS per session in that sample
"""
import argparse
import os
import time


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument('--home', required=True)
    p.add_argument('--stop', required=True)
    p.add_argument('--interval', type=float, default=0.5)
    return p.parse_args()


def read(path):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except OSError:
        return None


def instance_marker(home):
    v = read(os.path.join(home, 'env', 'IMC_HOME'))
    d = v.decode().strip() if v else os.path.realpath(home)
    return b'IMC_HOME=' + d.encode()


def field_kb(text, names):
    """the sum of the named "Name:  N kB" fields"""
    n = 0
    for line in text.decode(errors='replace').splitlines():
        k, _, v = line.partition(':')
        if k in names:
            n += int(v.split()[0])
    return n


def parent_name(pid):
    """the name of pid's parent process, or ''"""
    st = read('/proc/%s/stat' % pid)
    if st is None:
        return ''
    ppid = st[st.rfind(b')') + 2:].split()[1].decode()
    comm = read('/proc/%s/comm' % ppid)
    return comm.strip().decode(errors='replace') if comm else ''


def ours(marker, names):
    """[(pid, name)] of the instance's processes with one of the names; a
    process whose parent has the same name is a child between its fork and
    its exec (imc-smtpd starting imc-queue) and is left out"""
    found = []
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        comm = read('/proc/%s/comm' % d)
        if comm is None or comm.strip().decode(errors='replace') not in names:
            continue
        name = comm.strip().decode()
        env = read('/proc/%s/environ' % d)
        if env is not None and marker in env.split(b'\0') and parent_name(d) != name:
            found.append((int(d), name))
    return found


def sample(marker):
    """(tcpd rss, smtpd count, smtpd rss sum, smtpd private sum); None when a process left"""
    tcpd, count, rss, priv = 0, 0, 0, 0
    for pid, name in ours(marker, ('imc-tcpd', 'imc-smtpd')):
        st = read('/proc/%d/status' % pid)
        if st is None:
            continue
        if name == 'imc-tcpd':
            tcpd = max(tcpd, field_kb(st, ('VmRSS',)))
            continue
        roll = read('/proc/%d/smaps_rollup' % pid)
        if roll is None:
            continue
        count += 1
        rss += field_kb(st, ('VmRSS',))
        priv += field_kb(roll, ('Private_Clean', 'Private_Dirty'))
    return tcpd, count, rss, priv


def main():
    a = parse_args()
    marker = instance_marker(a.home)
    samples = []
    while not os.path.exists(a.stop):
        samples.append(sample(marker))
        time.sleep(a.interval)
    tcpd = [s[0] for s in samples if s[0]]
    top = max(samples, key=lambda s: s[1]) if samples else (0, 0, 0, 0)
    print('samples', len(samples))
    print('tcpd_rss_first', tcpd[0] if tcpd else 0)
    print('tcpd_rss_peak', max(tcpd) if tcpd else 0)
    print('smtpd_peak', top[1])
    print('smtpd_rss_peak', max((s[2] for s in samples), default=0))
    print('smtpd_private_peak', max((s[3] for s in samples), default=0))
    print('per_conn_private', top[3] // top[1] if top[1] else 0)
    print('per_conn_rss', top[2] // top[1] if top[1] else 0)


if __name__ == '__main__':
    main()
