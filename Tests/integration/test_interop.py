"""Fidelity with what other tools write: inputs from podman, skopeo and umoci (and edge cases built the way
go-containerregistry and archive editors write them) go through push, pull and copy with their digests kept,
judged by skopeo and by podman as a client."""
import gzip
import io
import json
import os
import random
import re
import shutil
import subprocess
import tarfile
import tempfile

import pytest
from conftest import PASSWORD, USER, hoist, registry_manifest, skopeo_pull
from test_ecr import pull_from_front
from producers import Producers, one_layer_layout, run, sha256

KEPT = ["podman-oci-dir", "podman-oci-archive.tar", "podman-docker-dir", "skopeo-oci", "skopeo-oci-archive.tar",
        "skopeo-dir", "skopeo-docker-dir", "skopeo-zstd", "umoci", "ggcr-layout", "ggcr-nested"]
ARCHIVES = ["podman-docker-archive.tar", "skopeo-docker-archive.tar", "renamed-config.tar"]


@pytest.fixture(scope="module")
def producers():
    workdir = tempfile.mkdtemp(prefix="hoist-producers-")
    made = Producers(workdir)
    yield made
    made.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def repository_for(name):
    return "interop/" + re.sub(r"[^a-z0-9]+", "-", name).strip("-")


def skopeo_raw(reference):
    """The manifest as the registry serves it, read by skopeo."""
    return run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{reference}"]).stdout.encode()


def skopeo_copies_everything(reference, tmp_path):
    """skopeo copies every platform into a dir:, checking each blob's digest on the way."""
    run(["skopeo", "copy", "--quiet", "--all", "--src-tls-verify=false", f"docker://{reference}",
         f"dir:{tmp_path / 'judged'}"])


def podman_loads(producers, archive, reference):
    """podman loads the archive; returns the config digest of the image it then has under `reference`."""
    assert "Loaded image" in producers.podman("load", "-i", str(archive)).stdout
    return "sha256:" + producers.podman("image", "inspect", "--format", "{{.Id}}", reference).stdout.strip()


def podman_image_id(producers, *args):
    return producers.podman(*args).stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("name", KEPT)
def test_push_keeps_every_digest_another_tool_wrote(services, env, producers, tmp_path, name):
    source = producers.inputs[name]
    destination = f"{services.plain.host}/{repository_for(name)}:1"
    result = hoist(["push", source["path"], destination, "--plain-http"], env)
    assert result.stdout.strip() == f"{destination}@{source['digest']}"
    served = skopeo_raw(destination)
    assert sha256(served) == source["digest"]
    _, content_type, _ = registry_manifest(services.plain, repository_for(name), "1")
    # The manifest's own mediaType field (or its shape) decides its Content-Type, not the descriptor.
    assert content_type == json.loads(served).get("mediaType", "application/vnd.oci.image.manifest.v1+json")
    skopeo_copies_everything(destination, tmp_path)


@pytest.mark.parametrize("name", KEPT)
def test_pull_writes_the_same_digests_back_to_disk(services, env, producers, tmp_path, name):
    source = producers.inputs[name]
    destination = f"{services.plain.host}/{repository_for(name)}-pulled:1"
    hoist(["push", source["path"], destination, "--plain-http"], env)
    layout = tmp_path / "layout"
    result = hoist(["pull", destination, str(layout), "--all-platforms", "--plain-http"], env)
    assert result.stdout.strip() == f"{destination}@{source['digest']} -> {layout}"
    with open(layout / "index.json") as f:
        assert [entry["digest"] for entry in json.load(f)["manifests"]] == [source["digest"]]
    root = json.loads((layout / "blobs" / "sha256" / source["digest"][7:]).read_bytes())
    if root.get("mediaType") == "application/vnd.docker.distribution.manifest.v2+json":
        # skopeo 1.9 reads no Docker schema 2 manifest out of an OCI layout: check every blob by hand.
        for blob in (layout / "blobs" / "sha256").iterdir():
            assert sha256(blob.read_bytes()) == "sha256:" + blob.name
        assert all((layout / "blobs" / "sha256" / d["digest"][7:]).exists() for d in root["layers"] + [root["config"]])
    else:
        run(["skopeo", "copy", "--quiet", "--all", f"oci:{layout}:{destination}", f"dir:{tmp_path / 'judged'}"])


@pytest.mark.parametrize("name", [name for name in KEPT if name != "ggcr-nested"] + ARCHIVES)
def test_copy_from_each_file_into_an_archive_podman_loads(env, producers, tmp_path, name):
    archive = tmp_path / "copied.tar"
    reference = f"localhost/copied/{repository_for(name)}:1"
    hoist(["copy", producers.inputs[name]["path"], f"docker-archive:{archive}:{reference}"], env)
    expected = producers.inputs[name].get("config") or producers.config_digest()
    assert podman_loads(producers, archive, reference) == expected


