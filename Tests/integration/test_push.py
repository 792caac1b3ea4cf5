"""hoist push against real distribution registries, judged by skopeo."""
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest
from conftest import (PASSWORD, TESTDATA, USER, fixture_image, hoist, registry_manifest, skopeo_pull)

VARIANTS = {
    # fixture: manifest media type expected in the registry
    "docker-legacy.tar": "application/vnd.docker.distribution.manifest.v2+json",
    "docker-legacy.tar.gz": "application/vnd.docker.distribution.manifest.v2+json",
    "docker-25.tar": "application/vnd.docker.distribution.manifest.v2+json",
    "containerd.tar": "application/vnd.oci.image.manifest.v1+json",
    "skopeo.tar": "application/vnd.docker.distribution.manifest.v2+json",
    "oci-layout": "application/vnd.oci.image.manifest.v1+json",
    "oci-layout.tar": "application/vnd.oci.image.manifest.v1+json",
}


def result_lines(result):
    return result.stdout.splitlines()


@pytest.mark.parametrize("fixture", sorted(VARIANTS))
def test_every_source_variant_pushes_and_skopeo_reads_it_back(services, env, tmp_path, fixture):
    repository = "variants/" + re.sub(r"[^a-z0-9]+", "-", fixture)
    destination = f"{services.plain.host}/{repository}:1.0"
    result = hoist(["push", os.path.join(TESTDATA, fixture), destination, "--plain-http"], env)

    lines = result_lines(result)
    assert len(lines) == 1
    assert re.fullmatch(re.escape(destination) + r"@sha256:[0-9a-f]{64}", lines[0])
    _, content_type, served_digest = registry_manifest(services.plain, repository, "1.0")
    assert content_type == VARIANTS[fixture]
    assert lines[0].endswith(served_digest)

    pulled = skopeo_pull(destination, str(tmp_path / "pulled"))
    expected = fixture_image()
    assert pulled["config"] == expected["config"]
    assert pulled["diff_ids"] == expected["config_diff_ids"] == pulled["config_diff_ids"]


def test_containerd_archive_skips_absent_platforms_and_keeps_digests(services, env):
    result = hoist(["push", os.path.join(TESTDATA, "containerd.tar"), f"{services.plain.host}/ctr/app:1", "--plain-http"], env)
    assert "skipped 1 index entries" in result.stderr and "linux/arm64/v8" in result.stderr
    layout = hoist(["push", os.path.join(TESTDATA, "oci-layout"), f"{services.plain.host}/ctr/app:2", "--plain-http"], env)
    assert result.stdout.split("@")[1] == layout.stdout.split("@")[1]


def test_several_destinations_get_the_image_compressed_once(services, env):
    registry = services.plain.host
    destinations = [f"{registry}/multi/a:1", f"{registry}/multi/a:latest", f"{registry}/multi/b:1"]
    result = hoist(["push", os.path.join(TESTDATA, "docker-legacy.tar")] + destinations + ["--plain-http"], env)
    lines = result_lines(result)
    assert [line.split("@")[0] for line in lines] == destinations
    assert len({line.split("@")[1] for line in lines}) == 1
    assert result.stderr.count("compressing") == 3
    for repository, tag in [("multi/a", "1"), ("multi/a", "latest"), ("multi/b", "1")]:
        assert services.plain.manifest_exists(repository, tag)


def test_push_is_deterministic_and_a_second_push_sends_no_layer_bytes(services, env, tmp_path):
    registry = services.plain
    source = os.path.join(TESTDATA, "docker-legacy.tar")
    first = hoist(["push", source, f"{registry.host}/again/app:1", "--plain-http"], env)
    uploads = registry.count_requests("PUT", "/v2/again/app/blobs/uploads/")
    assert uploads >= 3

    # Same machine: the blob-info cache knows the compressed digests.
    second = hoist(["push", source, f"{registry.host}/again/app:2", "--plain-http"], env)
    # A fresh machine (no cache): the tag's current manifest tells which blobs are there.
    fresh = dict(env, XDG_CACHE_HOME=str(tmp_path / "fresh-cache"))
    third = hoist(["push", source, f"{registry.host}/again/app:1", "--plain-http"], fresh)

    assert registry.count_requests("PUT", "/v2/again/app/blobs/uploads/") == uploads
    assert first.stdout.split("@")[1] == second.stdout.split("@")[1] == third.stdout.split("@")[1]
    assert "compressing" not in second.stderr + third.stderr


