#!/usr/bin/env python3
# Copied unchanged from the team's shared/tools/booth_post.py: replays Breeze DSLR Remote Pro 3.30 uploads.
"""Post a photo to a PhotoChanger slot the way Breeze DSLR Remote Pro 3.30 does.

Wire shape (from a request recorded from DSLR Remote Pro 3.30.2 by an earlier deployment):
  - POST to the slot URL (query string passed through unchanged), HTTP/1.1, `Expect: 100-continue`
  - `Content-Type: multipart/form-data; boundary=------------<24 digits>`, with Content-Length
  - text fields: time (unix seconds), user_id (Windows user), id (camera serial + frame no.),
    profile and status (Windows file paths), hash (40 hex chars), name (PC name), model ("Windows"),
    version ("3.30.2"), password (plain text)
  - file field `fileToUpload`, filename like IMG_0003.JPG, Content-Type image/jpeg (image/png when the
    booth removed the background to transparency)
The `hash` algorithm is undocumented; this sends SHA-1 of the file as a plausible stand-in.

Usage: booth_post.py URL PHOTO --password PW [-o OUT] [--field k=v ...] [--no-expect] [--timeout S]
Prints one JSON line: status, reason, headers, elapsed seconds, body bytes (and the body if not an image).
Standard library only.
"""
import argparse, hashlib, http.client, json, mimetypes, os, random, socket, sys, time
from urllib.parse import urlsplit


def build(photo: bytes, filename: str, mime: str, password: str, extra: dict):
    boundary = "------------" + "".join(random.choice("0123456789") for _ in range(24))
    fields = {
        "time": str(int(time.time())),
        "user_id": "Acer",
        "id": "CY04N068111304S2L_%08d." % random.randint(1, 9999),
        "profile": r"C:\Users\Acer\Documents\PhotoboothImages\setup_Serg.xml",
        "status": r"C:\Users\Acer\Documents\PhotoboothImages\screenSerg\preview.jpg",
        "hash": hashlib.sha1(photo).hexdigest(),
        "name": "DESKTOP-K968T3F",
        "model": "Windows",
        "version": "3.30.2",
        "password": password,
    }
    fields.update(extra)
    out = bytearray()
    for k, v in fields.items():
        out += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode()
    out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"fileToUpload\"; filename=\"{filename}\"\r\n"
            f"Content-Type: {mime}\r\n\r\n").encode()
    out += photo + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", bytes(out)


def post(url, body, ctype, expect=True, timeout=70.0, headers=None):
    u = urlsplit(url)
    path = u.path + ("?" + u.query if u.query else "")
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    conn.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)  # one Host header, as the booth sends
    conn.putheader("Host", u.netloc)
    conn.putheader("Content-Type", ctype)
    conn.putheader("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        conn.putheader(name, value)
    if expect:
        conn.putheader("Expect", "100-continue")
    conn.endheaders()
    if expect:  # wait briefly for "100 Continue" (or an early final answer), as real clients do
        conn.sock.settimeout(1.0)
        try:
            peek = conn.sock.recv(25, socket.MSG_PEEK)
            if peek.startswith(b"HTTP/1.1 100"):
                line = b""
                while not line.endswith(b"\r\n\r\n"):
                    line += conn.sock.recv(1)
            elif peek:
                conn.sock.settimeout(timeout)
                return conn.getresponse()  # server answered before the body (e.g. 401/413)
        except socket.timeout:
            pass
        conn.sock.settimeout(timeout)
    try:
        conn.send(body)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may refuse a too-large body early; read its answer
    return conn.getresponse()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url"); ap.add_argument("photo")
    ap.add_argument("--password", required=True)
    ap.add_argument("-o", "--out")
    ap.add_argument("--field", action="append", default=[], help="extra or overriding field k=v")
    ap.add_argument("--mime")
    ap.add_argument("--filename", default="IMG_0003.JPG")
    ap.add_argument("--no-expect", action="store_true")
    ap.add_argument("--timeout", type=float, default=70.0)
    a = ap.parse_args()
    photo = open(a.photo, "rb").read()
    mime = a.mime or mimetypes.guess_type(a.photo)[0] or "application/octet-stream"
    extra = dict(f.split("=", 1) for f in a.field)
    ctype, body = build(photo, a.filename, mime, a.password, extra)
    t = time.monotonic()
    r = post(a.url, body, ctype, expect=not a.no_expect, timeout=a.timeout)
    data = r.read()
    res = {"status": r.status, "reason": r.reason, "headers": dict(r.getheaders()),
           "elapsed_s": round(time.monotonic() - t, 3), "body_bytes": len(data)}
    if not (r.getheader("Content-Type") or "").startswith("image/"):
        res["body"] = data[:2000].decode("utf-8", "replace")
    if a.out and data:
        open(a.out, "wb").write(data)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
