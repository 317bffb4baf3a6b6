#!/usr/bin/python3
"""convert.py -- imc-convert on the message corpus (tests/convert/corpus/) for
every profile, with golden outputs (tests/convert/golden/PROFILE/NAME) and
round-trip checks made with Python's email package and uudecode:

  - the output parses, and has no MIME defect the input did not have;
  - every attachment decodes to exactly the bytes it had (uudecode for
    uuencoded blocks; a uuencoded .eml is parsed and checked in turn);
  - every text decodes to the same characters (white space aside, which
    wrapping changes), in the target charset or, where the target lacks
    some character, in its own;
  - -8: the output is 7-bit with lines of at most 998 bytes;
  - wrap: no line is longer than the width unless it is one word;
  - displaynames=no: From/To/Cc carry bare addresses;
  - inbound: nothing changes but uuencoded blocks, which become attachments;
  - richtext=never: text/html alternatives and ms-tnef parts are gone, and
    nothing else.

Also: a 1 MB single line (made here), out-of-office and automatic-reply
suppression (exit 20, nothing written), maxsize (exit 21), a pipe as input,
control/mimetypes, control/domains errors (exit 111) and usage (exit 100).

UPDATE=1 rewrites the golden files from the current output.
"""
import email
import email.policy
import email.utils
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("IMC_CONVERT_BIN") or os.path.join(TOP, "bin", "imc-convert")
CORPUS = os.path.join(TOP, "tests", "convert", "corpus")
GOLDEN = os.path.join(TOP, "tests", "convert", "golden")
UPDATE = os.environ.get("UPDATE") == "1"

DOMAINS = """# test profiles
* attachments=mime charset=utf-8
uu.test attachments=uuencode charset=iso-8859-1 wrap=76 richtext=never displaynames=no
latin.test charset=iso-8859-1 wrap=72
.oof.test oof=yes autoreplies=yes
small.test maxsize=2k
"""

# name: (arguments, mode, target charset or None, wrap)
PROFILES = {
    "default": (["-"], "mime", "utf-8", 0),
    "uuencode": (["uu.test"], "uu", "iso-8859-1", 76),
    "inbound": (["inbound"], "inbound", None, 0),
    "downgrade": (["-8", "-"], "mime", "utf-8", 0),
    "latin1wrap": (["latin.test"], "mime", "iso-8859-1", 72),
    "uu-downgrade": (["-8", "uu.test"], "uu", "iso-8859-1", 76),
}
AUTOMATIC = {"oof.eml", "autoreply.eml"}

fails = 0
HOME = tempfile.mkdtemp(prefix="imc-convert-test.")


def ok(name):
    print("PASS: " + name)


def bad(name, why):
    global fails
    fails += 1
    print("FAIL: %s: %s" % (name, why))


def run(args, data, home=HOME, stdin_pipe=False):
    env = dict(os.environ, IMC_HOME=home, IMC_CONVERT_TEST_BOUNDARY="1")
    p = subprocess.run([BIN] + args, input=data, capture_output=True, env=env)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


# ---- what a message holds

def uu_blocks(text):
    """(name, bytes) of each uuencoded block in text, and the text without them"""
    blocks, rest, lines, i = [], [], text.split("\n"), 0
    while i < len(lines):
        m = re.match(r"^begin(-base64)? [0-7]{3,4} (.+)$", lines[i])
        if not m:
            rest.append(lines[i])
            i += 1
            continue
        j = i + 1
        while j < len(lines) and lines[j].rstrip() not in ("end", "===="):
            j += 1
        block = "\n".join(lines[i:j + 1]) + "\n"
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "in.uu")
            with open(src, "wb") as f:
                f.write(block.encode("latin-1", "replace"))
            out = os.path.join(d, "out.bin")
            r = subprocess.run(["uudecode", "-o", out, src], capture_output=True)
            data = open(out, "rb").read() if r.returncode == 0 and os.path.exists(out) else None
        blocks.append((m.group(2).strip(), data))
        i = j + 1
    return blocks, "\n".join(rest)