def test_a_copy_without_a_name_keeps_the_source_files_own(env, producers, tmp_path):
    archive = tmp_path / "unnamed.tar"
    hoist(["copy", producers.inputs["podman-docker-archive.tar"]["path"], str(archive)], env)
    with tarfile.open(archive) as tar:
        assert json.load(tar.extractfile("manifest.json"))[0]["RepoTags"] == ["localhost/app:1"]
        assert b"\\/" not in tar.extractfile("manifest.json").read()
    assert podman_loads(producers, archive, "localhost/app:1") == producers.config_digest()


@pytest.mark.parametrize("name", ARCHIVES)
def test_push_of_docker_archives_keeps_config_and_layers(services, env, producers, tmp_path, name):
    destination = f"{services.plain.host}/{repository_for(name)}:1"
    result = hoist(["push", producers.inputs[name]["path"], destination, "--plain-http"], env)
    pulled = skopeo_pull(destination, str(tmp_path / "pulled"))
    assert pulled["config"] == producers.config_digest()
    assert pulled["diff_ids"] == pulled["config_diff_ids"]
    assert "hoist built one" in result.stderr
    if name == "renamed-config.tar":
        assert f"is not named by its digest; pushing it as {producers.config_digest()}" in result.stderr


def test_podman_pulls_what_hoist_pushed(services, env, producers):
    destination = f"{services.plain.host}/interop/podman-judge:1"
    hoist(["push", producers.inputs["podman-oci-archive.tar"]["path"], destination, "--plain-http"], env)
    image_id = podman_image_id(producers, "pull", "--quiet", "--tls-verify=false", destination)
    assert "sha256:" + image_id == producers.config_digest()


def test_registry_prefix_keeps_its_path_and_adds_no_library(services, env, producers):
    prefix = f"{services.plain.host}/mirror/ci"
    result = hoist(["push", producers.inputs["podman-multi.tar"]["path"], "--registry", prefix, "--plain-http"], env)
    assert sorted(line.split("@")[0] for line in result.stdout.splitlines()) == [
        f"{prefix}/app:1", f"{prefix}/base:1"]
    assert services.plain.manifest_exists("mirror/ci/app", "1")
    assert services.plain.manifest_exists("mirror/ci/base", "1")


def test_a_bundle_goes_back_under_a_prefix(services, env, producers, tmp_path):
    host = services.plain.host
    hoist(["push", producers.inputs["skopeo-oci"]["path"], f"{host}/bundled/app:1", "--plain-http"], env)
    hoist(["pull", f"{host}/bundled/app:1", "--output", str(tmp_path / "bundle.tar"), "--plain-http"], env)
    result = hoist(["push", str(tmp_path / "bundle.tar"), "--plain-http"], dict(env, HOIST_REGISTRY=f"{host}/dr"))
    assert result.stdout.strip() == f"{host}/dr/bundled/app:1@{producers.inputs['skopeo-oci']['digest']}"


