#!/usr/bin/python3
"""mkcorpus.py -- writes tests/convert/corpus/*.eml, the messages imc-convert's
golden tests run on (tests/integration/convert.py).  Deterministic: binary
attachments come from a seeded generator, so running it again gives the same
files.  The 1 MB single-line message is not checked in: convert.py makes it.

    /usr/bin/python3 tests/convert/mkcorpus.py [DIR]
"""
import base64
import os
import quopri
import random
import subprocess
import sys
import zlib

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
rng = random.Random(20261128)


def blob(n):
    return bytes(rng.getrandbits(8) for _ in range(n))


def b64(data):
    return base64.encodebytes(data).decode("ascii")


def qp(text, charset):
    return quopri.encodestring(text.encode(charset)).decode("ascii")


def png():
    """a valid 2x2 PNG"""
    def chunk(kind, data):
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    raw = b"\x00\xff\x00\x00\x00\xff\x00\x00\x00\x00\xff\x00\xff\xff\xff"
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", (2).to_bytes(4, "big") * 2 + b"\x08\x02\x00\x00\x00")
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def pdf():
    body = b"%PDF-1.4\n%\xc7\xec\x8f\xa2\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + blob(1500) + b"\n%%EOF\n"
    return body


HEAD = """Received: from mail.example.org (mail.example.org [192.0.2.10])
\tby mx.example.com with ESMTPS id 4Xk9Lm2nQ8z1
\tfor <{to}>; Thu, 26 Nov 2026 09:14:07 +0000
Date: Thu, 26 Nov 2026 10:14:03 +0100
Message-ID: <{mid}@mail.example.org>
"""


def head(mid, to="bob@example.com"):
    return HEAD.format(mid=mid, to=to)


def write(name, text):
    data = text.encode("latin-1") if isinstance(text, str) else text
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def plain_ascii():
    write("plain-ascii.eml", head("plain1") + """From: Alice Martin <alice@example.org>
To: Bob Stone <bob@example.com>
Subject: Minutes of the Tuesday meeting
X-Mailer: Mutt 2.2.9

Hi Bob,

here are the minutes of Tuesday's meeting, as promised.  The budget for the
next quarter was approved without changes; the hiring plan moves to January.
Please send your comments before Friday so that I can circulate the final
version to the whole team.  This paragraph is one very long line on purpose, since some mail clients write a whole paragraph without any line break at all and leave the wrapping to the reader, which is exactly what a gateway with a wrap setting has to handle gracefully without ever splitting a word in two.

A link that must never be split: https://intranet.example.org/projects/2026/budget/quarterly-review/minutes-tuesday-final-version.html?session=8f1c2d3e4b5a6978&lang=en

Alice
""")


def latin1():
    text = ("Bonjour Jérôme,\n\nvoici le compte rendu de la réunion de mardi. Le budget est approuvé; "
            "les embauches sont reportées à janvier. Grüße aus München, ¡hasta luego! Ça coûte 12,50 EUR (±0,5 £).\n"
            "Ligne suivante avec des accents: àâäéèêëîïôöùûüÿç ÀÂÄÉÈÊËÎÏÔÖÙÛÜÇ.\n\nCordialement,\nÉlodie\n")
    write("latin1-8bit.eml", (head("latin1") + "From: =?iso-8859-1?q?=C9lodie_Lef=E8vre?= <elodie@example.org>\n"
           "To: =?iso-8859-1?q?J=E9r=F4me_Dupr=E9?= <jerome@example.com>\n"
           "Subject: =?iso-8859-1?q?Compte_rendu_de_la_r=E9union?=\nMIME-Version: 1.0\n"
           "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n").encode("ascii")
          + text.encode("iso-8859-1"))
    long = ("Sehr geehrte Damen und Herren, wir bestätigen hiermit den Eingang Ihrer Bestellung vom 24. November "
            "und werden die Ware voraussichtlich Anfang Dezember ausliefern. Für Rückfragen stehen wir Ihnen gerne "
            "zur Verfügung.\n\nMit freundlichen Grüßen\nJürgen Weiß\n")
    write("latin1-qp.eml", head("latin1qp") + "From: =?ISO-8859-1?Q?J=FCrgen_Wei=DF?= <juergen@example.de>\n"
          "To: orders@example.com\nSubject: =?ISO-8859-1?Q?Best=E4tigung_Ihrer_Bestellung?=\nMIME-Version: 1.0\n"
          "Content-Type: text/plain; charset=ISO-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
          + qp(long, "iso-8859-1"))


