"""Small fronts of our own in front of a real registry, for behaviour a registry will not show on demand:
blob downloads redirected to a storage host that refuses credentials, and blobs served corrupted."""
import base64
import http.client
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import PASSWORD, USER, free_port


def serve(handle, tls=None):
    """A threaded loopback HTTP server calling `handle(request)` for every method, speaking TLS with the
    (certificate, key) pair `tls` if given; returns (server, port)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_any(self):
            handle(self)

        do_GET = do_HEAD = do_POST = do_PATCH = do_PUT = do_DELETE = do_any

    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # a client that hangs up on a lying or failing front is the point of the test

    port = free_port()
    server = Server(("127.0.0.1", port), Handler)
    if tls:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, port


def read_body(request, limit=None):
    """The request body, sent with Content-Length or in chunked transfer encoding (a streamed upload);
    `limit` stops after that many bytes, leaving the rest unread."""
    if "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
        length = int(request.headers.get("Content-Length") or 0)
        length = length if limit is None else min(length, limit)
        return request.rfile.read(length) if length else b""
    parts, total = [], 0
    while limit is None or total < limit:
        size = int(request.rfile.readline().split(b";")[0], 16)
        if size == 0:
            while request.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            break
        parts.append(request.rfile.read(size))
        request.rfile.readline()
        total += size
    return b"".join(parts)


def forward(upstream_port, request, body=b"", headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
    connection.putrequest(request.command, request.path, skip_host=True, skip_accept_encoding=True)
    connection.putheader("Host", f"127.0.0.1:{upstream_port}")
    for key, value in (headers if headers is not None else request.headers.items()):
        if key.lower() not in ("host", "connection", "content-length", "transfer-encoding"):
            connection.putheader(key, value)
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    payload = response.read() if request.command != "HEAD" else b""
    result = (response.status, response.getheaders(), payload)
    connection.close()
    return result


def reply(request, status, headers, payload):
    request.send_response(status)
    length = None
    for key, value in headers:
        if key.lower() in ("connection", "transfer-encoding", "date"):
            continue
        if key.lower() == "content-length":
            length = value
            continue
        request.send_header(key, value)
    request.send_header("Content-Length", length if request.command == "HEAD" and length else str(len(payload)))
    request.end_headers()
    if request.command != "HEAD":
        request.wfile.write(payload)


def reply_partially(request, status, headers, payload):
    """Sends the status, the headers (with the full Content-Length) and only `payload`: a cut-off body."""
    request.send_response(status)
    for key, value in headers:
        if key.lower() not in ("connection", "transfer-encoding", "date"):
            request.send_header(key, value)
    request.end_headers()
    request.wfile.write(payload)
    request.wfile.flush()


def own_location(headers, upstream_port, port):
    """Points Location headers at the front instead of the registry behind it."""
    return [(k, v.replace(f"127.0.0.1:{upstream_port}", f"127.0.0.1:{port}") if k.lower() == "location" else v)
            for k, v in headers]


class Front:
    """A front of our own on a loopback port: `handle(request)` answers every request (over TLS with `tls`,
    a (certificate, key) pair). The fronts below are fronts with a handler that forwards to a real registry."""

    def __init__(self, handle, tls=None):
        self.server, self.port = serve(handle, tls)
        self.host = f"127.0.0.1:{self.port}"

    def stop(self):
        self.server.shutdown()


class RedirectingFront(Front):
    """Forwards to a Basic-auth registry, but answers blob GETs with a 307 to a storage host (another port)
    that refuses any request carrying Authorization, as S3 does behind ECR."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.storage_requests = []
        basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

        def storage(request):
            self.storage_requests.append(dict(request.headers))
            if request.headers.get("Authorization"):
                return reply(request, 400, [("Content-Type", "text/plain")],
                             b"Only one auth mechanism allowed")
            status, headers, payload = forward(self.upstream_port, request, headers=[("Authorization", basic)])
            reply(request, status, headers, payload)

        def front(request):
            body = read_body(request)
            if request.command == "GET" and "/blobs/sha256:" in request.path:
                return reply(request, 307, [("Location", f"http://127.0.0.1:{self.storage_port}{request.path}")], b"")
            status, headers, payload = forward(self.upstream_port, request, body)
            reply(request, status, headers, payload)

        self.storage, self.storage_port = serve(storage)
        super().__init__(front)

    def stop(self):
        super().stop()
        self.storage.shutdown()


class CorruptingFront(Front):
    """Forwards to a registry and flips one byte in every blob it serves whose digest is in `corrupt`."""

    def __init__(self, upstream_port):
        self.corrupt = set()

        def front(request):
            body = read_body(request)
            status, headers, payload = forward(upstream_port, request, body)
            digest = request.path.rsplit("/", 1)[-1]
            if request.command == "GET" and "/blobs/" in request.path and digest in self.corrupt and payload:
                payload = payload[:-1] + bytes([payload[-1] ^ 0xFF])
            reply(request, status, headers, payload)

        super().__init__(front)


