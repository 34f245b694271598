#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A small token issuer for the `auth: token` test registry (Docker's token authentication spec).

    GET  /token?service=S&scope=repository:NAME:pull,push[&scope=...][&account=A]
         Basic auth or anonymous; answers {"token", "access_token", "expires_in", "issued_at"}.
    POST /token  (OAuth2 form: grant_type=password with username/password, or
         grant_type=refresh_token with refresh_token; service, scope (space-separated),
         client_id, access_type=offline for a refresh token)
    GET  /__log  the requests served so far (JSON list), for tests that count token fetches
    GET  /__health

The JWT is signed with ES256 by a throwaway key; its certificate is the registry's rootcertbundle
and travels in the `x5c` header (the `kid` header carries libtrust's key id as well).

What is granted (the ACL):
    users from the config (all with the configured password): pull, push and delete on every
        repository, except push and delete on `denied/*`; `*` on `registry:catalog:*`;
    anyone, even anonymous: pull on `public/*`;
    nothing else. Scopes not granted are left out of the token (the registry then answers 401 with
    `insufficient_scope`), as the spec says; wrong credentials get 401 from the issuer itself.
The token lifetime is `ttl` seconds, or the user's own entry in `ttl_by_user`.

Usage: token_issuer.py CONFIG.json   (keys: host, port, users {name: password}, ttl, ttl_by_user,
       issuer, key (PEM path), cert (PEM path)). Prints "listening on HOST:PORT" once it serves.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import hashlib
import json
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization


def libtrust_key_id(public_key) -> str:
    """libtrust's key id: the first 240 bits of SHA-256(DER SubjectPublicKeyInfo), base32,
    in groups of four separated by colons."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i : i + 4] for i in range(0, len(b32), 4))


def parse_scope(text: str):
    """`type:name:actions` → (type, name, [actions]); the name may hold a colon (host:port/repo)."""
    if text.count(":") < 2:
        return None
    kind, rest = text.split(":", 1)
    name, actions = rest.rsplit(":", 1)
    return kind, name, [a for a in actions.split(",") if a]


class Issuer:
    def __init__(self, config: dict):
        self.config = config
        self.users: dict[str, str] = config["users"]
        self.ttl = int(config.get("ttl", 60))
        self.ttl_by_user = {k: int(v) for k, v in config.get("ttl_by_user", {}).items()}
        self.issuer = config.get("issuer", "xarch-test-issuer")
        with open(config["key"], "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), password=None)
        with open(config["cert"], "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        self.x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
        self.kid = libtrust_key_id(cert.public_key())
        self.refresh_tokens: dict[str, str] = {}  # refresh token → user
        self.log: list[dict] = []
        self.lock = threading.Lock()

    def allowed(self, user: str | None, kind: str, name: str) -> set[str]:
        if kind == "registry" and name == "catalog":
            return {"*"} if user else set()
        if kind != "repository":
            return set()
        granted: set[str] = set()
        if fnmatch.fnmatchcase(name, "public/*"):
            granted.add("pull")
        if user:
            granted.add("pull")
            if not fnmatch.fnmatchcase(name, "denied/*"):
                granted |= {"push", "delete"}
        return granted

    def grant(self, user: str | None, scopes: list[str]) -> list[dict]:
        access: dict[tuple[str, str], list[str]] = {}
        for text in scopes:
            parsed = parse_scope(text)
            if parsed is None:
                continue
            kind, name, actions = parsed
            allowed = self.allowed(user, kind.split("(")[0], name)
            got = [a for a in actions if a in allowed or ("*" in allowed)]
            if got:
                have = access.setdefault((kind, name), [])
                have.extend(a for a in got if a not in have)
        return [{"type": k, "name": n, "actions": a} for (k, n), a in access.items()]

    def token(self, user: str | None, service: str, scopes: list[str]) -> dict:
        now = int(time.time())
        ttl = self.ttl_by_user.get(user or "", self.ttl)
        access = self.grant(user, scopes)
        claims = {
            "iss": self.issuer,
            "sub": user or "",
            "aud": service,
            "exp": now + ttl,
            "nbf": now - 1,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        headers = {"typ": "JWT", "kid": self.kid, "x5c": self.x5c}
        token = jwt.encode(claims, self.key, algorithm="ES256", headers=headers)
        issued_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        with self.lock:
            self.log.append({
                "time": now, "user": user, "service": service, "scopes": scopes,
                "access": access, "expires_in": ttl,
            })
        return {"token": token, "access_token": token, "expires_in": ttl, "issued_at": issued_at}


class Handler(BaseHTTPRequestHandler):
    server_version = "xarch-token-issuer/1"
    protocol_version = "HTTP/1.1"
    issuer: Issuer

    def log_message(self, fmt, *args):  # to stderr, which the launcher sends to a log file
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))

    def reply(self, status: int, body: dict, headers: dict | None = None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def unauthorized(self, message: str):
        self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": message}]},
                   {"WWW-Authenticate": 'Basic realm="xarch-test-issuer"'})

    def basic_user(self):
        """(True, None) without credentials, (True, user) with good ones, else (False, None)."""
        header = self.headers.get("Authorization")
        if not header:
            return True, None
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False, None
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
            user, _, password = decoded.partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False, None
        return self.check(user, password), user

    def check(self, user: str, password: str) -> bool:
        expected = self.issuer.users.get(user)
        return expected is not None and secrets.compare_digest(expected, password)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if url.path == "/__health":
            return self.reply(200, {"ok": True})
        if url.path == "/__log":
            with self.issuer.lock:
                return self.reply(200, list(self.issuer.log))
        if url.path != "/token":
            return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": url.path}]})
        ok, user = self.basic_user()
        if not ok:
            return self.unauthorized("bad credentials")
        scopes = [s for value in query.get("scope", []) for s in value.split(" ") if s]
        service = query.get("service", [""])[0]
        self.reply(200, self.issuer.token(user, service, scopes))

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/token":
            return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": url.path}]})
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
        field = lambda name: form.get(name, [""])[0]  # noqa: E731
        grant_type = field("grant_type")
        if grant_type == "password":
            user = field("username")
            if not self.check(user, field("password")):
                return self.unauthorized("bad credentials")
        elif grant_type == "refresh_token":
            with self.issuer.lock:
                user = self.issuer.refresh_tokens.get(field("refresh_token"))
            if user is None:
                return self.unauthorized("unknown refresh token")
        else:
            return self.reply(400, {"error": "unsupported_grant_type"})
        scopes = [s for s in field("scope").split(" ") if s]
        body = self.issuer.token(user, field("service"), scopes)
        body["token_type"] = "Bearer"
        body["scope"] = field("scope")
        if grant_type == "refresh_token":
            body["refresh_token"] = field("refresh_token")
        elif field("access_type") == "offline":
            refresh = secrets.token_urlsafe(24)
            with self.issuer.lock:
                self.issuer.refresh_tokens[refresh] = user
            body["refresh_token"] = refresh
        del body["token"]  # the OAuth2 answer names it access_token only
        self.reply(200, body)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):  # a client that went away
            sys.stderr.write(f"{client_address}: {error!r}\n")
        else:
            super().handle_error(request, client_address)


def main() -> int:
    with open(sys.argv[1]) as f:
        config = json.load(f)
    Handler.issuer = Issuer(config)
    server = Server((config.get("host", "127.0.0.1"), int(config.get("port", 0))), Handler)
    host, port = server.server_address[:2]
    print(f"listening on {host}:{port}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
