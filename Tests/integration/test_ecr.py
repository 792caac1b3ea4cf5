"""Amazon ECR end to end: moto for the AWS APIs (IAM enforced, so every signature is checked), the ECR
look-alike front for the registry, and skopeo reading back what hoist pushed."""
import base64
import json
import os
import subprocess
import threading
import urllib.error
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import ECR_TOKEN, REGION, TESTDATA, free_port, hoist, read_oci_image, registry_manifest, skopeo_pull

SCRIPTS = os.path.join(os.path.dirname(TESTDATA), "scripts")


@pytest.fixture(scope="module")
def big_image(tmp_path_factory):
    folder = tmp_path_factory.mktemp("big")
    subprocess.run([os.path.join(SCRIPTS, "make-fixtures"), "--big", "12", str(folder)], check=True)
    return str(folder / "big.tar")


def pull_from_front(ecr, reference, destination):
    cert_dir = os.path.join(ecr.workdir, "skopeo-certs")
    os.makedirs(cert_dir, exist_ok=True)
    with open(ecr.ca_cert) as source, open(os.path.join(cert_dir, "ca.crt"), "w") as target:
        target.write(source.read())
    return skopeo_pull(reference, destination, tls_args=(f"--src-cert-dir={cert_dir}",), creds=f"AWS:{ECR_TOKEN}")


