#!/usr/bin/python3
"""tally.py -- what arrived, against what the SMTP client got 250 for.

    tally.py --accepted FILE [--sink DIR] [--mail DIR] [--header NAME]

FILE is relayclient.py's (or loadclient.py's) list of accepted messages:
"K<TAB>REPLY<TAB>RCPT,RCPT" per line.  Each (K, RCPT) pair must arrive:
at the sink (sink.py's DIR/msg*: X-Sink-To names the recipients) for a
remote recipient, or in a local Maildir (DIR/BOX/new/*: Delivered-To names
the recipient) for a local one.  A message is matched by its header NAME
(default X-Pipe) and its Message-ID.

Prints "key value" lines:
  expected      (K, RCPT) pairs accepted
  arrived       copies found for them
  missing       pairs with no copy (the first few follow on "missing_list")
  duplicates    copies beyond the first, in all
  dup_requeued  of those, copies with another Message-ID: the client sent K
                again after a transaction whose 250 it never saw (imc-smtpd
                killed after imc-queue committed), so K was queued twice
  dup_redelivered  copies with the same Message-ID: one queued message
                delivered more than once (a deliverer or imc-send killed
                between a delivery and its record)
  requeued_msgs messages queued more than once: for each K, the number of
                distinct Message-IDs that arrived, minus one, summed
  misdelivered  copies at a recipient K was not sent to
  unaccepted    copies of a K the client never got 250 for
"""
import argparse
import collections
import os


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument('--accepted', required=True)
    p.add_argument('--sink')
    p.add_argument('--mail')
    p.add_argument('--header', default='X-Pipe')
    return p.parse_args()


def headers(path):
    """the header fields of a message file, names lower-cased, values stripped"""
    h = {}
    with open(path, 'rb') as f:
        for line in f:
            line = line.decode('latin-1').rstrip('\r\n')
            if not line:
                break
            name, sep, value = line.partition(':')
            if sep and not name.startswith((' ', '\t')):
                h.setdefault(name.strip().lower(), value.strip())
    return h


def sink_copies(d, header):
    for f in os.listdir(d):
        if not f.startswith('msg'):
            continue
        h = headers(os.path.join(d, f))
        if header in h:
            for r in h.get('x-sink-to', '').split(','):
                yield int(h[header]), r.strip().strip('<>').lower(), h.get('message-id', '')


def mail_copies(d, header):
    for box in os.listdir(d):
        new = os.path.join(d, box, 'new')
        if not os.path.isdir(new):
            continue
        for f in os.listdir(new):
            h = headers(os.path.join(new, f))
            if header in h:
                yield int(h[header]), h.get('delivered-to', '').lower(), h.get('message-id', '')


def main():
    a = parse_args()
    header = a.header.lower()
    accepted = {}
    with open(a.accepted) as f:
        for line in f:
            k, _, to = line.rstrip('\n').split('\t')
            accepted[int(k)] = set(r.lower() for r in to.split(','))
    expected = set((k, r) for k, to in accepted.items() for r in to)
    seen = collections.defaultdict(list)
    copies = []
    if a.sink:
        copies += list(sink_copies(a.sink, header))
    if a.mail:
        copies += list(mail_copies(a.mail, header))
    misdelivered = unaccepted = 0
    for k, r, mid in copies:
        if k not in accepted:
            unaccepted += 1
        elif r not in accepted[k]:
            misdelivered += 1
        else:
            seen[(k, r)].append(mid)
    missing = sorted(p for p in expected if not seen[p])
    dups = sum(len(v) - 1 for v in seen.values() if v)
    requeued = sum(len(set(v)) - 1 for v in seen.values() if v)
    ids = collections.defaultdict(set)
    for (k, _), v in seen.items():
        ids[k].update(v)
    requeued_msgs = sum(len(v) - 1 for v in ids.values() if v)
    print('expected', len(expected))
    print('arrived', sum(len(v) for v in seen.values()))
    print('missing', len(missing))
    print('missing_list', ' '.join('%d:%s' % p for p in missing[:10]) or '-')
    print('duplicates', dups)
    print('dup_requeued', requeued)
    print('dup_redelivered', dups - requeued)
    print('requeued_msgs', requeued_msgs)
    print('misdelivered', misdelivered)
    print('unaccepted', unaccepted)


if __name__ == '__main__':
    main()