def test_digest_file_and_quiet(services, env, tmp_path):
    digest_file = tmp_path / "digest"
    result = hoist(["push", os.path.join(TESTDATA, "oci-layout"), f"{services.plain.host}/digestfile/app",
                    "--plain-http", "--digest-file", str(digest_file), "--quiet"], env)
    assert result.stderr == ""
    assert result.stdout.strip().endswith("@" + digest_file.read_text().strip())
    assert result.stdout.startswith(f"{services.plain.host}/digestfile/app@sha256:")
    assert services.plain.manifest_exists("digestfile/app", "latest")


@pytest.mark.parametrize("fixture,fmt,media", [
    ("docker-legacy.tar", "oci", "application/vnd.oci.image.manifest.v1+json"),
    ("oci-layout", "docker", "application/vnd.docker.distribution.manifest.v2+json"),
])
def test_format_conversion(services, env, tmp_path, fixture, fmt, media):
    destination = f"{services.plain.host}/format/{fmt}:1"
    hoist(["push", os.path.join(TESTDATA, fixture), destination, "--plain-http", "--format", fmt], env)
    manifest, content_type, _ = registry_manifest(services.plain, f"format/{fmt}", "1")
    assert content_type == media == json.loads(manifest)["mediaType"]
    pulled = skopeo_pull(destination, str(tmp_path / "pulled"))
    assert pulled["diff_ids"] == fixture_image()["config_diff_ids"]


def test_multi_image_archive_needs_image(services, env):
    source = os.path.join(TESTDATA, "two-images.tar")
    failed = hoist(["push", source, f"{services.plain.host}/two/x:1", "--plain-http"], env, check=False)
    assert failed.returncode != 0
    assert "example.com/hoist/app:1.0" in failed.stderr and "example.com/hoist/tools:2.0" in failed.stderr
    assert failed.stdout == ""
    hoist(["push", source, f"{services.plain.host}/two/tools:2", "--plain-http", "--image", "example.com/hoist/tools:2.0"],
          env)
    assert services.plain.manifest_exists("two/tools", "2")
    missing = hoist(["push", source, f"{services.plain.host}/two/x:1", "--plain-http", "--image", "nope:1"], env,
                    check=False)
    assert missing.returncode != 0 and "has no image nope:1" in missing.stderr


def test_large_layer_goes_up_in_chunks(services, env, tmp_path):
    subprocess.run([os.path.join(os.path.dirname(TESTDATA), "scripts", "make-fixtures"), "--big", "12", str(tmp_path)],
                   check=True)
    # A layer being compressed goes up in one streamed PATCH (a small one whole in its final PUT); one whose
    # size is known, in chunks.
    destination = f"{services.plain.host}/chunks/big:1"
    hoist(["push", str(tmp_path / "big.tar"), destination, "--plain-http", "--chunk-size", "5MiB"], env)
    assert services.plain.count_requests("PATCH", "/v2/chunks/big/") == 1
    hoist(["copy", f"docker-archive:{tmp_path / 'big.tar'}", f"oci:{tmp_path / 'layout'}:big", "-q"], env)
    # --no-cache: the blob-info cache knows chunks/big holds these blobs, and would mount them.
    hoist(["push", str(tmp_path / "layout"), f"{services.plain.host}/chunks/layout:1", "--plain-http",
           "--chunk-size", "5MiB", "--no-cache"], env)
    assert services.plain.count_requests("PATCH", "/v2/chunks/layout/") >= 3  # 12 MiB in 5 MiB chunks
    pulled = skopeo_pull(destination, str(tmp_path / "pulled"))
    assert pulled["diff_ids"] == pulled["config_diff_ids"]


