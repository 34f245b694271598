#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A fault-injecting HTTP/1.1 proxy on loopback in front of one registry, for the registry tests.

It forwards every request to the upstream registry (a fresh upstream connection per request; the
client's connection is kept alive) unless a fault rule or the `X-Xarch-Fault` request header says
otherwise. Control, on the same port:

    POST   /__fault        JSON rule → {"id": N}
    GET    /__fault        {"rules": [...active rules with hits left...], "applied": [...]}
    DELETE /__fault/N      drop rule N;  DELETE /__fault drops every rule
    GET    /__log          the last 2000 proxied requests: method, path, status, fault
    GET    /__health

A rule: {"kind": K, "path": REGEX (re.search on the path with its query; default any),
         "method": "GET" (default any), "count": N (default 1; -1 = until deleted), ...}
Kinds (further fields in brackets):
    status500                   answer 500 with a distribution error body, no upstream call
    status429 | status429-retry-after   answer 429 with `Retry-After` [retry_after: s, default 1]
    status                      answer [status] with [headers] and [body] (a Content-Length given in
                                headers is sent as is, so a body shorter than it is possible)
    reset                       close the connection with a TCP reset before any answer
    reset-mid-body              forward; send the headers and half the body, then a TCP reset
    truncate-body               forward; send the headers and half the body, then close cleanly
    corrupt-body                forward; flip one byte in the middle of the body (same length)
    corrupt-request-body        flip one byte in the middle of the request body before forwarding
    delay                       wait [delay] seconds (default 2), then forward
The header form applies to that one request: `X-Xarch-Fault: KIND[;key=value...]` (e.g.
`status429;retry_after=2`, `status;status=401`); the header is not forwarded.

Request and response bodies of faulted exchanges are read whole into memory; others stream.
Usage: fault_proxy.py --upstream HOST:PORT [--listen 127.0.0.1] [--port 0]. Prints
"listening on HOST:PORT" once it serves.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import json
import re
import socket
import struct
import sys
import time

MAX_HEAD = 64 * 1024
CHUNK = 256 * 1024


class Rules:
    def __init__(self):
        self.rules: list[dict] = []
        self.ids = itertools.count(1)
        self.applied: collections.deque = collections.deque(maxlen=2000)
        self.log: collections.deque = collections.deque(maxlen=2000)

    def add(self, rule: dict) -> int:
        if "kind" not in rule:
            raise ValueError("a rule needs a kind")
        if rule["kind"] not in KINDS:
            raise ValueError(f"unknown kind {rule['kind']!r}; known: {', '.join(sorted(KINDS))}")
        rule = dict(rule)
        rule["id"] = next(self.ids)
        rule["_re"] = re.compile(rule.get("path") or "")
        rule.setdefault("count", 1)
        self.rules.append(rule)
        return rule["id"]

    def take(self, method: str, path: str) -> dict | None:
        for rule in self.rules:
            if rule.get("method") and rule["method"].upper() != method:
                continue
            if not rule["_re"].search(path):
                continue
            if rule["count"] > 0:
                rule["count"] -= 1
                if rule["count"] == 0:
                    self.rules.remove(rule)
            self.applied.append({"id": rule["id"], "kind": rule["kind"], "method": method,
                                 "path": path, "time": time.time()})
            return rule
        return None

    def public(self) -> list[dict]:
        return [{k: v for k, v in r.items() if not k.startswith("_")} for r in self.rules]


KINDS = {
    "status500", "status429", "status429-retry-after", "status", "reset", "reset-mid-body",
    "truncate-body", "corrupt-body", "corrupt-request-body", "delay",
}


def header_rule(value: str) -> dict:
    kind, *params = [p.strip() for p in value.split(";")]
    rule: dict = {"kind": kind}
    for p in params:
        k, _, v = p.partition("=")
        rule[k.strip()] = v.strip()
    return rule


class Head:
    """A request or response head: the start line and the headers in order."""

    def __init__(self, start: str, headers: list[tuple[str, str]]):
        self.start = start
        self.headers = headers

    def get(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def remove(self, name: str):
        name = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name]

    def set(self, name: str, value: str):
        self.remove(name)
        self.headers.append((name, value))

    def encode(self) -> bytes:
        lines = [self.start] + [f"{k}: {v}" for k, v in self.headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class NotHttp(Exception):
    """The peer does not speak HTTP/1 (a TLS ClientHello from a client probing for HTTPS)."""


async def read_head(reader: asyncio.StreamReader) -> Head | None:
    try:
        first = await reader.readexactly(1)
        while first in (b"\r", b"\n"):  # empty lines before a request line are allowed
            first = await reader.readexactly(1)
        if not first.isalpha():
            raise NotHttp()
        data = first + await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if e.partial.strip():
            raise ConnectionError("connection closed inside a message head")
        return None
    except asyncio.LimitOverrunError:
        raise ConnectionError("message head too large")
    lines = data.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        k, _, v = line.partition(":")
        headers.append((k.strip(), v.strip()))
    return Head(lines[0], headers)


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    out = bytearray()
    while True:
        line = await reader.readuntil(b"\r\n")
        size = int(line.split(b";")[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return bytes(out)
        out += await reader.readexactly(size)
        await reader.readexactly(2)


def reset(writer: asyncio.StreamWriter):
    """Close with a TCP reset (SO_LINGER 0)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class Proxy:
    def __init__(self, upstream: str):
        host, _, port = upstream.rpartition(":")
        self.upstream = (host.strip("[]"), int(port))
        self.rules = Rules()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        try:
            while True:
                try:
                    head = await read_head(reader)
                except NotHttp:
                    # As Go's server does: a fast 400, so that a client probing HTTPS falls back.
                    await self.answer(writer, 400, b"not an HTTP/1.1 request\n", None,
                                      "Bad Request", close=True)
                    break
                if head is None:
                    break
                keep = await self.exchange(head, reader, writer)
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError) as e:
            print(f"connection ended: {e!r}", file=sys.stderr, flush=True)
        finally:
            if not writer.transport.is_closing():
                writer.close()

    async def answer(self, writer, status: int, body: bytes, headers: dict | None = None,
                     reason: str = "", close: bool = False):
        head = Head(f"HTTP/1.1 {status} {reason or 'Fault'}", [])
        for k, v in (headers or {}).items():
            head.set(k, str(v))
        if head.get("Content-Length") is None:
            head.set("Content-Length", str(len(body)))
        if close:
            head.set("Connection", "close")
        writer.write(head.encode() + body)
        await writer.drain()

    async def control(self, head: Head, body: bytes, writer) -> None:
        method, target = head.start.split(" ")[:2]
        path = target.split("?")[0]
        js = {"Content-Type": "application/json"}
        if path == "/__health":
            return await self.answer(writer, 200, b'{"ok":true}', js, "OK")
        if path == "/__log" and method == "GET":
            data = json.dumps(list(self.rules.log)).encode()
            return await self.answer(writer, 200, data, js, "OK")
        if path == "/__fault" and method == "POST":
            try:
                rule_id = self.rules.add(json.loads(body or b"{}"))
            except (ValueError, re.error, TypeError, AttributeError) as e:
                return await self.answer(writer, 400, json.dumps({"error": str(e)}).encode(), js,
                                         "Bad Request")
            data = json.dumps({"id": rule_id}).encode()
            return await self.answer(writer, 201, data, js, "Created")
        if path == "/__fault" and method == "GET":
            out = {"rules": self.rules.public(), "applied": list(self.rules.applied)}
            return await self.answer(writer, 200, json.dumps(out).encode(), js, "OK")
        if path == "/__fault" and method == "DELETE":
            self.rules.rules.clear()
            return await self.answer(writer, 204, b"", None, "No Content")
        m = re.fullmatch(r"/__fault/(\d+)", path)
        if m and method == "DELETE":
            before = len(self.rules.rules)
            self.rules.rules = [r for r in self.rules.rules if r["id"] != int(m.group(1))]
            found = len(self.rules.rules) != before
            return await self.answer(writer, 204 if found else 404, b"", None, "Done")
        return await self.answer(writer, 404, b'{"error":"unknown control path"}', js, "Not Found")

    async def read_request_body(self, head: Head, reader, writer) -> bytes:
        if (head.get("Expect") or "").lower() == "100-continue":
            head.remove("Expect")
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()
        if "chunked" in (head.get("Transfer-Encoding") or "").lower():
            body = await read_chunked(reader)
            head.remove("Transfer-Encoding")
            head.set("Content-Length", str(len(body)))
            return body
        length = int(head.get("Content-Length") or 0)
        return await reader.readexactly(length) if length else b""

    async def exchange(self, head: Head, reader, writer) -> bool:
        """One request; returns whether the client connection stays open."""
        method, target, *_ = head.start.split(" ") + ["", ""]
        client_close = (head.get("Connection") or "").lower() == "close"
        if target.startswith("/__"):
            body = await self.read_request_body(head, reader, writer)
            await self.control(head, body, writer)
            return not client_close
        fault_header = head.get("X-Xarch-Fault")
        head.remove("X-Xarch-Fault")
        rule = header_rule(fault_header) if fault_header else self.rules.take(method, target)
        kind = rule["kind"] if rule else None
        entry = {"time": time.time(), "method": method, "path": target, "fault": kind}
        self.rules.log.append(entry)
        body = await self.read_request_body(head, reader, writer)

        if kind == "reset":
            reset(writer)
            return False
        if kind == "status500":
            entry["status"] = 500
            err = {"errors": [{"code": "UNKNOWN", "message": "injected fault: status500"}]}
            await self.answer(writer, 500, json.dumps(err).encode(),
                              {"Content-Type": "application/json"}, "Internal Server Error")
            return not client_close
        if kind in ("status429", "status429-retry-after"):
            entry["status"] = 429
            err = {"errors": [{"code": "TOOMANYREQUESTS", "message": "injected fault: status429"}]}
            await self.answer(writer, 429, json.dumps(err).encode(),
                              {"Content-Type": "application/json",
                               "Retry-After": str(rule.get("retry_after", 1))}, "Too Many Requests")
            return not client_close
        if kind == "status":
            status = int(rule.get("status", 500))
            entry["status"] = status
            data = rule.get("body", "")
            data = data.encode() if isinstance(data, str) else json.dumps(data).encode()
            headers = dict(rule.get("headers") or {})
            lying = "Content-Length" in headers or "content-length" in headers
            await self.answer(writer, status, data if method != "HEAD" else b"", headers,
                              close=lying)
            if lying:
                writer.close()
                return False
            return not client_close
        if kind == "delay":
            await asyncio.sleep(float(rule.get("delay", 2)))
        if kind == "corrupt-request-body" and body:
            body = flip(body)

        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError as e:
            await self.answer(writer, 502, f"upstream: {e}".encode(), None, "Bad Gateway")
            return False
        try:
            head.set("Connection", "close")
            if body or head.get("Content-Length") is not None:
                head.set("Content-Length", str(len(body)))
            up_writer.write(head.encode() + body)
            await up_writer.drain()
            while True:
                rhead = await read_head(up_reader)
                if rhead is None:
                    raise ConnectionError("upstream closed without an answer")
                status = int(rhead.start.split(" ")[1])
                if status >= 200:
                    break  # skip 1xx (the upstream never sees Expect, but be safe)
            entry["status"] = status
            rhead.remove("Connection")
            if client_close:
                rhead.set("Connection", "close")
            no_body = method == "HEAD" or status in (204, 304)
            return await self.relay(rhead, no_body, kind, up_reader, writer) and not client_close
        finally:
            up_writer.close()

    async def relay(self, rhead: Head, no_body: bool, kind, up_reader, writer) -> bool:
        if no_body:
            writer.write(rhead.encode())
            await writer.drain()
            return True
        chunked = "chunked" in (rhead.get("Transfer-Encoding") or "").lower()
        length = rhead.get("Content-Length")
        body_faults = ("reset-mid-body", "truncate-body", "corrupt-body")
        if chunked or length is None or kind in body_faults:
            # Read it whole, then answer with a Content-Length.
            if chunked:
                data = await read_chunked(up_reader)
            elif length is not None:
                data = await up_reader.readexactly(int(length))
            else:
                data = await up_reader.read()
            rhead.remove("Transfer-Encoding")
            rhead.set("Content-Length", str(len(data)))
            if kind == "corrupt-body":
                data = flip(data)
            if kind in ("reset-mid-body", "truncate-body"):
                writer.write(rhead.encode() + data[: len(data) // 2])
                await writer.drain()
                if kind == "reset-mid-body":
                    reset(writer)
                else:
                    writer.close()
                return False
            writer.write(rhead.encode() + data)
            await writer.drain()
            return True
        writer.write(rhead.encode())
        left = int(length)
        while left > 0:
            piece = await up_reader.read(min(CHUNK, left))
            if not piece:
                raise ConnectionError("upstream closed inside a body")
            writer.write(piece)
            left -= len(piece)
            await writer.drain()
        return True


def flip(data: bytes) -> bytes:
    if not data:
        return data
    out = bytearray(data)
    out[len(out) // 2] ^= 0xFF
    return bytes(out)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--upstream", required=True, help="HOST:PORT of the registry")
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    proxy = Proxy(args.upstream)
    server = await asyncio.start_server(proxy.serve, args.listen, args.port, limit=MAX_HEAD)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"listening on {host}:{port}", flush=True)
    async with server:
        await server.serve_forever()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        sys.exit(0)