def test_push_to_ecr_logs_in_by_itself_and_survives_ecr_quirks(ecr, env, tmp_path, big_image):
    ecr.create_repository("quirks/app")
    environment = ecr.env(env, ecr.ci)
    ecr.front.expire_after_patches = 1
    start = ecr.front.counted
    ecr.front.throttle = [(start + 3, 1), (start + 6, None)]
    destination = f"{ecr.name}/quirks/app:1"
    # From an OCI layout the layers' sizes are known, so they go in chunks (a layer being compressed
    # goes in one streamed PATCH).
    layout = str(tmp_path / "source")
    hoist(["copy", f"docker-archive:{big_image}", f"oci:{layout}:big", "-q"], env)
    result = hoist(["push", layout, destination, "--chunk-size", "5MiB", "--concurrency", "1"], environment)
    assert result.stdout.strip().startswith(destination + "@sha256:")
    patches = ecr.front.statuses("PATCH")
    assert 403 in patches, "the token expired in the middle of the push"
    assert patches.count(201) >= 3 and 202 not in patches
    assert [s for s in ecr.front.statuses("GET") + ecr.front.statuses("HEAD") + ecr.front.statuses("POST") +
            patches if s == 429], "the front throttled"
    pulled = pull_from_front(ecr, destination, str(tmp_path / "pulled"))
    assert pulled["diff_ids"] == pulled["config_diff_ids"]
    hoist(["pull", destination, str(tmp_path / "layout"), "-q"], environment)
    assert read_oci_image(str(tmp_path / "layout"))["config"] == pulled["config"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_push_and_pull_through_faults_at_the_ecr_front(ecr, env, tmp_path, big_image, seed):
    """20 % of the look-alike's requests fail, before or after it acted (answers lost, 502s in their place),
    on top of its 201 PATCHes and untrusted Range: the chunked push and the pull still end with the digests
    of a clean push."""
    import random
    ecr.create_repository(f"chaos/clean{seed}")
    ecr.create_repository(f"chaos/app{seed}")
    environment = ecr.env(env, ecr.ci)
    layout = str(tmp_path / "source")
    hoist(["copy", f"docker-archive:{big_image}", f"oci:{layout}:big", "-q"], env)
    push = ["push", layout, "--chunk-size", "5MiB", "--concurrency", "1", "--no-cache", "-q"]
    clean = hoist(push[:2] + [f"{ecr.name}/chaos/clean{seed}:1"] + push[2:], environment).stdout.split("@")[1].strip()
    ecr.front.injected = []
    ecr.front.chaos = (random.Random(seed), 0.2)
    try:
        pushed = hoist(push[:2] + [f"{ecr.name}/chaos/app{seed}:1"] + push[2:], environment)
        hoist(["pull", f"{ecr.name}/chaos/app{seed}:1", str(tmp_path / "pulled"), "-q"], environment)
    finally:
        ecr.front.chaos = None
    assert any(fault in ("lose-answer", "502-after") for fault, _, _ in ecr.front.injected), \
        "an answer was lost after the front acted"
    assert pushed.stdout.split("@")[1].strip() == clean
    assert read_oci_image(str(tmp_path / "pulled"))["config"] == read_oci_image(layout)["config"]


def test_missing_repository_is_named_and_can_be_created(ecr, env):
    environment = ecr.env(env, ecr.ci)
    source = os.path.join(TESTDATA, "oci-layout")
    for name, drop in [("missing/one", False), ("missing/two", True)]:
        if drop:
            ecr.front.drop_missing.add(name)
        failed = hoist(["push", source, f"{ecr.name}/{name}:1"], environment, check=False)
        assert failed.returncode != 0
        last = failed.stderr.strip().splitlines()[-1]
        assert f"repository {name} does not exist in registry {ecr.name}" in last
        assert "hoist repo create" in last and "--create-repository" in last
    created = hoist(["push", source, f"{ecr.name}/missing/two:1", "--create-repository"], environment)
    assert created.stdout.startswith(f"{ecr.name}/missing/two:1@sha256:")


def test_immutable_tag_is_explained(ecr, env):
    environment = ecr.env(env, ecr.ci)
    hoist(["repo", "create", f"{ecr.name}/frozen/app", "--immutable-tags"], environment)
    hoist(["push", os.path.join(TESTDATA, "oci-layout"), f"{ecr.name}/frozen/app:1"], environment)
    again = hoist(["push", os.path.join(TESTDATA, "docker-legacy.tar"), f"{ecr.name}/frozen/app:1"], environment,
                  check=False)
    assert again.returncode != 0
    assert "immutable" in again.stderr and "'1'" in again.stderr


def test_lifecycle_policy_is_set_shown_and_deleted(ecr, env, tmp_path):
    environment = ecr.env(env, ecr.ci)
    name = f"{ecr.name}/lifecycle/app"
    hoist(["repo", "create", name], environment)
    rules = {"rules": [
        {"rulePriority": 1, "description": "expire untagged after 7 days",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                       "countNumber": 7}, "action": {"type": "expire"}},
        {"rulePriority": 2, "description": "keep the last 30 releases",
         "selection": {"tagStatus": "tagged", "tagPrefixList": ["release-"], "countType": "imageCountMoreThan",
                       "countNumber": 30}, "action": {"type": "expire"}}]}
    document = tmp_path / "lifecycle.json"
    document.write_text(json.dumps(rules))
    assert hoist(["repo", "lifecycle", "get", name], environment, check=False).returncode != 0
    hoist(["repo", "lifecycle", "set", name, str(document)], environment)
    assert json.loads(hoist(["repo", "lifecycle", "get", name], environment).stdout) == rules
    # The access policy is another document: setting one leaves the other alone.
    assert hoist(["repo", "policy", "get", name], environment, check=False).returncode != 0
    hoist(["repo", "lifecycle", "delete", name], environment)
    missing = hoist(["repo", "lifecycle", "get", name], environment, check=False)
    assert missing.returncode != 0 and "has no lifecycle policy" in missing.stderr
    notecr = hoist(["repo", "lifecycle", "get", "localhost:5000/app"], environment, check=False)
    assert notecr.returncode != 0 and "hoist repo lifecycle get" in notecr.stderr


