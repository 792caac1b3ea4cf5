"""hoist index create against a real distribution registry, judged by skopeo."""
import json
import os
import subprocess

from conftest import TESTDATA, hoist, skopeo_pull


def raw(reference):
    result = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{reference}"],
                            check=True, capture_output=True)
    return json.loads(result.stdout)


def per_platform_images(registry, env, repository):
    """The fixture's two platforms pushed as single images, as CI runners of each architecture would."""
    base = f"{registry.host}/{repository}"
    hoist(["copy", f"oci:{os.path.join(TESTDATA, 'multiarch')}:multi", f"{base}:multi", "--plain-http", "-q"], env)
    digests = {}
    for arch in ("amd64", "arm64"):
        out = hoist(["copy", f"{base}:multi", f"{base}:{arch}", "--platform", f"linux/{arch}", "--plain-http", "-q"],
                    env).stdout
        digests[arch] = out.strip().split("@")[1]
    return base, digests


def test_an_index_of_single_images_reads_back_per_platform(services, env, tmp_path):
    registry = services.plain
    base, digests = per_platform_images(registry, env, "index/app")
    out = hoist(["index", "create", f"{base}:1.4", f"{base}:amd64", f"{base}:arm64", "+latest",
                 "-t", f"{registry.host}/index/elsewhere:1.4", "--annotation", "org.opencontainers.image.revision=abc",
                 "--plain-http", "-q"], env).stdout.split()
    assert [line.split("@")[0] for line in out] == [f"{base}:1.4", f"{base}:latest",
                                                    f"{registry.host}/index/elsewhere:1.4"]
    assert len({line.split("@")[1] for line in out}) == 1
    index = raw(f"{registry.host}/index/elsewhere:1.4")
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert index["annotations"] == {"org.opencontainers.image.revision": "abc"}
    assert [(m["digest"], m["platform"]["architecture"]) for m in index["manifests"]] == [
        (digests["amd64"], "amd64"), (digests["arm64"], "arm64")]
    # Each platform pulls from the other repository, whose blobs were mounted or copied there.
    for arch in ("amd64", "arm64"):
        pulled = subprocess.run(["skopeo", "--override-arch", arch, "copy", "--quiet", "--src-tls-verify=false",
                                 f"docker://{registry.host}/index/elsewhere:1.4", f"dir:{tmp_path / arch}"],
                                check=True, capture_output=True)
        assert pulled.returncode == 0
        with open(tmp_path / arch / "manifest.json", "rb") as f:
            import hashlib
            assert "sha256:" + hashlib.sha256(f.read()).hexdigest() == digests[arch]


def test_an_index_source_brings_all_its_entries(services, env):
    registry = services.plain
    base, digests = per_platform_images(registry, env, "index/merged")
    hoist(["index", "create", f"{base}:all", f"{base}:multi", "--plain-http", "-q"], env)
    assert [m["digest"] for m in raw(f"{base}:all")["manifests"]] == [digests["amd64"], digests["arm64"]]


def test_two_images_of_one_platform_are_refused(services, env):
    registry = services.plain
    base, _ = per_platform_images(registry, env, "index/dup")
    failed = hoist(["index", "create", f"{base}:dup", f"{base}:amd64", f"{base}:multi", "--plain-http"], env,
                   check=False)
    assert failed.returncode == 1
    assert f"{base}:amd64 and {base}:multi are both linux/amd64" in failed.stderr
    assert not registry.manifest_exists("index/dup", "dup")


def test_a_docker_manifest_list_holds_docker_manifests_only(services, env, tmp_path):
    registry = services.plain
    base, _ = per_platform_images(registry, env, "index/docker")
    refused = hoist(["index", "create", f"{base}:list", f"{base}:amd64", "--format", "docker", "--plain-http"], env,
                    check=False)
    assert refused.returncode == 1 and "Docker schema 2 manifests only" in refused.stderr
    hoist(["push", os.path.join(TESTDATA, "docker-legacy.tar"), f"{base}:schema2", "--plain-http", "-q"], env)
    hoist(["index", "create", f"{base}:list", f"{base}:schema2", "--format", "docker", "--plain-http", "-q"], env)
    listed = raw(f"{base}:list")
    assert listed["mediaType"] == "application/vnd.docker.distribution.manifest.list.v2+json"
    assert listed["manifests"][0]["platform"]["os"] == "linux"
    pulled = skopeo_pull(f"{base}:list", str(tmp_path / "list"))
    assert pulled["diff_ids"] == pulled["config_diff_ids"]


def test_an_image_from_a_docker_save_gets_its_layers_compressed_as_push_does(services, env):
    registry = services.plain
    legacy = os.path.join(TESTDATA, "docker-legacy.tar")
    pushed = hoist(["push", legacy, f"{registry.host}/index/saved:pushed", "--plain-http", "-q"],
                   env).stdout.split("@")[1].strip()
    hoist(["index", "create", f"{registry.host}/index/saved:1", f"docker-archive:{legacy}", "--plain-http", "-q"], env)
    entry = raw(f"{registry.host}/index/saved:1")["manifests"][0]
    assert entry["digest"] == pushed
    layers = raw(f"{registry.host}/index/saved@{pushed}")["layers"]
    assert all(layer["mediaType"].endswith("tar.gzip") for layer in layers)