def test_basic_auth_with_password_stdin_and_login(services, env):
    registry = services.basic
    source = os.path.join(TESTDATA, "oci-layout")
    anonymous = hoist(["push", source, f"{registry.host}/auth/app:1", "--plain-http"], env, check=False)
    assert anonymous.returncode != 0 and "hoist login" in anonymous.stderr

    wrong = hoist(["push", source, f"{registry.host}/auth/app:1", "--plain-http", "--username", USER,
                   "--password-stdin"], env, input="wrong\n", check=False)
    assert wrong.returncode != 0
    assert "refused" in wrong.stderr and len(wrong.stderr.strip().splitlines()) == 1
    assert "wrong" not in wrong.stderr
    assert not registry.manifest_exists("auth/app", "1")

    hoist(["push", source, f"{registry.host}/auth/app:1", "--plain-http", "--username", USER, "--password-stdin"],
          env, input=PASSWORD + "\n")
    assert registry.manifest_exists("auth/app", "1")

    bad_login = hoist(["login", registry.host, "--plain-http", "--username", USER, "--password-stdin"], env,
                      input="nope\n", check=False)
    assert bad_login.returncode != 0
    assert not os.path.exists(os.path.join(env["DOCKER_CONFIG"], "config.json"))
    hoist(["login", registry.host, "--plain-http", "--username", USER, "--password-stdin"], env, input=PASSWORD)
    config_path = os.path.join(env["DOCKER_CONFIG"], "config.json")
    assert oct(os.stat(config_path).st_mode & 0o777) == "0o600"
    assert registry.host in json.load(open(config_path))["auths"]
    hoist(["push", source, f"{registry.host}/auth/app:2", "--plain-http"], env)
    assert registry.manifest_exists("auth/app", "2")
    hoist(["logout", registry.host], env)
    assert registry.host not in json.load(open(config_path))["auths"]


def test_credential_helper_from_docker_config(services, env, tmp_path):
    helper_dir = tmp_path / "bin"
    helper_dir.mkdir()
    helper = helper_dir / "docker-credential-hoisttest"
    helper.write_text(f"""#!/bin/sh
read host
echo '{{"ServerURL":"'$host'","Username":"{USER}","Secret":"{PASSWORD}"}}'
""")
    helper.chmod(0o755)
    os.makedirs(env["DOCKER_CONFIG"])
    with open(os.path.join(env["DOCKER_CONFIG"], "config.json"), "w") as f:
        json.dump({"credHelpers": {services.basic.host: "hoisttest"}}, f)
    env = dict(env, PATH=f"{helper_dir}:{env['PATH']}")
    hoist(["push", os.path.join(TESTDATA, "oci-layout"), f"{services.basic.host}/helper/app:1", "--plain-http"], env)
    assert services.basic.manifest_exists("helper/app", "1")


def test_bearer_token_auth(services, env, tmp_path):
    registry = services.bearer
    destination = f"{registry.host}/bearer/app:1"
    hoist(["push", os.path.join(TESTDATA, "docker-legacy.tar"), destination, "--plain-http", "--username", USER,
           "--password-stdin"], env, input=PASSWORD)
    assert registry.manifest_exists("bearer/app", "1")
    scopes = [scope for query in services.token.requests for scope in query.get("scope", [])]
    assert "repository:bearer/app:pull,push" in scopes
    pulled = skopeo_pull(destination, str(tmp_path / "pulled"), creds=f"{USER}:{PASSWORD}")
    assert pulled["config"] == fixture_image()["config"]


def test_tls_is_verified_unless_told(services, env):
    registry = services.tls
    source = os.path.join(TESTDATA, "oci-layout")
    untrusted = hoist(["push", source, f"{registry.host}/tls/app:1"], env, check=False)
    assert untrusted.returncode != 0 and "not trusted" in untrusted.stderr
    assert not registry.manifest_exists("tls/app", "1")

    hoist(["push", source, f"{registry.host}/tls/app:1", "--ca-file", services.ca_cert], env)
    hoist(["push", source, f"{registry.host}/tls/app:2"], dict(env, SSL_CERT_FILE=services.ca_cert))
    hoist(["push", source, f"{registry.host}/tls/app:3", "--insecure"], env)
    for tag in "123":
        assert registry.manifest_exists("tls/app", tag)
    bad_ca = hoist(["push", source, f"{registry.host}/tls/app:4", "--ca-file", source + "/index.json"], env,
                   check=False)
    assert bad_ca.returncode != 0 and "--ca-file" in bad_ca.stderr


def uploads(registry):
    """The upload requests that carry bytes (PATCH, and the PUT that ends a session) in the registry's log."""
    return registry.count_requests("PATCH", "/blobs/uploads/") + registry.count_requests("PUT", "/blobs/uploads/")


def test_a_second_repository_mounts_what_the_first_holds(services, env, tmp_path):
    registry = services.plain
    source = os.path.join(TESTDATA, "oci-layout")
    first = hoist(["push", source, f"{registry.host}/mounts/a:1", "--plain-http"], env)
    before = uploads(registry)
    second = hoist(["push", source, f"{registry.host}/mounts/b:1", "--plain-http", "--progress", "plain"], env)
    assert uploads(registry) == before, "no blob was sent again"
    assert registry.count_requests("POST", "mount=") >= 2
    assert "mounted" in second.stderr
    assert second.stdout.split("@")[1] == first.stdout.split("@")[1]
    pulled = skopeo_pull(f"{registry.host}/mounts/b:1", str(tmp_path / "b"))
    assert pulled["config"] == fixture_image()["config"]
    assert pulled["diff_ids"] == fixture_image()["diff_ids"]