def test_a_repository_is_created_with_its_lifecycle_policy_checked_first(ecr, env, tmp_path):
    environment = ecr.env(env, ecr.ci)
    rules = {"rules": [{"rulePriority": 1, "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                                         "countUnit": "days", "countNumber": 3},
                        "action": {"type": "expire"}}]}
    document = tmp_path / "lifecycle.json"
    document.write_text(json.dumps(rules))
    name = f"{ecr.name}/lifecycle/created"
    hoist(["repo", "create", name, "--lifecycle-policy", str(document)], environment)
    assert json.loads(hoist(["repo", "lifecycle", "get", name], environment).stdout) == rules
    rules["rules"][0]["selection"]["countType"] = "imageCountLessThan"
    document.write_text(json.dumps(rules))
    refused = hoist(["repo", "create", f"{ecr.name}/lifecycle/refused", "--lifecycle-policy", str(document)],
                    environment, check=False)
    assert refused.returncode != 0
    assert "rules[0].selection.countType: imageCountMoreThan or sinceImagePushed" in refused.stderr
    assert "lifecycle/refused" not in hoist(["repo", "list", ecr.name], environment).stdout, "nothing was created"


def test_scan_waits_for_the_scan_and_gates_on_severity(ecr, env):
    import urllib.request
    environment = ecr.env(env, ecr.ci)
    source = os.path.join(TESTDATA, "oci-layout")
    name = f"{ecr.name}/scan/app"
    hoist(["push", source, f"{name}:1", "--create-repository"], environment)
    # Never scanned (the repository does not scan on push): a basic scan is started; moto finds one HIGH.
    gated = hoist(["scan", f"{name}:1", "--wait", "--fail-on", "high"], environment, check=False)
    assert gated.returncode == 3, gated.stderr
    assert "started a basic scan" in gated.stderr and "1 finding(s) at or above HIGH" in gated.stderr
    assert "COMPLETE, HIGH 1" in gated.stdout and "CVE-9999-9999\tmoto_fake 9.9.9" in gated.stdout
    assert hoist(["scan", f"{name}:1", "--fail-on", "critical"], environment).returncode == 0
    report = json.loads(hoist(["scan", f"{name}:1", "--json"], environment).stdout)
    assert report["counts"] == {"HIGH": 1} and report["findings"][0]["severity"] == "HIGH"

    # Enhanced scanning (Inspector) results, as moto serves them when told to.
    for repository in ("enhanced", "unsupported"):
        hoist(["push", source, f"{ecr.name}/scan/{repository}:1", "--create-repository"], environment)
    results = [
        {"registryId": "123456789012", "repositoryName": "scan/enhanced", "imageId": {"imageTag": "1"},
         "imageScanStatus": {"status": "ACTIVE"},
         "imageScanFindings": {"findingSeverityCounts": {"CRITICAL": 1, "MEDIUM": 2}, "enhancedFindings": [
             {"severity": "CRITICAL", "title": "CVE-2024-6387 - openssh",
              "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2024-6387", "sourceUrl": "https://nvd/6387",
                                              "vulnerablePackages": [{"name": "openssh", "version": "9.2"}]}}]}},
        {"registryId": "123456789012", "repositoryName": "scan/unsupported", "imageId": {"imageTag": "1"},
         "imageScanStatus": {"status": "UNSUPPORTED_IMAGE", "description": "The operating system is not supported"},
         "imageScanFindings": {}}]
    request = urllib.request.Request(f"{ecr.moto.url}/moto-api/static/ecr/scan-finding-results", method="POST",
                                     data=json.dumps({"results": results, "region": "us-east-1"}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()
    critical = hoist(["scan", f"{ecr.name}/scan/enhanced:1", "--wait", "--fail-on", "critical"], environment,
                     check=False)
    assert critical.returncode == 3 and "ACTIVE, CRITICAL 1, MEDIUM 2" in critical.stdout
    assert "CRITICAL\tCVE-2024-6387\topenssh 9.2\thttps://nvd/6387" in critical.stdout
    unsupported = hoist(["scan", f"{ecr.name}/scan/unsupported:1", "--wait", "--fail-on", "critical"], environment,
                        check=False)
    assert unsupported.returncode == 1
    assert "ECR could not scan" in unsupported.stderr and "operating system is not supported" in unsupported.stderr
    notecr = hoist(["scan", "localhost:5000/app:1"], environment, check=False)
    assert notecr.returncode != 0 and "not an ECR registry" in notecr.stderr


def test_bad_aws_credentials_fail_clearly(ecr, env):
    source = os.path.join(TESTDATA, "oci-layout")
    wrong = hoist(["push", source, f"{ecr.name}/quirks/app:2"], ecr.env(env, (ecr.ci[0], "wrong-secret")),
                  check=False)
    assert wrong.returncode != 0 and "SignatureDoesNotMatch" in wrong.stderr
    assert "wrong-secret" not in wrong.stderr
    unknown = hoist(["push", source, f"{ecr.name}/quirks/app:2"], ecr.env(env, ("AKIAUNKNOWN0000000000", "x")),
                    check=False)
    assert unknown.returncode != 0 and "InvalidClientTokenId" in unknown.stderr
    none = hoist(["push", source, f"{ecr.name}/quirks/app:2"], ecr.env(env), check=False)
    assert none.returncode != 0 and "no AWS credentials" in none.stderr


def test_missing_permission_is_named(ecr, env):
    denied = hoist(["repo", "create", f"{ecr.name}/denied/app"], ecr.env(env, ecr.limited), check=False)
    assert denied.returncode != 0
    assert "ecr:CreateRepository" in denied.stderr


def test_repository_policy_and_image_commands(ecr, env, tmp_path):
    environment = ecr.env(env, ecr.ci)
    name = f"{ecr.name}/manage/app"
    created = hoist(["repo", "create", name, "--scan-on-push"], environment)
    assert "manage/app" in created.stdout
    listed = json.loads(hoist(["repo", "list", ecr.name, "--json"], environment).stdout)
    assert any(r["name"] == "manage/app" and r["scanOnPush"] for r in listed)

    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    rejected = hoist(["repo", "policy", "set", name, str(bad)], environment, check=False)
    assert rejected.returncode != 0 and "not a JSON object" in rejected.stderr
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "pull", "Effect": "Allow", "Principal": "*",
                                                      "Action": ["ecr:BatchGetImage"]}]}
    good = tmp_path / "policy.json"
    good.write_text(json.dumps(policy))
    hoist(["repo", "policy", "set", name, str(good)], environment)
    assert json.loads(hoist(["repo", "policy", "get", name], environment).stdout) == policy
    hoist(["repo", "policy", "delete", name], environment)
    assert hoist(["repo", "policy", "get", name], environment, check=False).returncode != 0

    hoist(["push", os.path.join(TESTDATA, "oci-layout"), f"{name}:1", f"{name}:old"], environment)
    images = json.loads(hoist(["images", name, "--json"], environment).stdout)
    assert any("old" in image["tags"].split(",") for image in images)
    hoist(["delete", f"{name}:old"], environment)
    images = json.loads(hoist(["images", name, "--json"], environment).stdout)
    assert not any("old" in image["tags"].split(",") for image in images)

    refused = hoist(["repo", "delete", name], environment, check=False)
    assert refused.returncode != 0 and "RepositoryNotEmptyException" in refused.stderr
    hoist(["repo", "delete", name, "--force"], environment)
    assert not any(r["name"] == "manage/app" for r in json.loads(
        hoist(["repo", "list", ecr.name, "--json"], environment).stdout))


