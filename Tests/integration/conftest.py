"""Real services for hoist's end-to-end tests: CNCF distribution registries (plain, Basic auth, TLS, Bearer
token) on loopback ports, started once per session and stopped at the end, and helpers to run hoist and skopeo."""
import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TESTDATA = os.path.join(ROOT, "testdata")
HOIST = os.environ.get("HOIST_BIN", os.path.join(ROOT, ".build", "debug", "hoist"))
USER, PASSWORD = "hoister", "s3cret-pass"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


class ServiceProcess:
    """A server process started by the tests, its output in a log file, stopped when they end."""

    def start(self, args, log_path, port, env=None, cwd=None, timeout=20):
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        wait_for_port(port, timeout=timeout)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


class Registry(ServiceProcess):
    """One docker-registry process with its own storage, config and log."""

    def __init__(self, workdir, name, auth=None, tls=None):
        self.name = name
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        self.port = free_port()
        self.host = f"localhost:{self.port}"
        self.log_path = os.path.join(self.dir, "registry.log")
        lines = [
            "version: 0.1",
            "log:", "  level: info", "  accesslog:", "    disabled: false",
            "storage:", "  filesystem:", f"    rootdirectory: {self.dir}/data", "  delete:", "    enabled: true",
            "http:", f"  addr: 127.0.0.1:{self.port}", "  secret: hoist-tests",
        ]
        if tls:
            lines += ["  tls:", f"    certificate: {tls[0]}", f"    key: {tls[1]}"]
        if auth:
            lines += ["auth:"] + ["  " + line for line in auth]
        with open(os.path.join(self.dir, "config.yml"), "w") as f:
            f.write("\n".join(lines) + "\n")
        self.start(["docker-registry", "serve", os.path.join(self.dir, "config.yml")], self.log_path, self.port)

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def count_requests(self, method, fragment=""):
        """How many access-log lines show a request of this method whose path contains `fragment`."""
        return sum(1 for line in self.log_text().splitlines()
                   if f'"{method} ' in line and fragment in line and "HTTP/1.1\"" in line)

    def manifest_exists(self, repository, tag):
        path = os.path.join(self.dir, "data", "docker", "registry", "v2", "repositories", repository,
                            "_manifests", "tags", tag)
        return os.path.exists(path)