class Content:
    def __init__(self):
        self.texts = []      # (subtype, text or None, charset, raw bytes)
        self.files = []      # bytes
        self.names = []
        self.uu = 0          # files that came from uuencoded blocks in text


def is_text(part):
    return (part.get_content_maintype() == "text" and not part.get_filename()
            and part.get_content_disposition() != "attachment")


def walk(msg, c, never=False, files_for_rich=False):
    """the texts and files of msg; never: skip what richtext=never drops;
    files_for_rich: non-plain texts count as files (the uuencode profile)"""
    ctype = msg.get_content_type()
    if never and (ctype in ("application/ms-tnef", "application/vnd.ms-tnef")
                  or (msg.get_filename() or "").lower() == "winmail.dat"):
        return
    if msg.is_multipart():
        seen_plain = False
        for p in msg.get_payload():
            pt = p.get_content_type()
            if (never and ctype == "multipart/alternative" and seen_plain
                    and pt in ("text/html", "text/enriched", "text/richtext", "multipart/related")):
                continue
            if ctype == "multipart/alternative" and pt == "text/plain" and is_text(p):
                seen_plain = True
            walk(p, c, never, files_for_rich)
        return
    payload = msg.get_payload(decode=True) or b""
    if is_text(msg) and not (files_for_rich and ctype != "text/plain"):
        cs = msg.get_content_charset() or "us-ascii"
        try:
            text = payload.decode(cs)
        except (LookupError, UnicodeDecodeError):
            text = None
        if text is not None and ctype == "text/plain":
            blocks, text = uu_blocks(text)
            for name, data in blocks:
                c.uu += 1
                add_file(c, name, data)
        c.texts.append((msg.get_content_subtype(), text, cs, payload))
    else:
        add_file(c, msg.get_filename() or "", payload)


def add_file(c, name, data):
    if data is not None and name.endswith(".eml"):
        walk(email.message_from_bytes(data, policy=email.policy.default), c)
        return
    c.files.append(data)
    c.names.append(name)


def content(data, never=False, files_for_rich=False):
    c = Content()
    walk(email.message_from_bytes(data, policy=email.policy.default), c, never, files_for_rich)
    return c


def squeeze(s):
    return re.sub(r"\s+", "", s or "")


def defects(data):
    msg = email.message_from_bytes(data, policy=email.policy.default)
    return {type(d).__name__ for p in msg.walk() for d in p.defects}


# ---- the checks

def check_parses(tag, out):
    try:
        msg = email.message_from_bytes(out, policy=email.policy.default)
        for p in msg.walk():
            if p.get_content_maintype() == "text" and not p.is_multipart():
                cs = p.get_content_charset() or "us-ascii"
                if cs not in ("unknown-8bit",):
                    p.get_content()
        return True
    except Exception as e:          # any failure to parse is the finding
        bad(tag + " parses", repr(e))
        return False


def check_defects(tag, data, out):
    new = defects(out) - defects(data)
    if new:
        bad(tag + " defects", ", ".join(sorted(new)))


def check_files(tag, want, got):
    w = sorted(x for x in want if x is not None)
    g = sorted(x for x in got if x is not None)
    if None in got:
        bad(tag + " attachments", "a uuencoded block does not decode")
    elif w != g:
        bad(tag + " attachments", "%d in, %d out, %d differ" % (len(w), len(g), len(set(w) ^ set(g))))
    else:
        ok(tag + " attachments (%d)" % len(w))


def encodable(text, cs):
    try:
        text.encode(cs)
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def same_charset(a, b):
    import codecs
    try:
        return codecs.lookup(a).name == codecs.lookup(b).name
    except LookupError:
        return a.lower() == b.lower()


