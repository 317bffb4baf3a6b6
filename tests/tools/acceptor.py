#!/usr/bin/python3
"""acceptor.py -- runs a program per TCP connection, as inetd or tcpserver
would, for tests that start imc-smtpd alone (no imc-tcpd).

    acceptor.py PORT PROG PIDLOG [VAR=VALUE ...]

Listens on 127.0.0.1 PORT; each connection gets PROG with the socket as
fds 0 and 1, TCPREMOTEIP, TCPREMOTEPORT, TCPLOCALIP and TCPLOCALPORT, and
the VAR=VALUE settings, in its environment; appends "PID PEERPORT" to
PIDLOG.  SIGTERM ends it.
"""
import os, signal, socket, sys
port, prog, pidlog = int(sys.argv[1]), sys.argv[2], sys.argv[3]
extra = dict(a.split("=", 1) for a in sys.argv[4:])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
while True:
    c, peer = s.accept()
    env = dict(os.environ)
    env.update(TCPREMOTEIP=peer[0], TCPREMOTEPORT=str(peer[1]), TCPLOCALIP="127.0.0.1", TCPLOCALPORT=str(port))
    env.update(extra)
    pid = os.fork()
    if pid == 0:
        s.close()
        os.dup2(c.fileno(), 0)
        os.dup2(c.fileno(), 1)
        c.close()
        os.execve(prog, [prog], env)
    with open(pidlog, "a") as f:
        f.write("%d %d\n" % (pid, peer[1]))
    c.close()