def utf8():
    cjk = ("田中様\n\nいつもお世話になっております。先日ご依頼いただいた見積書を添付いたしますので、ご確認のほどよろしくお願いいたします。"
           "納期については来月の第二週を予定しておりますが、詳細は改めてご連絡いたします。\n\n"
           "中文测试：这是一封用于测试字符集转换的邮件，其中包含较长的段落，以便检验自动换行功能是否正确处理中日韩文字。\n"
           "한국어 테스트: 안녕하세요, 이것은 긴 문장의 줄 바꿈을 시험하기 위한 메일입니다.\n\n"
           "Emoji: 🎉👍😀 🇯🇵 — thanks! ✅\n\n山本\n")
    write("utf8-cjk.eml", (head("utf8cjk") + "From: =?UTF-8?B?5bGx5pys5aSq6YOO?= <yamamoto@example.jp>\n"
           "To: =?UTF-8?B?55Sw5Lit?= <tanaka@example.com>\n"
           "Subject: =?UTF-8?B?44GK6KaL56mN44KC44KK44Gu5Lu2IPCfjok=?=\nMIME-Version: 1.0\n"
           "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: base64\n\n").encode("ascii")
          + b64(cjk.encode("utf-8")).encode("ascii"))
    emoji = ("Hi team 👋,\n\nthe release is out 🚀. Résumé of changes: naïve café handling, “smart quotes”, "
             "and the long-awaited ünïcödé support in file names. See https://example.com/release/notes/2026-11-26/"
             "very-long-path-that-must-not-be-broken-by-wrapping-ever\n\nCheers ☕\n")
    write("utf8-emoji.eml", (head("utf8emoji") + "From: Zoë Ångström <zoe@example.se>\nTo: team@example.com\n"
           "Subject: Release 🚀 ünïcödé\nMIME-Version: 1.0\n"
           "Content-Type: text/plain; charset=utf-8; format=flowed\nContent-Transfer-Encoding: 8bit\n\n").encode("utf-8")
          + emoji.encode("utf-8"))
    jp = "山田様\n\n会議の資料をお送りします。ご確認ください。\n\n鈴木\n"
    write("iso2022jp.eml", (head("iso2022") + "From: suzuki@example.jp\nTo: yamada@example.com\n"
           "Subject: =?ISO-2022-JP?B?GyRCMnE1RCQ7O3FOQRsoQg==?=\nMIME-Version: 1.0\n"
           "Content-Type: text/plain; charset=ISO-2022-JP\nContent-Transfer-Encoding: 7bit\n\n").encode("ascii")
          + jp.encode("iso-2022-jp"))


def alternative():
    plain = "Dear customer,\n\nyour invoice for November is attached to this notice. Total: 1 234,56 € (TVA incluse).\n\nBest regards\n"
    html = ("<html><head><meta charset=\"windows-1252\"></head><body><p>Dear customer,</p><p>your invoice for "
            "November is attached. Total: <b>1&nbsp;234,56&nbsp;€</b> (TVA incluse).</p></body></html>\n")
    write("alternative.eml", head("alt") + """From: Billing <billing@example.org>
To: customer@example.com
Subject: Your invoice
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="----=_Part_1234_5678.1700000000000"

------=_Part_1234_5678.1700000000000
Content-Type: text/plain; charset=windows-1252
Content-Transfer-Encoding: quoted-printable

""" + qp(plain, "cp1252") + """
------=_Part_1234_5678.1700000000000
Content-Type: text/html; charset=windows-1252
Content-Transfer-Encoding: quoted-printable

""" + qp(html, "cp1252") + """
------=_Part_1234_5678.1700000000000--
""")


def html_only():
    html = ("<!DOCTYPE html>\n<html><body><h1>Newsletter</h1><p>Neuigkeiten f\u00fcr Sie: unsere Filiale in "
            "D\u00fcsseldorf \u00f6ffnet am 1. Dezember.</p></body></html>\n")
    write("html-only.eml", head("html") + """From: news@example.de
To: bob@example.com
Subject: Newsletter
MIME-Version: 1.0
Content-Type: text/html; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

""" + qp(html, "iso-8859-1"))