def check_texts_mime(tag, cin, cout, target):
    """every text, in order and by subtype, with the same characters"""
    if len(cin.texts) != len(cout.texts):
        bad(tag + " texts", "%d in, %d out" % (len(cin.texts), len(cout.texts)))
        return
    for (sub, t, cs, raw), (sub2, t2, cs2, raw2) in zip(cin.texts, cout.texts):
        if t is None:                       # undecodable: must come out as the same bytes
            if raw != raw2:
                bad(tag + " texts", "an undecodable text changed")
                return
            continue
        if sub != sub2 or squeeze(t) != squeeze(t2):
            bad(tag + " texts", "a %s text changed" % sub)
            return
        if target and not same_charset(cs2, target) and not (same_charset(cs2, cs) and not encodable(t, target)):
            if not (squeeze(t).isascii() and same_charset(cs2, cs)):
                bad(tag + " charset", "%s text in %s, not %s" % (sub, cs2, target))
                return
    ok(tag + " texts (%d)" % len(cin.texts))


def check_texts_uu(tag, cin, cout, body_cs):
    """the one body holds every plain text, or a text that did not fit became a file"""
    body = "".join(squeeze(t) for sub, t, cs, raw in cout.texts if t is not None)
    for sub, t, cs, raw in cin.texts:
        if t is None or squeeze(t) in body:
            continue
        if any(f == raw for f in cout.files):
            continue
        bad(tag + " texts", "a %s text is missing from the body" % sub)
        return
    ok(tag + " texts (%d)" % len(cin.texts))


def check_flat(tag, out):
    msg = email.message_from_bytes(out, policy=email.policy.default)
    if msg.is_multipart() or msg.get_content_type() != "text/plain":
        bad(tag + " flat", "the output is %s, not one text/plain body" % msg.get_content_type())
    else:
        ok(tag + " one text/plain body")


def check_7bit(tag, out):
    if any(b >= 0x80 for b in out):
        bad(tag + " 7-bit", "8-bit bytes in the output")
    elif any(len(line) > 998 for line in out.split(b"\n")):
        bad(tag + " 7-bit", "a line over 998 bytes")
    else:
        ok(tag + " 7-bit")


def width(s):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def check_wrap(tag, cout, w):
    for sub, t, cs, raw in cout.texts:
        if sub != "plain" or t is None:
            continue
        for line in t.split("\n"):
            body = line.lstrip("> ").rstrip(" ")
            if width(line.rstrip(" ")) > w and (" " in body or any(width(ch) == 2 for ch in body[1:])):
                bad(tag + " wrap", "line of %d columns: %r" % (width(line), line[:60]))
                return
    ok(tag + " wrap")


def check_names(tag, out):
    msg = email.message_from_bytes(out, policy=email.policy.compat32)
    for f in ("From", "To", "Cc"):
        for name, addr in email.utils.getaddresses(msg.get_all(f, [])):
            if name:
                bad(tag + " displaynames", "%s still has %r" % (f, name))
                return
    ok(tag + " displaynames")


def check_inbound(tag, data, out, cin, cout):
    """nothing changes but uuencoded blocks, which become attachments"""
    if not cin.uu:
        if data == out:
            ok(tag + " unchanged")
        else:
            bad(tag + " inbound", "a message without uuencoded blocks changed")
        return
    a = "".join(squeeze(t) for s, t, c, r in cin.texts if s == "plain")
    b = "".join(squeeze(t) for s, t, c, r in cout.texts if s == "plain")
    if cout.uu or a != b:
        bad(tag + " inbound", "blocks left in the text, or the text around them changed")
    else:
        ok(tag + " texts around %d block(s)" % cin.uu)


def check_golden(tag, profile, name, out):
    path = os.path.join(GOLDEN, profile, name)
    if UPDATE:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(out)
        return
    if not os.path.exists(path):
        bad(tag + " golden", "no golden file " + os.path.relpath(path, TOP))
    elif open(path, "rb").read() != out:
        bad(tag + " golden", "output differs from " + os.path.relpath(path, TOP))
    else:
        ok(tag + " golden")


