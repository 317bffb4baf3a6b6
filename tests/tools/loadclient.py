#!/usr/bin/python3
"""loadclient.py -- many concurrent SMTP sessions for the load test: opens
CONNS connections, waits until every one has its 220 greeting, then sends
MSGS messages on each, all sessions at once.

    loadclient.py --server HOST:PORT --conns N --msgs M --out FILE
                  [--sources ADDR,ADDR,...] [--remote DOMAIN] [--header NAME]
                  [--timeout SECONDS]

Connection C (0 <= C < N) comes from source address SOURCES[C % len] (any
address without --sources).  Its messages are K = C*M .. C*M+M-1, each to
rK%7@REMOTE (default far.test) with the header "NAME: K" (default X-Pipe),
the subject "load K" and the Message-ID <load.K@client.test>.  Nothing is
retried: a session that fails stops, and its remaining messages count as
not accepted.

FILE gets one line per message the server took with 250, in the format of
relayclient.py: "K<TAB>REPLY<TAB>RCPT".  stdout gets "key value" lines:
connected, greeted, greet_failures (with the first few replies or errors in
greet_errors), peak_open (sessions open at once), accepted, failed
(the first few reasons in fail_reasons), connect_seconds (first connect to
last greeting), send_seconds (first MAIL to last 250), rate (accepted /
send_seconds).  Exit 0 when every session was greeted and every message
accepted, 1 otherwise.
"""
import argparse
import asyncio
import sys
import time

stats = {'connected': 0, 'greeted': 0, 'greet_failures': 0, 'accepted': 0, 'failed': 0,
         'open': 0, 'peak_open': 0}
errors = {'greet': [], 'fail': []}


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument('--server', required=True)
    p.add_argument('--conns', type=int, required=True)
    p.add_argument('--msgs', type=int, required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--sources', default='')
    p.add_argument('--remote', default='far.test')
    p.add_argument('--header', default='X-Pipe')
    p.add_argument('--timeout', type=float, default=60)
    a = p.parse_args()
    a.sources = [s for s in a.sources.split(',') if s]
    return a


class Session:
    def __init__(self, a, c, out):
        self.a, self.c, self.out = a, c, out
        self.r = self.w = None

    async def reply(self):
        """one SMTP reply: (code, text of the last line)"""
        while True:
            line = await asyncio.wait_for(self.r.readline(), self.a.timeout)
            if not line:
                raise EOFError('connection closed')
            line = line.decode(errors='replace').rstrip('\r\n')
            if len(line) < 4 or line[3] != '-':
                return int(line[:3]), line

    async def cmd(self, text, want):
        self.w.write(text.encode() + b'\r\n')
        await self.w.drain()
        code, line = await self.reply()
        if code != want:
            raise RuntimeError('%s: %s' % (text.split(':')[0], line))
        return line

    async def open(self):
        host, port = self.a.server.rsplit(':', 1)
        src = (self.a.sources[self.c % len(self.a.sources)], 0) if self.a.sources else None
        self.r, self.w = await asyncio.wait_for(
            asyncio.open_connection(host, int(port), local_addr=src, limit=1 << 16), self.a.timeout)
        stats['connected'] += 1
        stats['open'] += 1
        stats['peak_open'] = max(stats['peak_open'], stats['open'])
        code, line = await self.reply()
        if code != 220:
            raise RuntimeError('greeting: ' + line)
        stats['greeted'] += 1

    def message(self, k):
        return ('From: <sender@client.test>\r\nSubject: load %d\r\n'
                'Message-ID: <load.%d@client.test>\r\n%s: %d\r\n\r\n' % (k, k, self.a.header, k)
                + 'line %d of the load test\r\n' * 30 % tuple([k] * 30) + '.\r\n')

    async def send_all(self):
        await self.cmd('EHLO load.test', 250)
        for j in range(self.a.msgs):
            k = self.c * self.a.msgs + j
            rcpt = 'r%d@%s' % (k % 7, self.a.remote)
            await self.cmd('MAIL FROM:<sender@client.test>', 250)
            await self.cmd('RCPT TO:<%s>' % rcpt, 250)
            await self.cmd('DATA', 354)
            self.w.write(self.message(k).encode())
            await self.w.drain()
            code, line = await self.reply()
            if code != 250:
                raise RuntimeError('DATA end: ' + line)
            stats['accepted'] += 1
            self.out.write('%d\t%s\t%s\n' % (k, line[4:], rcpt))
        await self.cmd('QUIT', 221)

    def close(self):
        if self.w is not None:
            self.w.close()
            stats['open'] -= 1
            self.w = None


async def opened(s):
    try:
        await s.open()
        return True
    except (OSError, EOFError, RuntimeError, ValueError, asyncio.TimeoutError) as e:
        stats['greet_failures'] += 1
        if len(errors['greet']) < 5:
            errors['greet'].append('%d: %r' % (s.c, e))
        s.close()
        return False


async def sent(s):
    try:
        await s.send_all()
    except (OSError, EOFError, RuntimeError, ValueError, asyncio.TimeoutError) as e:
        stats['failed'] += 1
        if len(errors['fail']) < 5:
            errors['fail'].append('%d: %r' % (s.c, e))
    s.close()


async def run(a, out):
    sessions = [Session(a, c, out) for c in range(a.conns)]
    t0 = time.time()
    ok = await asyncio.gather(*(opened(s) for s in sessions))
    t1 = time.time()
    print('connected', stats['connected'])
    print('greeted', stats['greeted'])
    print('greet_failures', stats['greet_failures'])
    print('greet_errors', ' | '.join(errors['greet']) or '-')
    print('peak_open', stats['peak_open'])
    print('connect_seconds %.1f' % (t1 - t0))
    sys.stdout.flush()
    await asyncio.gather(*(sent(s) for s, good in zip(sessions, ok) if good))
    t2 = time.time()
    print('accepted', stats['accepted'])
    print('failed', stats['failed'])
    print('fail_reasons', ' | '.join(errors['fail']) or '-')
    print('send_seconds %.1f' % (t2 - t1))
    print('rate %.1f' % (stats['accepted'] / (t2 - t1) if t2 > t1 else 0))


def main():
    a = parse_args()
    with open(a.out, 'w') as out:
        asyncio.run(run(a, out))
    good = stats['greeted'] == a.conns and stats['accepted'] == a.conns * a.msgs
    sys.exit(0 if good else 1)


if __name__ == '__main__':
    main()