def test_login_and_docker_credential_helper(ecr, env):
    environment = ecr.env(env, ecr.ci)
    hoist(["login", ecr.name], environment)
    with open(os.path.join(environment["DOCKER_CONFIG"], "config.json")) as f:
        auth = json.load(f)["auths"][ecr.name]["auth"]
    assert base64.b64decode(auth).decode() == f"AWS:{ECR_TOKEN}"

    helper = os.path.join(os.path.dirname(os.environ.get("HOIST_BIN", "")) or ".", "docker-credential-hoist")
    helper = helper if os.path.exists(helper) else os.path.join(
        os.path.dirname(TESTDATA), ".build", "debug", "docker-credential-hoist")
    answer = subprocess.run([helper, "get"], input=f"https://{ecr.name}", capture_output=True, text=True,
                            env=environment, check=True)
    assert json.loads(answer.stdout) == {"ServerURL": f"https://{ecr.name}", "Username": "AWS", "Secret": ECR_TOKEN}
    other = subprocess.run([helper, "get"], input="registry.example.com", capture_output=True, text=True,
                           env=environment)
    assert other.returncode == 1 and "credentials not found" in other.stdout
    assert subprocess.run([helper, "list"], capture_output=True, text=True, env=environment).stdout.strip() == "{}"


def get_login_password(env):
    result = hoist(["ecr", "get-login-password", "--region", REGION], env)
    assert result.stdout.strip() == ECR_TOKEN
    return result