def one(profile, name, data, golden=True):
    args, mode, target, wrap = PROFILES[profile]
    tag = "%s %s" % (profile, name)
    rc, out, err = run(args, data)
    if name in AUTOMATIC and mode != "inbound":
        if rc == 20 and out == b"":
            ok(tag + " suppressed")
        else:
            bad(tag, "exit %d, %d bytes: not suppressed" % (rc, len(out)))
        return
    if rc != 0:
        bad(tag, "exit %d: %s" % (rc, err.strip()))
        return
    if golden:
        check_golden(tag, profile, name, out)
    if not check_parses(tag, out):
        return
    check_defects(tag, data, out)
    if out == data and defects(data):
        ok(tag + " malformed: passed through unchanged")
        return
    uu = mode == "uu"
    cin = content(data, never=uu, files_for_rich=uu)
    cout = content(out)
    if mode == "inbound":
        check_files(tag, cin.files, cout.files)
        check_inbound(tag, data, out, cin, cout)
        return
    check_files(tag, cin.files, cout.files)
    if uu:
        check_texts_uu(tag, cin, cout, target)
        check_flat(tag, out)
        check_names(tag, out)
    else:
        check_texts_mime(tag, cin, cout, target)
    if "-8" in args:
        check_7bit(tag, out)
    if wrap:
        check_wrap(tag, cout, wrap)


# ---- the other cases

def one_mb_line():
    words = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
             "incididunt ut labore et dolore magna aliqua ").split()
    line, i = [], 0
    size = 0
    while size < 1024 * 1024:
        w = words[i % len(words)]
        line.append(w)
        size += len(w) + 1
        i += 1
    return (b"From: a@example.org\nTo: b@example.com\nSubject: one long line\n\n"
            + " ".join(line).encode() + b"\n")


def test_big_line():
    data = one_mb_line()
    for profile in PROFILES:
        one(profile, "one-mb-line", data, golden=False)
    rc, out, err = run(["-"], data)
    msg = email.message_from_bytes(out, policy=email.policy.default)
    if msg["Content-Transfer-Encoding"] == "quoted-printable":
        ok("one-mb-line: a 1 MB line goes out quoted-printable")
    else:
        bad("one-mb-line", "transfer encoding %s" % msg["Content-Transfer-Encoding"])


def test_suppress():
    for name in sorted(AUTOMATIC):
        data = open(os.path.join(CORPUS, name), "rb").read()
        rc, out, err = run(["mail.oof.test"], data)
        if rc == 0 and out and squeeze(content(out).texts[0][1]) == squeeze(content(data).texts[0][1]):
            ok(name + " sent where oof=yes autoreplies=yes")
        else:
            bad(name, "not sent where oof=yes autoreplies=yes: exit %d" % rc)
    rc, out, err = run(["-"], open(os.path.join(CORPUS, "plain-ascii.eml"), "rb").read())
    if rc == 0 and out:
        ok("an ordinary message is not suppressed")
    else:
        bad("an ordinary message", "exit %d" % rc)
    data = b"From: a@b.example\nTo: c@d.example\nSubject: Out of Office: away\nAuto-Submitted: auto-generated\n\nx\n"
    rc, out, err = run(["-"], data)
    if rc == 0:
        ok("auto-generated (not a reply) is sent")
    else:
        bad("auto-generated", "exit %d" % rc)
    data = b"From: a@b.example\nTo: c@d.example\nSubject: Out of Office: away\nX-Auto-Response-Suppress: All\n\nx\n"
    rc, out, err = run(["-"], data)
    rc2, out2, err2 = run(["x.oof.test"], data)
    if rc == 20 and not out and rc2 == 0 and "out-of-office" in err:
        ok("X-Auto-Response-Suppress out-of-office suppressed")
    else:
        bad("X-Auto-Response-Suppress", "exit %d / %d: %s" % (rc, rc2, err.strip()))