class StallingFront(Front):
    """Forwards to a registry; while `stall` is set, a blob download larger than `after` bytes stops after
    that many bytes and hangs, as a dying network does. Records the Range headers it is sent."""

    def __init__(self, upstream_port, after):
        self.stall = True
        self.ranges = []

        def front(request):
            body = read_body(request)
            if request.headers.get("Range"):
                self.ranges.append(request.headers["Range"])
            status, headers, payload = forward(upstream_port, request, body)
            if not (self.stall and request.command == "GET" and "/blobs/" in request.path and len(payload) > after):
                return reply(request, status, headers, payload)
            reply_partially(request, status, headers, payload[:after])
            import time
            time.sleep(120)

        super().__init__(front)


class DelayingFront(Front):
    """Forwards to a registry, answering each upload PATCH only after `delay` seconds: a slow link."""

    def __init__(self, upstream_port, delay):
        def front(request):
            import time
            body = read_body(request)
            if request.command == "PATCH":
                time.sleep(delay)
            status, headers, payload = forward(upstream_port, request, body)
            reply(request, status, own_location(headers, upstream_port, self.port), payload)

        super().__init__(front)


def lose_answer(request):
    """Drops the connection without an answer: the request may have been acted on, its answer is lost."""
    request.close_connection = True
    request.connection.shutdown(socket.SHUT_RDWR)