def test_a_refused_mount_falls_back_to_an_upload(services, env):
    registry = services.plain
    source = os.path.join(TESTDATA, "oci-layout")
    hoist(["push", source, f"{registry.host}/mounts/gone:1", "--plain-http"], env)
    layers = os.path.join(registry.dir, "data", "docker", "registry", "v2", "repositories", "mounts", "gone", "_layers")
    shutil.rmtree(layers)
    before = uploads(registry)
    hoist(["push", source, f"{registry.host}/mounts/after-gone:1", "--plain-http"], env)
    assert uploads(registry) > before, "the blobs were sent after the mounts were refused"
    assert registry.manifest_exists("mounts/after-gone", "1")


def test_a_pull_teaches_where_blobs_are_so_a_push_mounts(services, env, tmp_path):
    registry = services.plain
    hoist(["push", os.path.join(TESTDATA, "docker-legacy.tar"), f"{registry.host}/mounts/pulled:1", "--plain-http",
           "--no-cache"], env)
    hoist(["pull", f"{registry.host}/mounts/pulled:1", str(tmp_path / "layout"), "--plain-http"], env)
    before = uploads(registry)
    hoist(["push", str(tmp_path / "layout"), f"{registry.host}/mounts/pushed:1", "--plain-http"], env)
    assert uploads(registry) == before
    assert registry.manifest_exists("mounts/pushed", "1")


def test_no_cache_mounts_nothing_it_did_not_see_in_this_run(services, env):
    registry = services.plain
    source = os.path.join(TESTDATA, "oci-layout")
    hoist(["push", source, f"{registry.host}/mounts/nc-a:1", "--plain-http"], env)
    before = uploads(registry)
    hoist(["push", source, f"{registry.host}/mounts/nc-b:1", "--plain-http", "--no-cache"], env)
    assert uploads(registry) > before


def test_zstd_layers_push_as_an_oci_image_that_skopeo_and_podman_read(services, env, tmp_path):
    registry = services.plain
    source = os.path.join(TESTDATA, "docker-legacy.tar")
    out = hoist(["push", source, f"{registry.host}/zstd/app:1", "--compression", "zstd", "--plain-http"], env)
    again = hoist(["push", source, f"{registry.host}/zstd/app:2", "--compression", "zstd", "--plain-http", "-q"], env)
    assert out.stdout.split("@")[1] == again.stdout.split("@")[1]  # deterministic, and found in the cache
    gzip = hoist(["push", source, f"{registry.host}/zstd/app:gzip", "--plain-http", "-q"], env)
    assert gzip.stdout.split("@")[1] != out.stdout.split("@")[1]  # the cache keys on the compression
    pulled = skopeo_pull(f"{registry.host}/zstd/app:1", str(tmp_path / "pulled"))
    manifest = pulled["manifest"]
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert {layer["mediaType"] for layer in manifest["layers"]} == {"application/vnd.oci.image.layer.v1.tar+zstd"}
    for layer in manifest["layers"]:
        with open(tmp_path / "pulled" / layer["digest"].split(":")[1], "rb") as f:
            data = f.read()
        plain = subprocess.run(["zstd", "-dc"], input=data, capture_output=True, check=True).stdout
        assert "sha256:" + hashlib.sha256(plain).hexdigest() in pulled["config_diff_ids"]
    storage = tempfile.mkdtemp(prefix="hz-", dir="/tmp")
    try:
        podman = subprocess.run(["podman", "--root", storage + "/r", "--runroot", storage + "/rr", "--storage-driver",
                                 "vfs", "pull", "--tls-verify=false", f"{registry.host}/zstd/app:1"],
                                capture_output=True, text=True)
        assert podman.returncode == 0, podman.stderr
    finally:
        subprocess.run(["rm", "-rf", storage])
    refused = hoist(["push", source, f"{registry.host}/zstd/app:3", "--compression", "zstd", "--format", "docker",
                     "--plain-http"], env, check=False)
    assert refused.returncode != 0 and "Docker schema 2 has no zstd layers" in refused.stderr