def test_maxsize():
    big = open(os.path.join(CORPUS, "nested-mixed.eml"), "rb").read()
    small = open(os.path.join(CORPUS, "plain-ascii.eml"), "rb").read()
    rc, out, err = run(["small.test"], big)
    rc2, out2, err2 = run(["small.test"], small)
    if rc == 21 and rc2 == 0:
        ok("maxsize: over 2k exits 21, under passes")
    else:
        bad("maxsize", "exit %d and %d" % (rc, rc2))


def test_pipe():
    data = open(os.path.join(CORPUS, "nested-mixed.eml"), "rb").read()
    env = dict(os.environ, IMC_HOME=HOME, IMC_CONVERT_TEST_BOUNDARY="1")
    p = subprocess.Popen(["sh", "-c", 'cat | "$0" uu.test', BIN], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    out, _ = p.communicate(data)
    with open(os.path.join(HOME, "in.eml"), "wb") as f:
        f.write(data)
    with open(os.path.join(HOME, "in.eml"), "rb") as f:
        out2 = subprocess.run([BIN, "uu.test"], stdin=f, capture_output=True, env=env).stdout
    if p.returncode == 0 and out == out2 and out:
        ok("a pipe as input gives what a file gives")
    else:
        bad("pipe input", "exit %d, outputs %s" % (p.returncode, "differ" if out != out2 else "empty"))


def test_mimetypes():
    home = tempfile.mkdtemp(prefix="imc-convert-mt.")
    os.makedirs(os.path.join(home, "control"))
    with open(os.path.join(home, "control", "mimetypes"), "w") as f:
        f.write("# local types\napplication/x-report bin rep\ntext/plain txt\n")
    data = open(os.path.join(CORPUS, "uuencoded.eml"), "rb").read()
    rc, out, err = run(["inbound"], data, home)
    msg = email.message_from_bytes(out, policy=email.policy.default)
    types = [p.get_content_type() for p in msg.walk() if p.get_filename()]
    if rc == 0 and types == ["application/x-report"]:
        ok("inbound: attachment typed from control/mimetypes")
    else:
        bad("mimetypes", "exit %d, types %r" % (rc, types))
    with open(os.path.join(home, "control", "domains"), "w") as f:
        f.write("* wrap=72\nexample.com foo=bar\nexample.net wrap=abc charset=x-no-such-charset\n")
    rc, out, err = run(["-"], data, home)
    if (rc == 111 and not out and "control/domains:2: unknown key foo" in err
            and "control/domains:3: bad value for wrap" in err):
        ok("control/domains errors: exit 111 with file:line")
    else:
        bad("control/domains errors", "exit %d: %s" % (rc, err.strip()))
    shutil.rmtree(home)
    rc, out, err = run([], b"")
    rc2, out2, err2 = run(["-x", "-"], b"")
    if rc == 100 and rc2 == 100 and "usage" in err:
        ok("usage: exit 100")
    else:
        bad("usage", "exit %d / %d" % (rc, rc2))


def main():
    if not os.access(BIN, os.X_OK):
        bad("imc-convert", "not built: " + BIN)
        return
    if not shutil.which("uudecode"):
        bad("uudecode", "not installed (sharutils)")
        return
    os.makedirs(os.path.join(HOME, "control"))
    with open(os.path.join(HOME, "control", "domains"), "w") as f:
        f.write(DOMAINS)
    names = sorted(n for n in os.listdir(CORPUS) if n.endswith(".eml"))
    for profile in PROFILES:
        for name in names:
            one(profile, name, open(os.path.join(CORPUS, name), "rb").read())
    test_big_line()
    test_suppress()
    test_maxsize()
    test_pipe()
    test_mimetypes()


try:
    main()
finally:
    shutil.rmtree(HOME, ignore_errors=True)
sys.exit(1 if fails else 0)