def test_credentials_from_profiles_and_files(ecr, env, tmp_path):
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[ci]\naws_access_key_id = {ecr.ci[0]}\naws_secret_access_key = {ecr.ci[1]}\n")
    config = tmp_path / "config"
    config.write_text(f"[profile role]\nrole_arn = {ecr.role_arn}\nsource_profile = ci\nregion = {REGION}\n")
    base = dict(ecr.env(env), AWS_SHARED_CREDENTIALS_FILE=str(credentials), AWS_CONFIG_FILE=str(config))
    get_login_password(dict(base, AWS_PROFILE="ci"))
    get_login_password(dict(base, AWS_PROFILE="role"))
    # --profile turns off the environment's keys, as in botocore.
    hoist(["ecr", "get-login-password", "--profile", "ci", "--region", REGION],
          dict(base, AWS_ACCESS_KEY_ID="AKIAUNKNOWN0000000000", AWS_SECRET_ACCESS_KEY="x"))


def test_credential_process(ecr, env, tmp_path):
    script = tmp_path / "creds.sh"
    script.write_text("#!/bin/sh\necho '%s'\n" % json.dumps(
        {"Version": 1, "AccessKeyId": ecr.ci[0], "SecretAccessKey": ecr.ci[1]}))
    script.chmod(0o755)
    config = tmp_path / "config"
    config.write_text(f"[default]\ncredential_process = {script}\n")
    get_login_password(dict(ecr.env(env), AWS_CONFIG_FILE=str(config)))


def test_container_credentials(ecr, env):
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            seen.append(self.headers.get("Authorization"))
            body = json.dumps({"AccessKeyId": ecr.ci[0], "SecretAccessKey": ecr.ci[1],
                               "Expiration": "2099-01-01T00:00:00Z"}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        get_login_password(dict(ecr.env(env), AWS_CONTAINER_CREDENTIALS_FULL_URI=(
            f"http://127.0.0.1:{server.server_address[1]}/creds"), AWS_CONTAINER_AUTHORIZATION_TOKEN="pod-token"))
    finally:
        server.shutdown()
    assert seen == ["pod-token"]


def test_web_identity(ecr, env, tmp_path):
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.ci-oidc-token.signature")
    environment = dict(ecr.env(env), AWS_ENDPOINT_URL=ecr.moto_open.url, AWS_WEB_IDENTITY_TOKEN_FILE=str(token),
                       AWS_ROLE_ARN=ecr.role_arn)
    get_login_password(environment)


def test_non_ecr_registries(services, env):
    registry = services.plain.host
    hoist(["push", os.path.join(TESTDATA, "oci-layout"), f"{registry}/catalog/app:1", f"{registry}/catalog/app:2",
           "--plain-http"], env)
    listed = hoist(["repo", "list", registry, "--plain-http"], env).stdout.split()
    assert "catalog/app" in listed
    hoist(["delete", f"{registry}/catalog/app:2", "--plain-http"], env)
    with pytest.raises(urllib.error.HTTPError) as gone:
        registry_manifest(services.plain, "catalog/app", "2")
    assert gone.value.code == 404
    only = hoist(["repo", "create", f"{registry}/catalog/other", "--plain-http"], env, check=False)
    assert only.returncode != 0 and "Amazon ECR registries only" in only.stderr


class JSONEndpoint:
    """A loopback HTTP server answering fixed JSON or text per path, recording the headers it saw."""

    def __init__(self, routes):
        self.seen = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self):
                endpoint.seen.append((self.command, self.path.split("?")[0], dict(self.headers)))
                body = routes.get((self.command, self.path.split("?")[0]))
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = answer

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def test_sso_cached_login(ecr, env, tmp_path):
    import hashlib
    portal = JSONEndpoint({("GET", "/federation/credentials"): {"roleCredentials": {
        "accessKeyId": ecr.ci[0], "secretAccessKey": ecr.ci[1], "sessionToken": None, "expiration": 4102444800000}}})
    home = tmp_path / "home"
    cache = home / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True)
    (cache / (hashlib.sha1(b"corp").hexdigest() + ".json")).write_text(json.dumps(
        {"accessToken": "sso-access-token", "expiresAt": "2099-01-01T00:00:00Z"}))
    config = tmp_path / "config"
    config.write_text("[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Pusher\n"
                      "[sso-session corp]\nsso_region = us-east-1\nsso_start_url = https://corp.awsapps.com/start\n")
    try:
        get_login_password(dict(ecr.env(env), HOME=str(home), AWS_CONFIG_FILE=str(config), AWS_PROFILE="dev",
                                AWS_ENDPOINT_URL_SSO=portal.url))
    finally:
        portal.stop()
    method, path, headers = portal.seen[0]
    assert path == "/federation/credentials"
    assert {k.lower(): v for k, v in headers.items()}["x-amz-sso_bearer_token"] == "sso-access-token"


