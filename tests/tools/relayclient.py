#!/usr/bin/python3
"""relayclient.py -- an SMTP relay client for the crash tests: sends COUNT
numbered messages over CONNS parallel connections and retries every message
whose transaction did not end in 250 until it does.

    relayclient.py --server HOST:PORT --count N --out FILE
                   [--conns C] [--per-conn M] [--local DOMAIN] [--remote DOMAIN]
                   [--header NAME] [--deadline SECONDS] [--timeout SECONDS]

Message K (0 <= K < N) has the header "NAME: K" (default X-Pipe), the
subject "pipeline K" and the Message-ID <pipeline.K.A@client.test>, where A
numbers the attempts of the whole run (so that two copies queued by two
attempts can be told from one queued copy delivered twice), and goes to
(when --local is given):

    K % 4 == 0   mK%5@LOCAL                    (local only)
    K % 4 == 1   mK%5@LOCAL and rK%7@REMOTE    (both)
    otherwise    rK%7@REMOTE                   (remote only)

and without --local always to rK%7@REMOTE.  Each connection sends up to M
messages (default 10), then QUIT, and a new one.  Anything but 250 at MAIL,
RCPT or DATA, a dropped connection, a refused connect or a timeout closes the
connection and the same message is tried again on a fresh one a moment later
(a 5xx reply too: it is counted as "refused" and the message is tried again,
so that a refusal shows up in the figures, never as a silent loss).

FILE gets one line per accepted message, written as soon as the 250 comes:
"K<TAB>QUEUE-REPLY<TAB>RCPT,RCPT".  At the end stdout gets "key value" lines:
accepted, attempts, retries, refused, connects, connect_failures, seconds,
rate.  Exit 0 when every message was accepted before the deadline (default
120 s), 1 otherwise.
"""
import argparse
import queue
import random
import smtplib
import socket
import sys
import threading
import time

lock = threading.Lock()
stats = {'accepted': 0, 'attempts': 0, 'retries': 0, 'refused': 0,
         'connects': 0, 'connect_failures': 0}


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument('--server', required=True)
    p.add_argument('--count', type=int, required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--conns', type=int, default=8)
    p.add_argument('--per-conn', type=int, default=10)
    p.add_argument('--local')
    p.add_argument('--remote', default='far.test')
    p.add_argument('--header', default='X-Pipe')
    p.add_argument('--deadline', type=float, default=120)
    p.add_argument('--timeout', type=float, default=20)
    return p.parse_args()


def rcpts(a, k):
    local = 'm%d@%s' % (k % 5, a.local)
    remote = 'r%d@%s' % (k % 7, a.remote)
    if not a.local:
        return [remote]
    if k % 4 == 0:
        return [local]
    if k % 4 == 1:
        return [local, remote]
    return [remote]


def message(a, k, attempt):
    return ('From: <sender@client.test>\r\n'
            'Subject: pipeline %d\r\n'
            'Message-ID: <pipeline.%d.%d@client.test>\r\n'
            '%s: %d\r\n'
            '\r\n'
            'message %d\r\n' % (k, k, attempt, a.header, k, k)
            + ('filler line %d of message %d\r\n' % (0, k)) * 20)


def bump(key):
    with lock:
        stats[key] += 1


class Refused(Exception):
    pass


class Client:
    def __init__(self, a, out):
        self.a = a
        self.out = out
        self.host, port = a.server.rsplit(':', 1)
        self.port = int(port)
        self.s = None
        self.sent = 0

    def close(self):
        if self.s is not None:
            try:
                self.s.close()
            except OSError:
                pass
        self.s = None

    def connect(self):
        bump('connects')
        s = smtplib.SMTP(timeout=self.a.timeout)
        try:
            code, _ = s.connect(self.host, self.port)
            if code != 220:
                raise smtplib.SMTPConnectError(code, 'greeting')
            code, _ = s.ehlo('client.test')
            if code != 250:
                raise smtplib.SMTPHeloError(code, 'ehlo')
        except BaseException:
            s.close()
            bump('connect_failures')
            raise
        self.s = s
        self.sent = 0

    def expect(self, code, text):
        if code == 250:
            return
        if 500 <= code < 600:
            raise Refused('%d %s' % (code, text))
        raise smtplib.SMTPResponseException(code, text)

    def transaction(self, k, attempt):
        to = rcpts(self.a, k)
        self.expect(*self.s.mail('<sender@client.test>'))
        for r in to:
            self.expect(*self.s.rcpt('<%s>' % r))
        code, text = self.s.data(message(self.a, k, attempt))
        self.expect(code, text)
        reply = text.decode(errors='replace')
        with lock:
            stats['accepted'] += 1
            self.out.write('%d\t%s\t%s\n' % (k, reply, ','.join(to)))
            self.out.flush()

    def send(self, k):
        """True once K got its 250"""
        with lock:
            stats['attempts'] += 1
            attempt = stats['attempts']
        try:
            if self.s is None:
                self.connect()
            self.transaction(k, attempt)
            self.sent += 1
            if self.sent >= self.a.per_conn:
                try:
                    self.s.quit()
                except (smtplib.SMTPException, OSError):
                    pass
                self.close()
            return True
        except Refused:
            bump('refused')
        except (smtplib.SMTPException, OSError, socket.timeout, EOFError):
            pass
        self.close()
        bump('retries')
        time.sleep(random.uniform(0.05, 0.2))
        return False


def worker(a, todo, out, end):
    c = Client(a, out)
    while time.time() < end:
        try:
            k = todo.get_nowait()
        except queue.Empty:
            break
        while time.time() < end and not c.send(k):
            pass
    c.close()


def main():
    a = parse_args()
    todo = queue.Queue()
    for k in range(a.count):
        todo.put(k)
    start = time.time()
    end = start + a.deadline
    with open(a.out, 'w') as out:
        ts = [threading.Thread(target=worker, args=(a, todo, out, end)) for _ in range(a.conns)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    secs = time.time() - start
    for k in ('accepted', 'attempts', 'retries', 'refused', 'connects', 'connect_failures'):
        print(k, stats[k])
    print('seconds %.1f' % secs)
    print('rate %.1f' % (stats['accepted'] / secs if secs else 0))
    sys.exit(0 if stats['accepted'] == a.count else 1)


if __name__ == '__main__':
    main()