def test_format_docker_converts_an_oci_layout_into_what_registries_accept(services, env, producers, tmp_path):
    destination = f"{services.plain.host}/interop/to-docker:1"
    result = hoist(["push", producers.inputs["podman-oci-dir"]["path"], destination, "--plain-http",
                    "--format", "docker"], env)
    served = json.loads(skopeo_raw(destination))
    assert served["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert served["config"]["mediaType"] == "application/vnd.docker.container.image.v1+json"
    assert {layer["mediaType"] for layer in served["layers"]} == {"application/vnd.docker.image.rootfs.diff.tar.gzip"}
    assert "annotations" not in served
    assert "converted to Docker schema 2 as requested" in result.stderr and "annotations" in result.stderr
    pulled = skopeo_pull(destination, str(tmp_path / "pulled"))
    assert pulled["config"] == producers.config_digest() and pulled["diff_ids"] == pulled["config_diff_ids"]
    image_id = podman_image_id(producers, "pull", "--quiet", "--tls-verify=false", destination)
    assert "sha256:" + image_id == producers.config_digest()


def test_format_oci_converts_a_docker_manifest(services, env, producers, tmp_path):
    destination = f"{services.plain.host}/interop/to-oci:1"
    result = hoist(["push", producers.inputs["skopeo-docker-dir"]["path"], destination, "--plain-http",
                    "--format", "oci"], env)
    served = json.loads(skopeo_raw(destination))
    assert served["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert {layer["mediaType"] for layer in served["layers"]} == {"application/vnd.oci.image.layer.v1.tar+gzip"}
    assert "converted to OCI as requested" in result.stderr
    skopeo_copies_everything(destination, tmp_path)


def test_zstd_cannot_become_docker_schema_2(services, env, producers):
    result = hoist(["push", producers.inputs["skopeo-zstd"]["path"], f"{services.plain.host}/interop/zstd-docker:1",
                    "--plain-http", "--format", "docker"], env, check=False)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("hoist: error: layer sha256:") and "is zstd" in last and "--format oci" in last
    assert not services.plain.manifest_exists("interop/zstd-docker", "1")


def test_zstd_layers_pull_uncompressed_and_podman_loads_them(services, env, producers, tmp_path):
    destination = f"{services.plain.host}/interop/zstd:1"
    hoist(["push", producers.inputs["skopeo-zstd"]["path"], destination, "--plain-http"], env)
    archive = tmp_path / "zstd.tar"
    hoist(["pull", destination, str(archive), "--plain-http", "--uncompressed-layers"], env)
    with tarfile.open(archive) as tar:
        entry = json.load(tar.extractfile("manifest.json"))[0]
        config = json.load(tar.extractfile(entry["Config"]))
        diff_ids = [sha256(tar.extractfile(layer).read()) for layer in entry["Layers"]]
    assert diff_ids == config["rootfs"]["diff_ids"]
    assert podman_loads(producers, archive, destination) == producers.config_digest()


def one_layer_source(folder, kind):
    """An OCI layout of one image with a fresh layer (no registry of the suite has it), for skopeo to push:
    plain, which skopeo gzips with Go (one member); stored by Python's gzip (level 0, one member) with four
    bytes that fit as a member's size and a gzip header inside, as they are, so that hoist's prediction of
    the layer's members is wrong and the archive is laid out again; or plain and labelled gzip."""
    rng = random.Random(kind)
    data = rng.randbytes(600_000) + (2_000_000).to_bytes(4, "little") + bytes([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])
    data += b"text to compress\n" * 50_000 + rng.randbytes(300_000)
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w") as tar:
        info = tarfile.TarInfo("data/looks-like-gzip")
        info.size, info.mtime = len(data), 1700000000
        tar.addfile(info, io.BytesIO(data))
    plain = tar_bytes.getvalue()
    if kind == "go-gzip":
        one_layer_layout(folder, plain, plain, kind, "application/vnd.oci.image.layer.v1.tar")
    elif kind == "stored-gzip":
        one_layer_layout(folder, plain, gzip.compress(plain, compresslevel=0, mtime=0), kind)
    else:
        one_layer_layout(folder, plain, plain, kind)
    return f"oci:{folder}:{kind}"


@pytest.mark.parametrize("kind", ["go-gzip", "stored-gzip", "plain-labelled-gzip"])
def test_uncompressed_layers_of_gzip_other_tools_wrote_load_in_podman(services, env, producers, tmp_path, kind):
    """A docker archive's layers are inflated once, where their gzip members' trailers put them; a wrong
    prediction is written again; a plain blob labelled gzip is written as it is."""
    destination = f"{services.plain.host}/interop/layers-{kind}:1"
    run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", one_layer_source(tmp_path / "source", kind),
         f"docker://{destination}"])
    served = json.loads(skopeo_raw(destination))
    assert served["layers"][0]["mediaType"].endswith("tar+gzip")
    archive = tmp_path / "plain.tar"
    hoist(["pull", destination, str(archive), "--plain-http", "-q", "--uncompressed-layers"], env)
    with tarfile.open(archive) as tar:
        entry = json.load(tar.extractfile("manifest.json"))[0]
        config = json.load(tar.extractfile(entry["Config"]))
        diff_ids = [sha256(tar.extractfile(layer).read()) for layer in entry["Layers"]]
        assert len([name for name in tar.getnames() if name.startswith("blobs/sha256/")]) == len(diff_ids) + 2
    assert diff_ids == config["rootfs"]["diff_ids"]
    assert podman_loads(producers, archive, destination) == served["config"]["digest"]


def test_podman_loads_what_hoist_pulled(services, env, producers, tmp_path):
    destination = f"{services.plain.host}/interop/load-me:1"
    hoist(["push", producers.inputs["podman-docker-archive.tar"]["path"], destination, "--plain-http"], env)
    archive = tmp_path / "pulled.tar"
    hoist(["pull", destination, str(archive), "--plain-http"], env)
    assert podman_loads(producers, archive, destination) == producers.config_digest()


