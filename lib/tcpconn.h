/*
 * tcpconn.h -- an outbound TCP connection with a time limit, IPv4 or IPv6
 * (imc-remote's sessions, imc-dequeue's ETRN sessions).
 *
 * Input: a 16-byte address (IPv4 as v4-mapped, connected over AF_INET) and
 * a port.  Output: a connected socket, non-blocking and close-on-exec (the
 * caller's sio polls before every read and write).  Failure modes: -1 with
 * errno (ECONNREFUSED, ETIMEDOUT after `timeout` seconds -- 0: the kernel's
 * own limit --, ENETUNREACH...).
 */
#ifndef IMC_TCPCONN_H
#define IMC_TCPCONN_H

int tcp_connect(const char ip[16], unsigned port, unsigned timeout);

#endif
