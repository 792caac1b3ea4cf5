"""The corpus of hostile and broken inputs in testdata/hostile: each gets its one-line error, a non-zero exit,
nothing on stdout, and no manifest in the registry."""
import json
import os

import pytest
from conftest import TESTDATA, hoist
from fronts import Front, forward, read_body, reply

CORPUS = os.path.join(TESTDATA, "hostile")
with open(os.path.join(CORPUS, "expected.json")) as f:
    EXPECTED = json.load(f)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_input_is_refused(services, env, name):
    repository = "hostile/" + name.replace(".tar", "").replace("_", "-")
    result = hoist(["push", os.path.join(CORPUS, name), f"{services.plain.host}/{repository}:1", "--plain-http"],
                   env, check=False)
    assert result.returncode != 0
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("hoist: error: ")]
    assert len(errors) == 1 and result.stderr.strip().splitlines()[-1] == errors[0]
    assert EXPECTED[name] in errors[0]
    assert not services.plain.manifest_exists(repository, "1")


def pull_through(front, env, tmp_path, *options):
    """Pulls through a front and checks the failure: one error line, no output left behind."""
    out = tmp_path / "out"
    result = hoist(["pull", f"{front.host}/hostile/served:1", str(out), "-q", *options], env, check=False)
    front.stop()
    assert result.returncode != 0 and result.stdout == ""
    assert not out.exists() and not (tmp_path / "out.hoist-partial").exists()
    return result.stderr.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def served(services):
    hoist(["push", os.path.join(TESTDATA, "oci-layout"), f"{services.plain.host}/hostile/served:1", "--plain-http"],
          dict(os.environ))
    return services.plain.port


def test_redirect_loop_is_cut_off(served, env, tmp_path):
    def script(request):
        read_body(request)
        if "/blobs/sha256:" in request.path:
            return reply(request, 302, [("Location", request.path)], b"")
        status, headers, payload = forward(served, request)
        reply(request, status, headers, payload)

    error = pull_through(Front(script), env, tmp_path, "--plain-http")
    assert "too many redirects" in error


def test_redirect_from_https_to_http_is_refused(services, served, env, tmp_path):
    def script(request):
        read_body(request)
        if "/blobs/sha256:" in request.path:
            return reply(request, 307, [("Location", f"http://127.0.0.1:{served}{request.path}")], b"")
        status, headers, payload = forward(served, request)
        reply(request, status, headers, payload)

    front = Front(script, tls=(services.ca_cert, services.ca_key))
    error = pull_through(front, env, tmp_path, "--ca-file", services.ca_cert)
    assert "refused a redirect from HTTPS to plain HTTP" in error


def test_credentials_never_go_to_a_plain_http_token_service(services, env, tmp_path):
    asked = []

    def script(request):
        read_body(request)
        asked.append(request.path)
        reply(request, 401, [("WWW-Authenticate", 'Bearer realm="http://token.hoist.invalid/token",service="x"')],
              b"")

    front = Front(script, tls=(services.ca_cert, services.ca_key))
    out = tmp_path / "out"
    result = hoist(["pull", f"{front.host}/hostile/served:1", str(out), "--ca-file", services.ca_cert,
                    "--username", "someone", "--password-stdin"], env, check=False, input="secret\n")
    front.stop()
    assert result.returncode != 0 and not out.exists()
    error = result.stderr.strip().splitlines()[-1]
    assert "refusing to send credentials over plain HTTP to the token service at token.hoist.invalid" in error
    assert "secret" not in result.stderr