def test_dir_format_round_trip(services, env, producers, tmp_path):
    host = services.plain.host
    source = producers.inputs["skopeo-dir"]
    copied = hoist(["copy", f"dir:{source['path']}", f"{host}/interop/from-dir:1", "--plain-http"], env)
    assert copied.stdout.strip() == f"{host}/interop/from-dir:1@{source['digest']}"

    out = tmp_path / "out-dir"
    hoist(["pull", f"{host}/interop/from-dir:1", str(out), "--format", "dir", "--plain-http"], env)
    with open(out / "manifest.json", "rb") as f:
        assert sha256(f.read()) == source["digest"]
    with open(out / "version") as f:
        assert f.read() == "Directory Transport Version: 1.1\n"
    # skopeo reads what hoist wrote, checking every blob.
    run(["skopeo", "copy", "--quiet", f"dir:{out}", f"oci:{tmp_path / 'judged'}:x"])
    again = hoist(["copy", f"{host}/interop/from-dir:1", f"dir:{tmp_path / 'copied-dir'}", "--plain-http"], env)
    assert again.stdout.strip().endswith(source["digest"])


def test_signatures_in_a_dir_are_left_behind_with_a_notice(services, env, producers, tmp_path):
    folder = tmp_path / "signed"
    shutil.copytree(producers.inputs["skopeo-dir"]["path"], folder)
    (folder / "signature-1").write_bytes(b"not travelling")
    result = hoist(["push", str(folder), f"{services.plain.host}/interop/signed:1", "--plain-http"], env)
    assert "left out 1 signature files (signature-1)" in result.stderr


@pytest.mark.parametrize("compressed", [False, True])
def test_push_from_standard_input(services, env, producers, compressed):
    with open(producers.inputs["podman-docker-archive.tar"]["path"], "rb") as f:
        data = f.read()
    if compressed:
        data = gzip.compress(data)
    destination = f"{services.plain.host}/interop/stdin-{int(compressed)}:1"
    result = subprocess.run([os.environ.get("HOIST_BIN"), "push", "-", destination, "--plain-http"], input=data,
                            env=env, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().startswith(destination + "@sha256:")
    cache = os.path.join(env["XDG_CACHE_HOME"], "hoist")
    assert not [name for name in os.listdir(cache) if name.startswith("stdin-")]


def test_every_registry_command_takes_credentials(services, env, producers):
    host = services.basic.host
    hoist(["push", producers.inputs["skopeo-oci"]["path"], f"{host}/creds/app:1", "--plain-http", "--username", USER,
           "--password-stdin"], env, input=PASSWORD)
    for command in (["digest"], ["inspect"], ["tags"]):
        target = f"{host}/creds/app" if command == ["tags"] else f"{host}/creds/app:1"
        hoist(command + [target, "--plain-http", "--username", USER, "--password-stdin"], env, input=PASSWORD)
    hoist(["tag", f"{host}/creds/app:1", "2", "--plain-http", "--username", USER, "--password-stdin"], env,
          input=PASSWORD)


def test_json_output_reads_like_jq(services, env, producers):
    destination = f"{services.plain.host}/interop/json/app:1"
    hoist(["push", producers.inputs["skopeo-oci"]["path"], destination, "--plain-http"], env)
    text = hoist(["digest", destination, "--json", "--plain-http"], env).stdout
    assert f'"reference": "{destination}"' in text
    assert "\\/" not in text and '" :' not in text
    inspected = hoist(["inspect", destination, "--plain-http"], env).stdout
    assert "\\/" not in inspected and '" :' not in inspected and json.loads(inspected)


def test_ecr_gets_a_media_type_field_it_insists_on_said_in_a_notice(ecr, env, producers, tmp_path):
    ecr.create_repository("interop/umoci")
    environment = ecr.env(env, ecr.ci)
    source = producers.inputs["umoci"]
    result = hoist(["push", source["path"], f"{ecr.name}/interop/umoci:1"], environment)
    stored = result.stdout.strip().split("@")[1]
    assert stored != source["digest"]
    assert f"added it to {source['digest']}, which becomes {stored}" in result.stderr
    pulled = pull_from_front(ecr, f"{ecr.name}/interop/umoci:1", str(tmp_path / "pulled"))
    assert pulled["manifest"]["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert pulled["diff_ids"] == pulled["config_diff_ids"]

    # Where the digest was named, it must be kept: refused in one line, nothing stored.
    refused = hoist(["copy", f"oci:{source['path']}:base", f"{ecr.name}/interop/umoci@{source['digest']}"],
                    environment, check=False)
    assert refused.returncode != 0
    assert "refuses manifests without a mediaType field" in refused.stderr
    assert "must be kept" in refused.stderr.strip().splitlines()[-1]
