#!/usr/bin/python3
"""sink.py -- a small SMTP server for imc-remote's tests, with knobs for
the failures a real server shows.

    sink.py --listen ADDR:PORT [options]

  --greet CODE             greet with CODE (4xx/5xx: then close)
  --rcpt-fail ADDR=CODE    refuse RCPT TO:<ADDR> with CODE (repeatable)
  --rcpt-tempfail-first    451 on the first RCPT of each address, 250 after
  --drop-in-data           close the connection in the middle of DATA
  --stall-after-data       read the message, then never answer
  --no-ehlo                refuse EHLO with 502 (HELO works)
  --size N                 advertise SIZE N and refuse bigger MAIL SIZE=
  --no-8bitmime            do not advertise 8BITMIME
  --no-pipelining          do not advertise PIPELINING
  --tls CERT KEY           offer STARTTLS with this certificate
  --tls-broken             offer STARTTLS, answer 220, then send garbage
  --auth USER:PASS         offer AUTH PLAIN LOGIN and require it before MAIL
  --auth-login-only        offer AUTH LOGIN only
  --auth-log F             append "USER PASS tls=yes|no" for every AUTH
                           received, accepted or not
  --maildir DIR            each accepted message becomes DIR/N, headers
                           X-Sink-From, X-Sink-To, X-Sink-Conn, X-Sink-TLS,
                           X-Sink-Auth, X-Sink-Body, then the message with
                           LF line ends (dot-stuffing undone)
  --count-file F           the number of connections so far, rewritten on each
  --log F                  the transcript of every session
  --ready-file F           created once the socket listens
  --drop-after-rset        after an RSET, close the connection at the next
                           command without answering it (a server that went
                           away while the client kept the connection)
  --idle-close SECS        close a connection after SECS seconds without a
                           command (421 first), as a server's idle timeout does

Stops on SIGTERM.  Listens with SO_REUSEADDR only (never SO_REUSEPORT).
"""
import argparse
import base64
import os
import signal
import socket
import socketserver
import ssl
import sys
import threading

lock = threading.Lock()
state = {'conns': 0, 'msgs': 0, 'tempfailed': set()}


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument('--listen', required=True)
    p.add_argument('--greet', type=int, default=220)
    p.add_argument('--rcpt-fail', action='append', default=[])
    p.add_argument('--rcpt-tempfail-first', action='store_true')
    p.add_argument('--drop-in-data', action='store_true')
    p.add_argument('--stall-after-data', action='store_true')
    p.add_argument('--no-ehlo', action='store_true')
    p.add_argument('--tls-broken', action='store_true')
    p.add_argument('--auth-login-only', action='store_true')
    p.add_argument('--size', type=int, default=0)
    p.add_argument('--no-8bitmime', action='store_true')
    p.add_argument('--no-pipelining', action='store_true')
    p.add_argument('--tls', nargs=2, metavar=('CERT', 'KEY'))
    p.add_argument('--auth')
    p.add_argument('--auth-log')
    p.add_argument('--maildir')
    p.add_argument('--count-file')
    p.add_argument('--log')
    p.add_argument('--ready-file')
    p.add_argument('--idle-close', type=float, default=0)
    p.add_argument('--drop-after-rset', action='store_true')
    a = p.parse_args()
    a.fail = {}
    for f in a.rcpt_fail:
        addr, code = f.rsplit('=', 1)
        a.fail[addr.lower()] = int(code)
    return a


ARGS = None