def nested():
    csv = b"id,name,amount\r\n1,Widget,12.50\r\n2,Gadget,7.25\r\n"
    inner_att = blob(700)
    inner = (b"From: Carol <carol@example.net>\nTo: alice@example.org\nSubject: =?utf-8?q?Fwd=3A_donn=C3=A9es?=\n"
             b"Date: Wed, 25 Nov 2026 16:00:00 +0000\nMIME-Version: 1.0\n"
             b"Content-Type: multipart/mixed; boundary=\"inner-b\"\n\n--inner-b\n"
             b"Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n"
             + "Voilà les données.\n".encode("iso-8859-1") +
             b"\n--inner-b\nContent-Type: application/octet-stream; name=\"data.bin\"\n"
             b"Content-Disposition: attachment; filename=\"data.bin\"\nContent-Transfer-Encoding: base64\n\n"
             + b64(inner_att).encode() + b"--inner-b--\n")
    msg = (head("nested").encode() + b"""From: "Martin, Alice" <alice@example.org>
To: Bob <bob@example.com>, "Dupont, Zo\xc3\xa9" <zoe@example.fr>
Cc: archive@example.org
Subject: =?utf-8?q?Q4_plan_=E2=80=93_files?=
MIME-Version: 1.0
Content-Type: multipart/mixed;
\tboundary="=-=-=outer=-=-="

This is a multi-part message in MIME format.

--=-=-=outer=-=-=
Content-Type: multipart/alternative; boundary="alt-2"

--alt-2
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

""" + qp("Hi Bob,\n\nthe plan, the figures and Carol's data are attached. Prévisions ≥ 5 %.\n\nAlice\n", "utf-8").encode()
           + b"""
--alt-2
Content-Type: multipart/related; boundary="rel-3"; type="text/html"

--rel-3
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

""" + qp("<html><body><p>Hi Bob,</p><p>the plan, the figures and Carol's data are attached. Prévisions ≥ 5 %.</p>"
         "<img src=\"cid:logo@example\"></body></html>\n", "utf-8").encode() + b"""
--rel-3
Content-Type: image/png; name="logo.png"
Content-Disposition: inline; filename="logo.png"
Content-ID: <logo@example>
Content-Transfer-Encoding: base64

""" + b64(png()).encode() + b"""--rel-3--

--alt-2--

--=-=-=outer=-=-=
Content-Type: application/pdf; name="Q4 plan.pdf"
Content-Disposition: attachment; filename="Q4 plan.pdf"
Content-Transfer-Encoding: base64

""" + b64(pdf()).encode() + b"""
--=-=-=outer=-=-=
Content-Type: application/zip
Content-Disposition: attachment;
 filename*=utf-8''Chiffres%20d%C3%A9taill%C3%A9s.zip
Content-Transfer-Encoding: base64

""" + b64(b"PK\x03\x04" + blob(2500)).encode() + b"""
--=-=-=outer=-=-=
Content-Type: text/csv; name="figures.csv"
Content-Disposition: attachment; filename="figures.csv"

""" + csv + b"""
--=-=-=outer=-=-=
Content-Type: message/rfc822

""" + inner + b"""
--=-=-=outer=-=-=--
""")
    write("nested-mixed.eml", msg)


def tnef():
    data = b"\x78\x9f\x3e\x22" + blob(1200)
    write("tnef.eml", head("tnef") + """From: "Outlook User" <user@example.org>
To: partner@example.com
Subject: Meeting notes
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="_000_BN6PR01MB1234_"
X-MS-Has-Attach: yes
X-MS-TNEF-Correlator: <BN6PR01MB1234@example.org>

--_000_BN6PR01MB1234_
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: 7bit

Please find the meeting notes attached.

--_000_BN6PR01MB1234_
Content-Type: application/ms-tnef; name="winmail.dat"
Content-Disposition: attachment; filename="winmail.dat"
Content-Transfer-Encoding: base64

""" + b64(data) + """
--_000_BN6PR01MB1234_--
""")


def broken():
    write("broken-boundary.eml", head("broken") + """From: someone@example.net
To: bob@example.com
Subject: broken boundary
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="declared-boundary"

--other-boundary
Content-Type: text/plain

This message says its boundary is one thing and uses another.
A reader shows it as text; a gateway must pass it on unchanged.

--other-boundary
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

AAECAwQFBgcICQ==
--other-boundary--
""")
    write("unclosed-multipart.eml", head("unclosed") + """From: someone@example.net
To: bob@example.com
Subject: no closing delimiter
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=us-ascii

The closing delimiter of this multipart is missing.

--b1
Content-Type: application/octet-stream; name="tail.bin"
Content-Transfer-Encoding: base64

""" + b64(blob(300)))


def uuencoded():
    data = blob(2000)
    path = os.path.join(OUT, ".tmp-uu")
    with open(path, "wb") as f:
        f.write(data)
    uu = subprocess.run(["uuencode", path, "report-2026.bin"], check=True, capture_output=True).stdout
    os.unlink(path)
    write("uuencoded.eml", head("uu").encode() + b"""From: old-client@example.net
To: bob@example.com
Subject: the file you asked for

Hi,

the file is below, uuencoded as usual.

""" + uu + b"""
Regards,
Old Client
""")


def autoreplies():
    write("oof.eml", head("oof") + """From: Bob Stone <bob@example.com>
To: alice@example.org
Subject: Automatic reply: Minutes of the Tuesday meeting
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

I am out of the office until Monday.
""")
    write("autoreply.eml", head("autoreply") + """From: sales@example.com
To: alice@example.org
Subject: Re: your request
Precedence: auto_reply
Content-Type: text/plain; charset=us-ascii

Thank you for your message; we will answer within two days.
""")


def eightbit_headers():
    write("8bit-headers.eml", (head("hdr8") + "From: Jörg Müller <joerg@example.de>\n"
           "To: \"Åsa, Lind\" <asa@example.se>\nSubject: Grüße aus Köln — über alles\n"
           "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"h8\"\n\n--h8\n"
           "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
           "Grüße!\n\n--h8\nContent-Type: text/plain; name=\"Übersicht.txt\"\n"
           "Content-Disposition: attachment; filename=\"Übersicht.txt\"\nContent-Transfer-Encoding: 8bit\n\n"
           "Zeile 1: Straße\nZeile 2: Größe\n--h8--\n").encode("utf-8"))


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in (plain_ascii, latin1, utf8, alternative, html_only, nested, tnef, broken, uuencoded, autoreplies, eightbit_headers):
        f()


main()