def test_instance_metadata_v2(ecr, env):
    imds = JSONEndpoint({
        ("PUT", "/latest/api/token"): b"imds-session-token",
        ("GET", "/latest/meta-data/iam/security-credentials/"): b"pusher",
        ("GET", "/latest/meta-data/iam/security-credentials/pusher"): {
            "AccessKeyId": ecr.ci[0], "SecretAccessKey": ecr.ci[1], "Expiration": "2099-01-01T00:00:00Z"},
    })
    try:
        environment = dict(ecr.env(env), AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url)
        del environment["AWS_EC2_METADATA_DISABLED"]
        get_login_password(environment)
    finally:
        imds.stop()
    tokens = [{k.lower(): v for k, v in h.items()}.get("x-aws-ec2-metadata-token") for m, p, h in imds.seen
              if m == "GET"]
    assert tokens == ["imds-session-token", "imds-session-token"]


def test_index_mutate_append_and_sync_on_ecr(ecr, services, env, tmp_path):
    """One CI-style case of each one-liner against ECR's host names, logged in from the AWS chain."""
    environment = ecr.env(env, ecr.ci)
    for name in ("oneliners/app", "mirror/oneliners/tool"):
        ecr.create_repository(name)
    app = f"{ecr.name}/oneliners/app"
    hoist(["push", os.path.join(TESTDATA, "oci-layout"), f"{app}:1.4-amd64", "-q"], environment)
    index = hoist(["index", "create", f"{app}:1.4", f"{app}:1.4-amd64", "+latest", "-q"], environment).stdout
    assert index.startswith(f"{app}:1.4@sha256:") and f"{app}:latest@sha256:" in index
    patched = hoist(["mutate", f"{app}:1.4-amd64", f"{app}:1.4-patched", "--label", "org.opencontainers.image.revision=abc",
                     "-q"], environment).stdout
    assert patched.startswith(f"{app}:1.4-patched@sha256:")
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "run").write_text("run\n")
    appended = hoist(["append", f"{app}:1.4-amd64", f"{app}:1.4-app", "--layer", f"{dist}:/app", "-q"],
                     environment).stdout
    assert appended.startswith(f"{app}:1.4-app@sha256:")
    pulled = pull_from_front(ecr, f"{app}:1.4-app", str(tmp_path / "pulled"))
    assert pulled["diff_ids"] == pulled["config_diff_ids"] and len(pulled["diff_ids"]) >= 2
    source = f"{services.plain.host}/oneliners/tool"
    hoist(["push", os.path.join(TESTDATA, "oci-layout"), f"{source}:1", "--plain-http", "-q"], env)
    listing = tmp_path / "images.yaml"
    listing.write_text(f"{services.plain.host}:\n  tls-verify: false\n  images:\n    oneliners/tool: [\"1\"]\n")
    synced = hoist(["sync", str(listing), "--registry", f"{ecr.name}/mirror", "-q"], environment).stdout
    assert synced.startswith(f"{ecr.name}/mirror/oneliners/tool:1@sha256:")
    # Again: ECR's DescribeImages says what the mirror's tags hold, one call per repository, no HEAD.
    before = len(ecr.front.log)
    again = hoist(["sync", str(listing), "--registry", f"{ecr.name}/mirror", "-q"], environment)
    assert "0 copied, 1 already there, 0 failed" in again.stderr
    assert not [entry for entry in ecr.front.log[before:] if "/manifests/" in entry[1]], "no manifest asked for"
    # From ECR to ECR: both sides' digests from DescribeImages; nothing asked of the registry but the tag list.
    onward = tmp_path / "onward.yaml"
    onward.write_text(f"{ecr.name}:\n  images:\n    mirror/oneliners/tool: []\n")
    hoist(["sync", str(onward), "--registry", f"{ecr.name}/second", "--create-repository", "-q"], environment)
    before = len(ecr.front.log)
    again = hoist(["sync", str(onward), "--registry", f"{ecr.name}/second", "-q"], environment)
    assert "0 copied, 1 already there, 0 failed" in again.stderr
    assert [entry[1].split("?")[0] for entry in ecr.front.log[before:] if entry[1] != "/v2/"] == [
        "/v2/mirror/oneliners/tool/tags/list"]