class Session:
    def __init__(self, sock, conn):
        self.sock = sock
        self.rfile = sock.makefile('rb')
        self.conn = conn
        self.tls = False
        self.authed = None
        self.after_rset = False
        self.reset()

    def reset(self):
        self.sender = None
        self.rcpts = []
        self.body8 = False

    def log(self, s):
        if ARGS.log:
            with lock, open(ARGS.log, 'a') as f:
                f.write('%d %s\n' % (self.conn, s))

    def send(self, s):
        self.log('> ' + s)
        self.sock.sendall(s.encode() + b'\r\n')

    def line(self):
        if ARGS.idle_close:
            self.sock.settimeout(ARGS.idle_close)
            try:
                self.rfile.peek(1)
            except (socket.timeout, TimeoutError):
                self.log('idle for %gs: closing' % ARGS.idle_close)
                self.sock.settimeout(None)
                self.send('421 4.4.2 sink.test idle timeout')
                raise EOFError
            self.sock.settimeout(None)
        l = self.rfile.readline(10000)
        if not l:
            raise EOFError
        l = l.decode('latin-1').rstrip('\r\n')
        self.log('< ' + l)
        return l

    def ehlo_lines(self, name):
        ext = []
        if not ARGS.no_pipelining:
            ext.append('PIPELINING')
        if ARGS.size:
            ext.append('SIZE %d' % ARGS.size)
        if not ARGS.no_8bitmime:
            ext.append('8BITMIME')
        if (ARGS.tls or ARGS.tls_broken) and not self.tls:
            ext.append('STARTTLS')
        if ARGS.auth:
            ext.append('AUTH LOGIN' if ARGS.auth_login_only else 'AUTH PLAIN LOGIN')
        lines = ['sink.test hello ' + name] + ext
        for l in lines[:-1]:
            self.send('250-' + l)
        self.send('250 ' + lines[-1])

    def broken_tls(self):
        self.send('220 2.0.0 go ahead')
        self.sock.sendall(b'this is not a TLS record\r\n' * 4)

    def starttls(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.tls[0], ARGS.tls[1])
        self.send('220 2.0.0 go ahead')
        self.sock = ctx.wrap_socket(self.sock, server_side=True)
        self.rfile = self.sock.makefile('rb')
        self.tls = True
        self.reset()

    def check_auth(self, user, pw):
        if ARGS.auth_log:
            with lock, open(ARGS.auth_log, 'a') as f:
                f.write('%s %s tls=%s\n' % (user, pw, 'yes' if self.tls else 'no'))
        u, p = ARGS.auth.split(':', 1)
        if user == u and pw == p:
            self.authed = user
            self.send('235 2.7.0 authenticated')
        else:
            self.send('535 5.7.8 authentication credentials invalid')

    def auth(self, arg):
        parts = arg.split()
        mech = parts[0].upper() if parts else ''
        try:
            if mech == 'PLAIN':
                if len(parts) > 1:
                    data = parts[1]
                else:
                    self.send('334 ')
                    data = self.line()
                _, user, pw = base64.b64decode(data).decode().split('\0')
            elif mech == 'LOGIN':
                self.send('334 VXNlcm5hbWU6')
                user = base64.b64decode(self.line()).decode()
                self.send('334 UGFzc3dvcmQ6')
                pw = base64.b64decode(self.line()).decode()
            else:
                self.send('504 5.5.4 unknown mechanism')
                return
        except (ValueError, UnicodeDecodeError):
            self.send('501 5.5.2 bad base64')
            return
        self.check_auth(user, pw)

    def mail(self, arg):
        if ARGS.auth and not self.authed:
            self.send('530 5.7.0 authentication required')
            return
        addr = arg[arg.find('<') + 1:arg.find('>')]
        params = arg[arg.find('>') + 1:].split()
        for p in params:
            if p.upper().startswith('SIZE=') and ARGS.size and int(p[5:]) > ARGS.size:
                self.send('552 5.3.4 message too big')
                return
            if p.upper() == 'BODY=8BITMIME':
                self.body8 = True
        self.sender = addr
        self.rcpts = []
        self.send('250 2.1.0 ok')

    def rcpt(self, arg):
        addr = arg[arg.find('<') + 1:arg.find('>')]
        if self.sender is None:
            self.send('503 5.5.1 MAIL first')
            return
        code = ARGS.fail.get(addr.lower())
        if code:
            self.send('%d %s recipient refused' % (code, '5.1.1' if code >= 500 else '4.2.1'))
            return
        if ARGS.rcpt_tempfail_first:
            with lock:
                first = addr.lower() not in state['tempfailed']
                state['tempfailed'].add(addr.lower())
            if first:
                self.send('451 4.2.1 try again later')
                return
        self.rcpts.append(addr)
        self.send('250 2.1.5 ok')

    def data(self):
        if not self.rcpts:
            self.send('554 5.5.1 no valid recipients')
            return
        self.send('354 go ahead')
        lines = []
        while True:
            l = self.rfile.readline(1 << 20)
            if not l:
                raise EOFError
            if ARGS.drop_in_data:
                self.log('dropping the connection in DATA')
                raise EOFError
            if l == b'.\r\n':
                break
            if l.startswith(b'.'):
                l = l[1:]
            lines.append(l)
        self.store(b''.join(lines))
        if ARGS.stall_after_data:
            self.log('stalling after the data')
            threading.Event().wait(120)
            raise EOFError
        self.send('250 2.0.0 ok: queued as sink%d' % state['msgs'])
        self.reset()

    def store(self, msg):
        with lock:
            state['msgs'] += 1
            n = state['msgs']
        if not ARGS.maildir:
            return
        head = 'X-Sink-From: <%s>\nX-Sink-To: %s\nX-Sink-Conn: %d\nX-Sink-TLS: %s\nX-Sink-Auth: %s\nX-Sink-Body: %s\n' % (
            self.sender, ', '.join('<%s>' % r for r in self.rcpts), self.conn,
            'yes' if self.tls else 'no', self.authed or '-', '8BITMIME' if self.body8 else '7BIT')
        tmp = os.path.join(ARGS.maildir, '.tmp%d' % n)
        with open(tmp, 'wb') as f:
            f.write(head.encode() + msg.replace(b'\r\n', b'\n'))
        os.rename(tmp, os.path.join(ARGS.maildir, 'msg%04d' % n))

    def command(self, l):
        verb, _, arg = l.partition(' ')
        verb = verb.upper()
        if self.after_rset:
            self.log('dropping the connection after RSET')
            raise EOFError
        if verb == 'RSET' and ARGS.drop_after_rset:
            self.after_rset = True
        if verb == 'EHLO' and ARGS.no_ehlo:
            self.send('502 5.5.2 no EHLO here')
        elif verb == 'EHLO':
            self.ehlo_lines(arg)
        elif verb == 'HELO':
            self.send('250 sink.test')
        elif verb == 'STARTTLS' and ARGS.tls_broken:
            self.broken_tls()
        elif verb == 'STARTTLS' and ARGS.tls and not self.tls:
            self.starttls()
        elif verb == 'AUTH' and ARGS.auth and not self.authed:
            self.auth(arg)
        elif verb == 'MAIL':
            self.mail(arg)
        elif verb == 'RCPT':
            self.rcpt(arg)
        elif verb == 'DATA':
            self.data()
        elif verb == 'RSET':
            self.reset()
            self.send('250 2.0.0 ok')
        elif verb == 'NOOP':
            self.send('250 2.0.0 ok')
        elif verb == 'QUIT':
            self.send('221 2.0.0 bye')
            return False
        else:
            self.send('502 5.5.2 unknown command')
        return True

    def run(self):
        if ARGS.greet != 220:
            self.send('%d %s.0.0 not now' % (ARGS.greet, str(ARGS.greet)[0]))
            return
        self.send('220 sink.test ESMTP')
        while self.command(self.line()):
            pass


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        with lock:
            state['conns'] += 1
            conn = state['conns']
            if ARGS.count_file:
                with open(ARGS.count_file + '.tmp', 'w') as f:
                    f.write('%d\n' % conn)
                os.rename(ARGS.count_file + '.tmp', ARGS.count_file)
        s = Session(self.request, conn)
        try:
            s.run()
        except (EOFError, OSError, ssl.SSLError) as e:
            s.log('session ended: %r' % e)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    global ARGS
    ARGS = parse_args()
    host, port = ARGS.listen.rsplit(':', 1)
    if ':' in host:
        Server.address_family = socket.AF_INET6
    srv = Server((host.strip('[]'), int(port)), Handler)
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    if ARGS.ready_file:
        open(ARGS.ready_file, 'w').close()
    srv.serve_forever()


if __name__ == '__main__':
    main()
