#!/usr/bin/python3
"""probe.py -- does the server answer a new client?  For the load test.

    probe.py --server HOST:PORT --stop FILE [--source ADDR] [--every SECONDS]
             [--timeout SECONDS]

Until FILE exists, every SECONDS (default 1): connect (from ADDR when
given), wait at most TIMEOUT seconds (default 5) for a 220 greeting, send
QUIT and close.  A probe fails when the connect is refused or times out,
the greeting does not come in time, or it is not 220.

At the end stdout gets "key value" lines: probes, failures, max_seconds
(the slowest greeting), avg_seconds, and failure_list (the first few,
"SECONDS-INTO-THE-RUN:REASON", or "-").
"""
import argparse
import os
import socket
import time


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument('--server', required=True)
    p.add_argument('--stop', required=True)
    p.add_argument('--source')
    p.add_argument('--every', type=float, default=1)
    p.add_argument('--timeout', type=float, default=5)
    return p.parse_args()


def probe(a):
    """seconds to the 220, or raises"""
    host, port = a.server.rsplit(':', 1)
    t0 = time.time()
    s = socket.create_connection((host, int(port)), timeout=a.timeout,
                                 source_address=(a.source, 0) if a.source else None)
    try:
        s.settimeout(max(0.1, a.timeout - (time.time() - t0)))
        line = s.makefile('rb').readline().decode(errors='replace')
        took = time.time() - t0
        if not line.startswith('220'):
            raise RuntimeError('greeting %r' % line.strip())
        s.sendall(b'QUIT\r\n')
        return took
    finally:
        s.close()


def main():
    a = parse_args()
    start = time.time()
    times, fails = [], []
    while not os.path.exists(a.stop):
        t = time.time()
        try:
            times.append(probe(a))
        except (OSError, RuntimeError) as e:
            fails.append('%.0f:%r' % (t - start, e))
        time.sleep(max(0, a.every - (time.time() - t)))
    print('probes', len(times) + len(fails))
    print('failures', len(fails))
    print('max_seconds %.3f' % max(times, default=0))
    print('avg_seconds %.3f' % (sum(times) / len(times) if times else 0))
    print('failure_list', ' '.join(fails[:5]) or '-')


if __name__ == '__main__':
    main()
