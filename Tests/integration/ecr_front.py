"""A small Amazon ECR look-alike in front of a real distribution registry.

It forwards every request to the registry and adds what ECR does and the registry does not: repositories
must exist (asked of moto, the AWS API stand-in), a missing one answers NAME_UNKNOWN or drops the
connection, PATCH answers 201 with a Range stuck at the first chunk, chunks under 5 MiB but the last are
refused, immutable tags cannot be overwritten, manifests without a top-level mediaType are refused
(containers/image#584), and on demand: 429 throttling (with or without
Retry-After) and a token that expires in the middle of a push. It serves the referrers API, as ECR does
since 2024 (`referrers_api.py`)."""
import http.client
import json
import re
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3

from fronts import read_body
from referrers_api import ReferrersIndex

MIN_PART = 5 << 20
MANIFEST_TYPES = ", ".join([
    "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json"])


class ECRFront:
    def __init__(self, port, upstream_port, moto_url, admin, cert, key, account="123456789012", region="us-east-1"):
        self.host = f"{account}.dkr.ecr.{region}.amazonaws.com"
        self.port = port
        self.name = f"{self.host}:{port}"
        self.account = account
        self.upstream_port = upstream_port
        self.ecr = boto3.client("ecr", endpoint_url=moto_url, region_name=region,
                                aws_access_key_id=admin[0], aws_secret_access_key=admin[1])
        self.lock = threading.Lock()
        self.log = []  # (method, path, status)
        self.throttle = []  # request numbers (1-based, counted from now) to answer 429; (n, retry_after or None)
        self.expire_after_patches = None
        self.drop_missing = set()  # repositories for which a missing repository drops the connection
        self.first_range = {}
        self.last_part = {}
        self.patches = 0
        self.counted = 0
        self.referrers = ReferrersIndex()
        self.chaos = None  # (random.Random, rate): a seeded share of requests meets a fault (see `fault`)
        self.injected = []
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_any(self):
                front.handle(self)

            do_GET = do_HEAD = do_POST = do_PATCH = do_PUT = do_DELETE = do_any

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def statuses(self, method):
        with self.lock:
            return [status for m, _, status in self.log if m == method]

    def repository(self, name):
        try:
            return self.ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
        except self.ecr.exceptions.RepositoryNotFoundException:
            return None

    FAULTS = ["503", "429", "500", "lose-answer", "502-after"]

    def fault(self, request):
        """With `chaos` set, draws the fault this request meets: a 503, 429 or 500 before anything is done,
        or, once the front has acted, its answer lost or replaced by a 502."""
        with self.lock:
            if not self.chaos or self.chaos[0].random() >= self.chaos[1]:
                return None
            fault = self.chaos[0].choice(self.FAULTS)
            self.injected.append((fault, request.command, request.path))
        return fault

    def handle(self, request):
        method, path = request.command, request.path
        body = read_body(request)
        request.fault_after = None
        fault = self.fault(request)
        if fault in ("503", "429", "500"):
            return self.reply(request, int(fault), b'{"errors":[{"code":"UNAVAILABLE","message":"fault"}]}',
                              {"Retry-After": "0"} if fault == "429" else {})
        request.fault_after = fault
        with self.lock:
            self.counted += 1
            number = self.counted
            throttled = next((t for t in self.throttle if t[0] == number), None)
        if throttled:
            headers = {"Retry-After": str(throttled[1])} if throttled[1] is not None else {}
            return self.reply(request, 429, b'{"errors":[{"code":"TOOMANYREQUESTS","message":"Rate exceeded"}]}',
                              headers)
        match = re.match(r"^/v2/(.+?)/(blobs|manifests|tags|referrers)/", path)
        name = match.group(1) if match else None
        if name is not None:
            repository = self.repository(name)
            if repository is None:
                if name in self.drop_missing:
                    self.record(method, path, 0)
                    request.close_connection = True
                    request.connection.shutdown(socket.SHUT_RDWR)
                    return
                message = (f"The repository with name '{name}' does not exist in the registry with id "
                           f"'{self.account}'")
                return self.reply(request, 404, ('{"errors":[{"code":"NAME_UNKNOWN","message":"%s"}]}'
                                                 % message).encode())
        listing = self.referrers.listing(method, path)
        if listing:
            status, headers, payload = listing
            return self.reply(request, status, payload, headers)
        if method == "PATCH":
            with self.lock:
                self.patches += 1
                expire = self.expire_after_patches is not None and self.patches > self.expire_after_patches
                if expire:
                    self.expire_after_patches = None
            if expire:
                return self.reply(request, 403, b"Your Authorization Token has expired. Please run "
                                                b"'aws ecr get-login-password' to fetch a new one.",
                                  {"Content-Type": "text/plain"})
            upload = path.split("?")[0].rstrip("/").split("/")[-1]
            previous = self.last_part.get(upload)
            if previous is not None and previous < MIN_PART:
                return self.reply(request, 400, b'{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":'
                                                b'"LayerPartTooSmallException: a part before the last is under 5 MiB"}]}')
            self.last_part[upload] = len(body)
        if method == "PUT" and match and match.group(2) == "manifests":
            try:
                declared = json.loads(body).get("mediaType")
            except ValueError:
                declared = None
            if not declared:
                return self.reply(request, 400, b'{"errors":[{"code":"UNSUPPORTED","message":"Invalid JSON syntax"}]}')
            reference = path.split("/manifests/")[1].split("?")[0]
            if not reference.startswith("sha256:") and repository.get("imageTagMutability") == "IMMUTABLE":
                probe = {"Authorization": request.headers.get("Authorization", ""), "Accept": MANIFEST_TYPES}
                status, _, _ = self.forward("HEAD", path, probe, b"")
                if status == 200:
                    message = (f"The image tag '{reference}' already exists in the '{name}' repository and cannot "
                               f"be overwritten because the tag is immutable.")
                    return self.reply(request, 400, ('{"errors":[{"code":"TAG_INVALID","message":"%s"}]}'
                                                     % message).encode())
        status, headers, payload = self.forward(method, path, request.headers, body)
        if method == "PUT" and match and match.group(2) == "manifests" and status == 201:
            self.mirror_image(name, path.split("/manifests/")[1].split("?")[0], body, request.headers)
        out = self.referrers.note(method, path, status, body, request.headers.get("Content-Type", ""))
        for key, value in headers:
            lower = key.lower()
            if lower in ("content-length", "connection", "transfer-encoding", "date"):
                continue
            if lower == "location":
                value = value.replace(f"http://127.0.0.1:{self.upstream_port}", f"https://{self.name}")
            if lower == "www-authenticate":
                value = f'Basic realm="https://{self.host}/",service="ecr.amazonaws.com"'
            out[key] = value
        if method == "PATCH" and status == 202:
            status = 201
            upload = path.split("?")[0].rstrip("/").split("/")[-1]
            if "Range" in out:
                out["Range"] = self.first_range.setdefault(upload, out["Range"])
        return self.reply(request, status, payload, out)

    def mirror_image(self, name, reference, manifest, headers):
        """Tells moto about a pushed manifest, as ECR's own image list would know it: under its true digest
        (moto makes one up from the layers when not given it)."""
        import hashlib
        arguments = {"repositoryName": name, "imageManifest": manifest.decode(),
                     "imageManifestMediaType": headers.get("Content-Type", ""),
                     "imageDigest": "sha256:" + hashlib.sha256(manifest).hexdigest()}
        if not reference.startswith("sha256:"):
            arguments["imageTag"] = reference
        try:
            self.ecr.put_image(**arguments)
        except Exception:
            pass

    def forward(self, method, path, headers, body):
        connection = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", f"127.0.0.1:{self.upstream_port}")
        for key, value in headers.items():  # items() keeps repeated headers such as Accept
            if key.lower() not in ("host", "connection", "content-length", "transfer-encoding"):
                connection.putheader(key, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        payload = response.read() if method != "HEAD" else b""
        length = response.getheader("Content-Length")
        headers = response.getheaders()
        connection.close()
        if method == "HEAD" and length:
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"] + [("X-Head-Length", length)]
        return response.status, headers, payload

    def record(self, method, path, status):
        with self.lock:
            self.log.append((method, path, status))

    def reply(self, request, status, payload, headers=None):
        self.record(request.command, request.path, status)
        if getattr(request, "fault_after", None) == "lose-answer":
            request.close_connection = True
            request.connection.shutdown(socket.SHUT_RDWR)
            return
        if getattr(request, "fault_after", None) == "502-after":
            status, payload, headers = 502, b"<html>bad gateway</html>", {"Content-Type": "text/html"}
        request.send_response(status)
        headers = dict(headers or {})
        head_length = headers.pop("X-Head-Length", None)
        for key, value in headers.items():
            request.send_header(key, value)
        if request.command == "HEAD":
            request.send_header("Content-Length", head_length or "0")
            request.end_headers()
            return
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)