class FaultyFront(Front):
    """Forwards to a registry and, with probability `rate` per request (a seeded generator, so a run with
    --concurrency 1 meets the same faults every time), answers 503, answers 429 with Retry-After, answers
    500, resets the connection halfway through the request body, cuts the response body short, or lets
    the registry act and then loses its answer (the connection dropped, or a 502 in its place). With
    `first`, the very first request (the ping) always meets a fault. With `token_port`, the registry's
    token service is reached through the front too (its challenge's realm is rewritten), faults and all.
    `always` names (method, path fragment) pairs that meet a 503 every time, `lose` (method, path fragment,
    times) triples whose answers are lost after the registry acted, the first `times` of them (None: every
    time; `lost_as` says how: "lose-answer" or "502-after"), and
    `counts` how often each (method, path fragment) pair of `watch` came."""

    FAULTS = ["503", "429", "500", "reset-request", "truncate-response", "lose-answer", "502-after"]
    BEFORE = ["503", "429", "500", "reset-request"]

    def __init__(self, upstream_port, seed, rate, first=False, token_port=None, always=(), watch=(), lose=(),
                 lost_as="lose-answer"):
        import random
        import re
        import threading
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.injected = []
        self.requests = 0
        self.counts = {pair: 0 for pair in watch}
        self.lose = list(lose)

        def front(request):
            with self.lock:
                self.requests += 1
                fault = self.random.choice(self.FAULTS) if self.random.random() < rate else None
                if first and self.requests == 1:
                    fault = self.random.choice(self.BEFORE)
                for method, fragment in self.counts:
                    if request.command == method and fragment in request.path:
                        self.counts[(method, fragment)] += 1
                if any(request.command == m and f in request.path for m, f in always):
                    fault = "503"
                for position, (m, f, times) in enumerate(self.lose):
                    if request.command == m and f in request.path and times != 0:
                        self.lose[position] = (m, f, None if times is None else times - 1)
                        fault = lost_as
            upstream = token_port if token_port and request.path.startswith("/token") else upstream_port
            length = int(request.headers.get("Content-Length") or 0)
            streamed = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
            if fault == "reset-request" and (length > 1 or streamed or request.command in ("GET", "HEAD")):
                read_body(request, limit=max(length // 2, 1) if length or streamed else 0)
                self.injected.append((fault, request.command, request.path))
                return lose_answer(request)
            body = read_body(request)
            if fault in ("503", "429", "500"):
                self.injected.append((fault, request.command, request.path))
                headers = [("Retry-After", "0")] if fault == "429" else []
                return reply(request, int(fault), headers, b'{"errors":[{"code":"UNAVAILABLE","message":"fault"}]}')
            status, headers, payload = forward(upstream, request, body)
            if fault == "lose-answer":
                self.injected.append((fault, request.command, request.path))
                return lose_answer(request)
            if fault == "502-after":
                self.injected.append((fault, request.command, request.path))
                return reply(request, 502, [("Content-Type", "text/html")], b"<html>bad gateway</html>")
            headers = own_location(headers, upstream_port, self.port)
            if token_port:
                headers = [(k, re.sub(r'realm="http://127\.0\.0\.1:\d+', f'realm="http://127.0.0.1:{self.port}', v)
                            if k.lower() == "www-authenticate" else v) for k, v in headers]
            if fault == "truncate-response" and request.command == "GET" and len(payload) > 1:
                self.injected.append((fault, request.command, request.path))
                reply_partially(request, status, headers, payload[: len(payload) // 2])
                request.close_connection = True
                request.connection.shutdown(socket.SHUT_RDWR)
                return
            reply(request, status, headers, payload)

        super().__init__(front)


class LyingFront(Front):
    """Forwards to a registry but lies: `wrong_digest` answers manifest PUTs with another
    Docker-Content-Digest; `endless` serves every blob with a megabyte more than it has."""

    def __init__(self, upstream_port, wrong_digest=False, endless=False):
        def front(request):
            body = read_body(request)
            status, headers, payload = forward(upstream_port, request, body)
            headers = own_location(headers, upstream_port, self.port)
            if wrong_digest and request.command == "PUT" and "/manifests/" in request.path:
                headers = [(k, "sha256:" + "0" * 64 if k.lower() == "docker-content-digest" else v)
                           for k, v in headers]
            if endless and request.command == "GET" and "/blobs/" in request.path and status == 200:
                payload += b"\0" * (1 << 20)
            reply(request, status, headers, payload)

        super().__init__(front)


class ReferrersFront(Front):
    """Forwards to a distribution registry and adds the OCI 1.1 referrers API over it (`referrers_api.py`)."""

    def __init__(self, upstream_port, page_size=2):
        from referrers_api import ReferrersIndex
        self.referrers = ReferrersIndex(page_size)

        def front(request):
            body = read_body(request)
            listing = self.referrers.listing(request.command, request.path)
            if listing:
                status, headers, payload = listing
                return reply(request, status, list(headers.items()), payload)
            status, headers, payload = forward(upstream_port, request, body)
            headers = own_location(headers, upstream_port, self.port)
            added = self.referrers.note(request.command, request.path, status, body,
                                        request.headers.get("Content-Type", ""))
            reply(request, status, headers + list(added.items()), payload)

        super().__init__(front)


class ThrottlingFront(Front):
    """Forwards to a registry but throttles a share `rate` of requests (a seeded draw): a 429 with
    `Retry-After: 0`, a 429 without it, or a 503, before anything is done. `throttled` counts them and
    `most_at_once` is the most requests the front held at the same time."""

    def __init__(self, upstream_port, seed, rate):
        import random
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.throttled = 0
        self.at_once = 0
        self.most_at_once = 0

        def front(request):
            with self.lock:
                draw = self.random.random()
                self.at_once += 1
                self.most_at_once = max(self.most_at_once, self.at_once)
            try:
                body = read_body(request)
                if draw < rate:
                    with self.lock:
                        self.throttled += 1
                    kind = int(draw / rate * 3)
                    headers = [("Retry-After", "0")] if kind == 0 else []
                    return reply(request, 503 if kind == 2 else 429, headers,
                                 b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}')
                status, headers, payload = forward(upstream_port, request, body)
                reply(request, status, own_location(headers, upstream_port, self.port), payload)
            finally:
                with self.lock:
                    self.at_once -= 1

        super().__init__(front)


class RateLimitingFront(Front):
    """Forwards to a registry and states a Docker Hub pull limit on every manifest answer (`headers`, a list
    of pairs; none states nothing), counting the manifest GETs and HEADs it forwards."""

    def __init__(self, upstream_port, headers):
        self.headers = headers
        self.manifest_requests = []

        def front(request):
            body = read_body(request)
            status, answer, payload = forward(upstream_port, request, body)
            if "/manifests/" in request.path:
                self.manifest_requests.append(request.command)
                answer = list(answer) + self.headers
            reply(request, status, answer, payload)

        super().__init__(front)


class PullLimitFront(Front):
    """Forwards to a registry and counts manifest GETs (HEADs are free, as on Docker Hub) in windows of
    `window` seconds that start at a window's first GET, stating `RateLimit-Remaining: LIMIT-COUNT;w=WINDOW`
    on every manifest answer. `worst` is the lowest count it ever stated after a GET."""

    def __init__(self, upstream_port, limit, window):
        import time
        self.limit, self.window = limit, window
        self.started, self.count, self.worst, self.gets = None, 0, limit, 0
        self.events = []
        lock = threading.Lock()

        def front(request):
            body = read_body(request)
            status, answer, payload = forward(upstream_port, request, body)
            if "/manifests/" in request.path:
                with lock:
                    now = time.monotonic()
                    if self.started is None or now - self.started >= self.window:
                        if request.command == "GET":
                            self.started, self.count = now, 0
                    if request.command == "GET":
                        self.count += 1
                        self.gets += 1
                        self.worst = min(self.worst, self.limit - self.count)
                    left = self.limit - self.count if self.started and now - self.started < self.window \
                        else self.limit
                    self.events.append((round(now, 2), request.command, left))
                answer = list(answer) + [("RateLimit-Limit", f"{self.limit};w={self.window}"),
                                         ("RateLimit-Remaining", f"{left};w={self.window}")]
            reply(request, status, answer, payload)

        super().__init__(front)