def make_ca(workdir, name="ca", dns="localhost"):
    """A self-signed certificate for `dns` and 127.0.0.1 that is its own CA."""
    cert, key = os.path.join(workdir, f"{name}.crt"), os.path.join(workdir, f"{name}.key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", key, "-out", cert,
         "-subj", f"/CN={dns}", "-addext", f"subjectAltName=DNS:{dns},IP:127.0.0.1",
         "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, capture_output=True)
    return cert, key


def libtrust_key_id(public_der):
    """The key id distribution expects in a token's `kid`: base32 of a truncated SHA-256, in groups of four."""
    digest = hashlib.sha256(public_der).digest()[:30]
    encoded = base64.b32encode(digest).decode().rstrip("=")
    return ":".join(encoded[i:i + 4] for i in range(0, 48, 4))


class TokenServer:
    """A minimal Docker token service: checks Basic credentials and issues RS256 JWTs for distribution."""

    def __init__(self, workdir):
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        cert, key = os.path.join(workdir, "token.crt"), os.path.join(workdir, "token.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", key,
                        "-out", cert, "-subj", "/CN=hoist-token"], check=True, capture_output=True)
        self.cert_path = cert
        with open(key, "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), password=None)
        with open(cert, "rb") as f:
            public = x509.load_pem_x509_certificate(f.read()).public_key()
        self.kid = libtrust_key_id(public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
        self.requests = []
        self.port = free_port()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                from urllib.parse import parse_qs, urlparse
                query = parse_qs(urlparse(self.path).query)
                server.requests.append(query)
                expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.end_headers()
                    return
                access = []
                for scope in query.get("scope", []):
                    for item in scope.split(" "):
                        kind, name, actions = item.split(":")
                        access.append({"type": kind, "name": name, "actions": actions.split(",")})
                body = json.dumps({"token": server.sign(query.get("service", [""])[0], access),
                                   "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def sign(self, service, access):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        def b64(data):
            return base64.urlsafe_b64encode(data).decode().rstrip("=")
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "kid": self.kid}
        claims = {"iss": "hoist-test-issuer", "sub": USER, "aud": service, "exp": now + 300, "nbf": now - 10,
                  "iat": now, "jti": os.urandom(8).hex(), "access": access}
        signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64(signature)

    def stop(self):
        self.httpd.shutdown()


class Services:
    def __init__(self, workdir):
        self.workdir = workdir
        self.ca_cert, self.ca_key = make_ca(workdir)
        htpasswd = os.path.join(workdir, "htpasswd")
        subprocess.run(["htpasswd", "-Bbc", htpasswd, USER, PASSWORD], check=True, capture_output=True)
        self.token = TokenServer(workdir)
        self.plain = Registry(workdir, "plain")
        self.basic = Registry(workdir, "basic", auth=["htpasswd:", "  realm: hoist", f"  path: {htpasswd}"])
        self.tls = Registry(workdir, "tls", tls=(self.ca_cert, self.ca_key))
        self.bearer = Registry(workdir, "bearer", auth=[
            "token:", f"  realm: http://127.0.0.1:{self.token.port}/token", "  service: hoist-registry",
            "  issuer: hoist-test-issuer", f"  rootcertbundle: {self.token.cert_path}"])

    def stop(self):
        for registry in (self.plain, self.basic, self.tls, self.bearer):
            registry.stop()
        self.token.stop()


@pytest.fixture(scope="session")
def services():
    workdir = tempfile.mkdtemp(prefix="hoist-services-")
    started = Services(workdir)
    yield started
    started.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def env(tmp_path):
    """An environment with its own docker config and cache folders, and no proxies."""
    environment = {k: v for k, v in os.environ.items()
                   if k.lower() not in ("http_proxy", "https_proxy", "no_proxy", "ssl_cert_file")}
    environment["DOCKER_CONFIG"] = str(tmp_path / "docker")
    environment["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    environment["HOME"] = str(tmp_path / "home")
    return environment


@pytest.fixture(scope="session")
def fixtures():
    """The committed fixtures, checked to be what scripts/make-fixtures makes."""
    return TESTDATA


def hoist(args, env, input=None, check=True):
    result = subprocess.run([HOIST] + args, env=env, input=input, capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"hoist {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def wait_for_partial_download(target, size, timeout=60):
    """Waits until a pull into `target` has a partial blob of at least `size` bytes in its staging folder."""
    uploads = str(target) + ".hoist-partial/.hoist-uploads"
    deadline = time.time() + timeout
    while time.time() < deadline:
        partial = [os.path.join(uploads, f) for f in os.listdir(uploads)] if os.path.isdir(uploads) else []
        if any(os.path.getsize(f) >= size for f in partial):
            return
        time.sleep(0.1)
    raise AssertionError(f"the pull into {target} never got {size} bytes into a blob")


def skopeo_pull(reference, destination, tls_args=("--src-tls-verify=false",), creds=None):
    """Pulls with skopeo, an independent implementation that checks every blob digest as it copies,
    into its `dir:` format, which keeps the manifest and blobs byte for byte."""
    args = ["skopeo", "copy", "--quiet", *tls_args]
    if creds:
        args += ["--src-creds", creds]
    subprocess.run(args + [f"docker://{reference}", f"dir:{destination}"], check=True, capture_output=True, text=True)
    with open(os.path.join(destination, "manifest.json"), "rb") as f:
        manifest = json.loads(f.read())
    return describe_image(manifest, lambda digest: os.path.join(destination, digest.split(":")[1]))


def read_oci_image(layout):
    """The image in an OCI layout with exactly one image."""
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    with open(blob_path(layout, index["manifests"][0]["digest"])) as f:
        manifest = json.load(f)
    return describe_image(manifest, lambda digest: blob_path(layout, digest))


def describe_image(manifest, path_of):
    """The config digest, the config's diffIDs, and the diffIDs of the layers actually stored
    (decompressed and hashed)."""
    import gzip
    config_digest = manifest["config"]["digest"]
    with open(path_of(config_digest), "rb") as f:
        config_bytes = f.read()
    assert "sha256:" + hashlib.sha256(config_bytes).hexdigest() == config_digest
    diff_ids = []
    for layer in manifest["layers"]:
        with open(path_of(layer["digest"]), "rb") as f:
            data = f.read()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        diff_ids.append("sha256:" + hashlib.sha256(data).hexdigest())
    return {"config": config_digest, "diff_ids": diff_ids,
            "config_diff_ids": json.loads(config_bytes)["rootfs"]["diff_ids"], "manifest": manifest}


def blob_path(layout, digest):
    algorithm, hex_digest = digest.split(":")
    return os.path.join(layout, "blobs", algorithm, hex_digest)


def fixture_image():
    """What every single-image fixture holds: its config digest and diffIDs."""
    layout = os.path.join(TESTDATA, "oci-layout")
    return read_oci_image(layout)


def registry_manifest(registry, repository, tag, ca=None, auth=None):
    scheme = "https" if ca else "http"
    request = urllib.request.Request(f"{scheme}://{registry.host}/v2/{repository}/manifests/{tag}", headers={
        "Accept": "application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json,"
                  "application/vnd.oci.image.index.v1+json,application/vnd.docker.distribution.manifest.list.v2+json"})
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    import ssl
    context = ssl.create_default_context(cafile=ca) if ca else None
    with urllib.request.urlopen(request, context=context) as response:
        return response.read(), response.headers.get("Content-Type"), response.headers.get("Docker-Content-Digest")


class Moto(ServiceProcess):
    """A moto server (the AWS API stand-in) on a loopback port."""

    def __init__(self, workdir, name, enforce_after=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = dict(os.environ)
        if enforce_after is not None:
            environment["INITIAL_NO_AUTH_ACTION_COUNT"] = str(enforce_after)
        self.start(["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                   os.path.join(workdir, f"{name}.log"), self.port, env=environment, cwd=workdir, timeout=60)


ACCOUNT, REGION = "123456789012", "us-east-1"
ECR_TOKEN = f"{ACCOUNT}-auth-token"
HOSTS_MARK = "# hoist-tests"


class ECRServices:
    """moto with IAM enforced (so signing bugs fail), a second moto without (its web identity call cannot be
    made under enforcement), and the ECR look-alike in front of a distribution registry whose only user is
    moto's token."""

    # Calls made before moto starts enforcing IAM: exactly the set-up calls below.
    SETUP_CALLS = 11

    def __init__(self, workdir):
        import boto3
        import json as _json
        from ecr_front import ECRFront
        self.workdir = workdir
        self.moto = Moto(workdir, "moto-iam", enforce_after=self.SETUP_CALLS)
        self.moto_open = Moto(workdir, "moto-open")
        iam = boto3.client("iam", endpoint_url=self.moto.url, region_name=REGION, aws_access_key_id="setup",
                           aws_secret_access_key="setup")

        def user(name, actions):
            iam.create_user(UserName=name)
            key = iam.create_access_key(UserName=name)["AccessKey"]
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=_json.dumps({
                "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
            return key["AccessKeyId"], key["SecretAccessKey"]
        self.admin = user("admin", ["*"])
        self.ci = user("ci", ["ecr:*", "sts:AssumeRole"])
        role = iam.create_role(RoleName="pusher", AssumeRolePolicyDocument=_json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                    "Action": "sts:AssumeRole"}]}))
        self.role_arn = role["Role"]["Arn"]
        iam.put_role_policy(RoleName="pusher", PolicyName="p", PolicyDocument=_json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}))
        self.limited = user("limited", ["ecr:GetAuthorizationToken", "ecr:DescribeRepositories"])

        htpasswd = os.path.join(workdir, "ecr-htpasswd")
        subprocess.run(["htpasswd", "-Bbc", htpasswd, "AWS", ECR_TOKEN], check=True, capture_output=True)
        self.registry = Registry(workdir, "ecr-registry", auth=["htpasswd:", "  realm: ecr", f"  path: {htpasswd}"])
        self.host = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
        self.ca_cert, ca_key = make_ca(workdir, "ecr", dns=self.host)
        self.front = ECRFront(free_port(), self.registry.port, self.moto.url, self.admin, self.ca_cert, ca_key)
        self.name = self.front.name

    def env(self, base, keys=None):
        """An environment that reaches moto and trusts the front, with `keys` as environment credentials."""
        environment = {k: v for k, v in base.items() if not k.startswith("AWS_")}
        environment.update({"AWS_ENDPOINT_URL": self.moto.url, "SSL_CERT_FILE": self.ca_cert,
                            "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/nonexistent",
                            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"})
        if keys:
            environment["AWS_ACCESS_KEY_ID"], environment["AWS_SECRET_ACCESS_KEY"] = keys
        return environment

    def create_repository(self, name, immutable=False):
        import boto3
        ecr = boto3.client("ecr", endpoint_url=self.moto.url, region_name=REGION, aws_access_key_id=self.admin[0],
                           aws_secret_access_key=self.admin[1])
        ecr.create_repository(repositoryName=name, imageTagMutability="IMMUTABLE" if immutable else "MUTABLE")

    def stop(self):
        self.front.stop()
        self.registry.stop()
        self.moto.stop()
        self.moto_open.stop()


def add_hosts_entry(host):
    """Maps `host` to 127.0.0.1 in /etc/hosts (marked, so it can be taken out again); False if not allowed."""
    try:
        with open("/etc/hosts") as f:
            lines = f.read().splitlines()
        if not any(host in line.split() for line in lines):
            with open("/etc/hosts", "a") as f:
                f.write(f"127.0.0.1 {host} {HOSTS_MARK}\n")
        return True
    except OSError:
        return False


def remove_hosts_entries():
    try:
        with open("/etc/hosts") as f:
            lines = f.read().splitlines()
        kept = [line for line in lines if HOSTS_MARK not in line]
        if len(kept) != len(lines):
            with open("/etc/hosts", "w") as f:
                f.write("\n".join(kept) + "\n")
    except OSError:
        pass


@pytest.fixture(scope="session")
def ecr():
    workdir = tempfile.mkdtemp(prefix="hoist-ecr-")
    started = ECRServices(workdir)
    if not add_hosts_entry(started.host):
        started.stop()
        pytest.skip("cannot map the ECR host name in /etc/hosts (needs root)")
    yield started
    remove_hosts_entries()
    started.stop()
    shutil.rmtree(workdir, ignore_errors=True)
