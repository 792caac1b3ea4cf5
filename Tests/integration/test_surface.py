"""hoist's whole input surface, attacked: bad values of flags, environment variables and config files, and
hostile answers from a registry, a token service, AWS and credential helpers. Every case must end with one
`hoist: error:` line, a documented exit status, nothing on stdout, nothing at the destination, and in time:
no trap, no hang, no stack trace."""
import json
import os
import stat
import subprocess
import time

import pytest
from conftest import HOIST, TESTDATA
from fronts import Front, read_body, reply

DOCUMENTED = {1, 3, 64, 66, 77}
LEGACY = os.path.join(TESTDATA, "docker-legacy.tar")
ECR_HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
TRAPS = ("Fatal error", "Stack dump", "Current stack trace", "Illegal instruction", "Segmentation fault", "Trace/")


def run(args, env, seconds=30, stdin=None):
    started = time.monotonic()
    try:
        result = subprocess.run([HOIST] + args, env=env, capture_output=True, text=True, timeout=seconds,
                                input=stdin if stdin is not None else "")
    except subprocess.TimeoutExpired:
        pytest.fail(f"hoist {' '.join(args)} hung for {seconds} s")
    return result, time.monotonic() - started


def assert_refused(result, expected=None, status=None):
    """One error line, last on stderr, a documented status, no trap, nothing on stdout."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode in DOCUMENTED, f"exit {result.returncode}: {result.stderr[-2000:]}"
    assert status is None or result.returncode == status, f"exit {result.returncode}: {result.stderr}"
    assert lines and lines[-1].startswith("hoist: error: "), result.stderr[-2000:]
    assert sum(1 for line in lines if line.startswith("hoist: error: ")) == 1, result.stderr
    assert not any(trap in result.stderr for trap in TRAPS), result.stderr
    assert result.stdout == ""
    if expected:
        assert expected in lines[-1], lines[-1]
    return lines[-1]


@pytest.fixture
def quiet_env(env):
    """An environment without AWS settings from the machine, so each case sets only its own."""
    environment = {k: v for k, v in env.items() if not k.startswith("AWS_")}
    environment.update({"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/nonexistent",
                        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"})
    return environment


FLAG_CASES = [
    (["push", LEGACY, "localhost:1/x", "--chunk-size", "99999999999999999G"], "--chunk-size"),
    (["push", LEGACY, "localhost:1/x", "--chunk-size", "18446744073709551615"], "--chunk-size"),
    (["push", LEGACY, "localhost:1/x", "--chunk-size", "1e3"], "--chunk-size"),
    (["push", LEGACY, "localhost:1/x", "--soci", "--soci-span-size", "9007199254740993k"], "--soci-span-size"),
    (["pull", "localhost:1/x:1", "out", "--max-file-size", "99999999999999999999"], "--max-file-size"),
    (["push", LEGACY, "localhost:1/x", "--concurrency", "-1"], "concurrency"),
    (["push", LEGACY, "localhost:1/x", "--concurrency", "0"], "concurrency"),
    (["push", LEGACY, "localhost:1/x", "--jobs", "-3"], "jobs"),
    (["push", LEGACY, "localhost:1/x", "--retries", "-1"], "retries"),
    (["push", LEGACY, "localhost:1/x", "--compression-level", "99"], "compression"),
    (["push", LEGACY, "localhost:1/x", "--compression", "lzma"], "--compression"),
    (["push", LEGACY, "localhost:1/x", "--max-requests-per-second", "nan"], "requests"),
    (["push", LEGACY, "localhost:1/x", "--bogus"], "--bogus"),
    (["push"], "<source>"),
    (["scan", f"{ECR_HOST}/x:1", "--top=-1"], "--top"),
    (["scan", f"{ECR_HOST}/x:1", "--timeout", "inf"], "--timeout"),
    (["scan", f"{ECR_HOST}/x:1", "--timeout", "1e308h"], "--timeout"),
    (["scan", f"{ECR_HOST}/x:1", "--timeout", "nan"], "--timeout"),
    (["sync", "nothing.yaml", "--registry", "localhost:1/m", "--shard", "5/2"], "shard"),
    (["sync", "nothing.yaml", "--registry", "localhost:1/m", "--min-remaining", "-1"], "--min-remaining"),
    (["sync", "nothing.yaml", "--registry", "localhost:1/m", "--min-remaining", "99999999999"], "--min-remaining"),
    (["sync", "nothing.yaml", "--registry", "localhost:1/m", "--min-remaining-action", "wait"],
     "--min-remaining-action"),
    (["ratelimit", "localhost:1/UPPER:1"], None),
    (["pull", "localhost:1/UPPER:1", "out"], None),
    (["pull", "localhost:1/x:" + "t" * 200, "out"], None),
    (["nosuchcommand"], None),
]


@pytest.mark.parametrize("args,expected", FLAG_CASES, ids=[" ".join(c[0][:1] + c[0][-2:]) for c in FLAG_CASES])
def test_a_bad_flag_is_a_usage_error(quiet_env, tmp_path, args, expected):
    result, _ = run([str(tmp_path / a) if a == "out" else a for a in args], quiet_env)
    assert_refused(result, expected, status=64)


ENV_CASES = [
    ({"HOIST_PROGRESS_INTERVAL": "1e400"}, "HOIST_PROGRESS_INTERVAL"),
    ({"HOIST_PROGRESS_INTERVAL": "nan"}, "HOIST_PROGRESS_INTERVAL"),
    ({"HOIST_PROGRESS_INTERVAL": "-1"}, "HOIST_PROGRESS_INTERVAL"),
    ({"HOIST_REGISTRY": "bad host/x"}, None),
]


@pytest.mark.parametrize("variables,expected", ENV_CASES, ids=[json.dumps(c[0]) for c in ENV_CASES])
def test_a_bad_hoist_variable_is_a_usage_error(quiet_env, variables, expected):
    args = ["push", LEGACY] + ([] if "HOIST_REGISTRY" in variables else ["localhost:1/x"])
    result, _ = run(args, {**quiet_env, **variables})
    assert_refused(result, expected, status=64)


AWS_CASES = [
    ({"AWS_REGION": "us east-1"}, [], "AWS_REGION"),
    ({"AWS_REGION": "us-east-1\n"}, [], "AWS_REGION"),
    ({"AWS_DEFAULT_REGION": "eu-west-1\u0000"}, [], None),
    ({}, ["--region", "a/b"], "--region"),
    ({"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_ECR": "http://a b"}, [], "AWS_ENDPOINT_URL_ECR"),
    ({"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "ftp://example"}, [], "AWS_ENDPOINT_URL"),
    ({"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://"}, [], "AWS_ENDPOINT_URL"),
]


@pytest.mark.parametrize("variables,flags,expected", AWS_CASES, ids=[str(i) for i in range(len(AWS_CASES))])
def test_a_bad_aws_setting_is_refused_before_any_request(quiet_env, variables, flags, expected):
    environment = {**quiet_env, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}
    environment.update({k: v for k, v in variables.items() if "\u0000" not in v})
    if any("\u0000" in v for v in variables.values()):
        pytest.skip("an environment cannot hold a NUL")
    result, _ = run(["ecr", "get-login-password", *flags], environment)
    assert_refused(result, expected, status=64)


def write_aws_config(tmp_path, text):
    path = tmp_path / "aws-config"
    path.write_text(text)
    return str(path)


def executable(tmp_path, name, text):
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_sso_region_and_container_uri_with_spaces_are_refused(quiet_env, tmp_path):
    sso = write_aws_config(tmp_path, "[profile s]\nsso_account_id = 1\nsso_role_name = r\n"
                                     "sso_start_url = https://x\nsso_region = us east-1\nregion = us-east-1\n")
    home = tmp_path / "home" / ".aws" / "sso" / "cache"
    home.mkdir(parents=True)
    import hashlib
    (home / (hashlib.sha1(b"https://x").hexdigest() + ".json")).write_text(
        json.dumps({"accessToken": "t", "expiresAt": "2999-01-01T00:00:00Z"}))
    result, _ = run(["ecr", "get-login-password", "--profile", "s"],
                    {**quiet_env, "AWS_CONFIG_FILE": sso, "HOME": str(tmp_path / "home")})
    assert_refused(result, "sso_region", status=64)

    result, _ = run(["ecr", "get-login-password", "--region", "us-east-1"],
                    {**quiet_env, "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://a b/creds"})
    assert_refused(result, "AWS_CONTAINER_CREDENTIALS_FULL_URI", status=64)


def test_a_credential_process_that_never_ends_is_stopped(quiet_env, tmp_path):
    config = write_aws_config(tmp_path, "[default]\nregion = us-east-1\ncredential_process = sleep 600\n")
    result, took = run(["ecr", "get-login-password"],
                       {**quiet_env, "AWS_CONFIG_FILE": config, "HOIST_HELPER_TIMEOUT": "2"})
    assert_refused(result, "did not finish within 2 s")
    assert took < 15

    grandchild = executable(tmp_path, "forks", "sleep 600 2>/dev/null &\necho '{\"Version\": 1}'\n")
    config = write_aws_config(tmp_path, f"[default]\nregion = us-east-1\ncredential_process = {grandchild}\n")
    result, took = run(["ecr", "get-login-password"],
                       {**quiet_env, "AWS_CONFIG_FILE": config, "HOIST_HELPER_TIMEOUT": "20"})
    assert_refused(result, "not credential JSON")
    assert took < 15

    result, _ = run(["ecr", "get-login-password"],
                    {**quiet_env, "AWS_CONFIG_FILE": config, "HOIST_HELPER_TIMEOUT": "forever"})
    assert_refused(result, "HOIST_HELPER_TIMEOUT", status=64)


def docker_config(env, config):
    os.makedirs(env["DOCKER_CONFIG"], exist_ok=True)
    with open(os.path.join(env["DOCKER_CONFIG"], "config.json"), "w") as f:
        f.write(config if isinstance(config, str) else json.dumps(config))


def test_docker_credential_helpers_that_are_missing_hang_or_lie(services, quiet_env, tmp_path):
    host = services.basic.host
    docker_config(quiet_env, {"credHelpers": {host: "hoist-no-such-helper"}})
    result, _ = run(["tags", f"{host}/x", "--plain-http"], quiet_env)
    assert_refused(result, "not installed", status=77)

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    executable(bin_dir, "docker-credential-stuck", "sleep 600\n")
    executable(bin_dir, "docker-credential-babble", "head -c 3000000 /dev/zero | tr '\\0' x\n")
    path = {**quiet_env, "PATH": f"{bin_dir}:{quiet_env['PATH']}", "HOIST_HELPER_TIMEOUT": "2"}
    docker_config(quiet_env, {"credHelpers": {host: "stuck"}})
    result, took = run(["tags", f"{host}/x", "--plain-http"], path)
    assert_refused(result, "did not finish within 2 s", status=77)
    assert took < 15
    docker_config(quiet_env, {"credHelpers": {host: "babble"}})
    result, _ = run(["tags", f"{host}/x", "--plain-http"], path)
    assert_refused(result, "more than", status=77)
    docker_config(quiet_env, {"credHelpers": {host: "../../bin/sh"}})
    result, _ = run(["tags", f"{host}/x", "--plain-http"], path)
    assert_refused(result, "not a helper's name", status=77)


@pytest.mark.parametrize("config", ["{not json", "[]", '"auths"'])
def test_a_docker_config_that_is_not_one_is_named(services, quiet_env, config):
    docker_config(quiet_env, config)
    result, _ = run(["tags", f"{services.basic.host}/x", "--plain-http"], quiet_env)
    assert_refused(result, "config.json")


def test_null_members_of_a_docker_config_read_as_empty(services, quiet_env):
    docker_config(quiet_env, '{"auths": null, "credHelpers": null, "credsStore": null, "proxies": null}')
    result, _ = run(["tags", f"{services.plain.host}/none", "--plain-http"], quiet_env)
    assert result.returncode == 66, result.stderr


def hostile_registry(answer):
    """A registry front that answers /v2/ with 200 and everything else with `answer(request)`."""
    def script(request):
        read_body(request)
        if request.path == "/v2/":
            return reply(request, 200, [], b"")
        status, headers, body = answer(request)
        reply(request, status, headers, body)
    return Front(script)


@pytest.mark.parametrize("retry_after", ["nan", "inf", "-5", "1e400", "Thu, 01 Jan 1970"])
def test_a_hostile_retry_after_is_ignored_not_obeyed(quiet_env, retry_after):
    front = hostile_registry(lambda r: (429, [("Retry-After", retry_after)], b'{"errors":[{"code":"TOOMANYREQUESTS"}]}'))
    try:
        result, took = run(["tags", f"{front.host}/x", "--plain-http", "--retries", "2"], quiet_env, seconds=60)
    finally:
        front.stop()
    assert_refused(result, "429")


def test_a_tag_list_whose_next_page_points_back_stops(quiet_env):
    asked = []

    def answer(request):
        asked.append(request.path)
        return 200, [("Content-Type", "application/json"), ("Link", f'<{request.path}>; rel="next"')], \
            b'{"name":"x","tags":[]}'
    front = hostile_registry(answer)
    try:
        result, _ = run(["tags", f"{front.host}/x", "--plain-http"], quiet_env)
    finally:
        front.stop()
    assert_refused(result, "repeats one already read")
    assert len(asked) <= 2


@pytest.mark.parametrize("challenge", [
    'Bearer realm="http://a b/token",service="x"',
    'Bearer realm="ftp://example/token"',
    'Bearer service="x"',
    'Bearer realm="http://127.0.0.1:1/token",scope="' + "a" * 100000 + '"',
])
def test_a_hostile_challenge_is_refused(quiet_env, challenge):
    def script(request):
        read_body(request)
        reply(request, 401, [("WWW-Authenticate", challenge)], b"")
    front = Front(script)
    try:
        result, _ = run(["tags", f"{front.host}/x", "--plain-http"], quiet_env)
    finally:
        front.stop()
    assert_refused(result)


@pytest.mark.parametrize("token", [b"not json", b'{"token": 5}', b'{"token": "t", "expires_in": 1e400}',
                                   b'{"token": "t", "expires_in": -1}', b'{"token": "t\\r\\nX-Evil: 1"}',
                                   b'{"token": null, "access_token": null}'])
def test_a_hostile_token_answer_is_refused(quiet_env, token):
    def script(request):
        read_body(request)
        if request.path.startswith("/token"):
            return reply(request, 200, [("Content-Type", "application/json")], token)
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return reply(request, 403, [], b'{"errors":[{"code":"DENIED"}]}')
        reply(request, 401, [("WWW-Authenticate", f'Bearer realm="http://{front.host}/token",service="x"')], b"")
    front = Front(script)
    try:
        result, _ = run(["tags", f"{front.host}/x", "--plain-http", "--retries", "1"], quiet_env)
    finally:
        front.stop()
    assert_refused(result)


@pytest.mark.parametrize("answer", [
    b"not json",
    b'{"authorizationData": null}',
    b'{"authorizationData": [{"authorizationToken": "%%%", "expiresAt": 1}]}',
    b'{"authorizationData": [{"authorizationToken": "QVdTOng=", "expiresAt": 1e400}]}',
    b'{"authorizationData": [{"authorizationToken": "QVdTOng=", "expiresAt": "soon"}]}',
    b'{"authorizationData": [{"authorizationToken": "bm9jb2xvbg==", "expiresAt": 1}]}',
])
def test_a_hostile_ecr_answer_is_refused(quiet_env, answer):
    def script(request):
        read_body(request)
        reply(request, 200, [("Content-Type", "application/x-amz-json-1.1")], answer)
    front = Front(script)
    environment = {**quiet_env, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
                   "AWS_ENDPOINT_URL_ECR": f"http://{front.host}", "AWS_REGION": "us-east-1"}
    try:
        result, _ = run(["ecr", "get-login-password", "--no-cache"], environment)
    finally:
        front.stop()
    if result.returncode == 0:
        assert result.stdout.strip() and "\n" not in result.stdout.strip()
        return
    assert_refused(result)


def test_an_archive_whose_index_lists_null_pushes_from_a_file_and_stdin(services, env, tmp_path):
    from test_bad_input import rewrite_tar

    def null_manifests(name, data):
        if name == "index.json":
            index = json.loads(data)
            index["manifests"] = None
            return json.dumps(index).encode()
        return data
    archive = tmp_path / "null-manifests.tar"
    rewrite_tar(os.path.join(TESTDATA, "docker-25.tar"), str(archive), null_manifests)
    for source, stdin in ((str(archive), None), ("-", archive.read_bytes().decode("latin-1"))):
        destination = f"{services.plain.host}/surface/null-manifests:{'stdin' if stdin else 'file'}"
        args = [HOIST, "push", source, destination, "--plain-http", "-q"]
        result = subprocess.run(args, env=env, capture_output=True, timeout=120,
                                input=archive.read_bytes() if stdin else b"")
        assert result.returncode == 0, result.stderr.decode()
        assert result.stdout.decode().startswith(destination + "@sha256:")


def push_raw(host, repository, tag, config, layer):
    """An image put into the registry request by request, whatever its bytes are: no tool checks them."""
    import hashlib
    import urllib.request

    def upload(data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        start = urllib.request.Request(f"http://{host}/v2/{repository}/blobs/uploads/", method="POST", data=b"")
        with urllib.request.urlopen(start) as response:
            location = response.headers["Location"]
        separator = "&" if "?" in location else "?"
        put = urllib.request.Request(f"{location}{separator}digest={digest}", method="PUT", data=data,
                                     headers={"Content-Type": "application/octet-stream"})
        urllib.request.urlopen(put).close()
        return {"mediaType": "", "digest": digest, "size": len(data)}
    config_descriptor = {**upload(config), "mediaType": "application/vnd.oci.image.config.v1+json"}
    layer_descriptor = {**upload(layer), "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip"}
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": config_descriptor, "layers": [layer_descriptor]}).encode()
    put = urllib.request.Request(f"http://{host}/v2/{repository}/manifests/{tag}", method="PUT", data=manifest,
                                 headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    urllib.request.urlopen(put).close()


@pytest.mark.parametrize("name", ["out.tar", "out-layout"])
def test_an_image_whose_config_is_not_json_is_refused_on_pull(services, env, tmp_path, name):
    import gzip
    import io
    import tarfile
    plain = io.BytesIO()
    with tarfile.open(fileobj=plain, mode="w") as tar:
        tar.addfile(tarfile.TarInfo("empty"), io.BytesIO(b""))
    push_raw(services.plain.host, "surface/config-not-json", "1", b"\x00\x01 not json", gzip.compress(plain.getvalue()))
    out = tmp_path / name
    result, _ = run(["pull", f"{services.plain.host}/surface/config-not-json:1", str(out), "--plain-http", "-q"], env)
    assert_refused(result, "not a JSON object")
    assert not out.exists()