def test_referrers_travel_to_ecr_and_are_attached_and_listed_there(ecr, services, env, tmp_path):
    """ECR serves the referrers API (the look-alike too): an image carried with --referrers from a registry
    without it (through a layout, as into an air gap) lands its SBOM where ECR indexes it, and hoist attach,
    copy and referrers work with the ECR login."""
    environment = ecr.env(env, ecr.ci)
    ecr.create_repository("signed/app")
    source = f"{services.plain.host}/signed/app"
    digest = hoist(["push", os.path.join(TESTDATA, "oci-layout"), f"{source}:1", "--plain-http", "-q"],
                   env).stdout.strip().split("@")[1]
    sbom = tmp_path / "sbom.spdx.json"
    sbom.write_text('{"spdxVersion":"SPDX-2.3"}')
    on_plain = hoist(["attach", f"{source}:1", str(sbom), "--artifact-type", "application/spdx+json",
                      "--plain-http", "-q"], env).stdout.strip().split("@")[1]
    app = f"{ecr.name}/signed/app"
    hoist(["pull", f"{source}:1", str(tmp_path / "layout"), "--referrers", "--plain-http", "-q"], env)
    hoist(["push", str(tmp_path / "layout"), f"{app}:1", "--referrers", "-q"], environment)
    assert [d["digest"] for d in ecr.front.referrers.listed("signed/app", digest)] == [on_plain]
    signature = tmp_path / "app.sig"
    signature.write_text("signature")
    attached = hoist(["attach", f"{app}:1", str(signature), "--artifact-type", "application/vnd.example.sig",
                      "--annotation", "signer=ci", "-q"], environment).stdout.strip()
    assert attached.startswith(f"{app}@sha256:")
    tree = json.loads(hoist(["referrers", f"{app}:1", "--json"], environment).stdout)
    assert {n["digest"] for n in tree["referrers"]} == {on_plain, attached.split("@")[1]}
    assert {n.get("annotations", {}).get("signer") for n in tree["referrers"]} == {None, "ci"}
    ecr.create_repository("signed/copy")
    hoist(["copy", f"{app}:1", f"{ecr.name}/signed/copy:1", "--referrers", "-q"], environment)
    assert len(ecr.front.referrers.listed("signed/copy", digest)) == 2
