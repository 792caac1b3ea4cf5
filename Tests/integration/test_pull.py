"""hoist pull and copy: registries to OCI layouts, OCI tars and docker archives and back, judged by skopeo
and umoci; multi-platform indexes; redirects to storage hosts; corrupted blobs."""
import filecmp
import hashlib
import json
import os
import subprocess
import tarfile

import pytest
from conftest import (HOIST, PASSWORD, TESTDATA, USER, describe_image, fixture_image, hoist, read_oci_image,
                      registry_manifest, wait_for_partial_download)
from fronts import CorruptingFront, RedirectingFront

MULTIARCH = os.path.join(TESTDATA, "multiarch")


def skopeo_push(source, destination):
    """Pushes with skopeo, an independent writer, keeping the manifest as it is."""
    subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--preserve-digests", source,
                    f"docker://{destination}"], check=True, capture_output=True, text=True)


def skopeo_read(transport_reference, tmp_path):
    """Copies any transport's image with skopeo into its dir: format and describes it."""
    target = tmp_path / ("read-" + str(abs(hash(transport_reference))))
    subprocess.run(["skopeo", "copy", "--quiet", transport_reference, f"dir:{target}"], check=True,
                   capture_output=True, text=True)
    with open(target / "manifest.json") as f:
        manifest = json.load(f)
    return describe_image(manifest, lambda digest: str(target / digest.split(":")[1]))


@pytest.fixture(scope="module")
def pushed(services):
    """The fixture image pushed by skopeo (OCI manifest) and by hoist (Docker schema 2, from docker save)."""
    registry = services.plain.host
    skopeo_push(f"oci:{TESTDATA}/oci-layout:1.0", f"{registry}/pull/oci:1")
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    hoist(["push", os.path.join(TESTDATA, "docker-legacy.tar"), f"{registry}/pull/docker:1", "--plain-http", "-q"],
          env)
    hoist(["push", MULTIARCH, f"{registry}/pull/multi:1", "--plain-http", "-q"], env)
    return registry


def test_pull_to_layout_is_read_by_skopeo_and_umoci(pushed, env, tmp_path):
    reference = f"{pushed}/pull/oci:1"
    result = hoist(["pull", reference, str(tmp_path / "layout"), "--plain-http"], env)
    assert result.stdout.strip().endswith(f"-> {tmp_path / 'layout'}")
    assert not os.path.exists(str(tmp_path / "layout") + ".hoist-partial")
    expected = fixture_image()
    pulled = read_oci_image(str(tmp_path / "layout"))
    assert pulled["config"] == expected["config"] and pulled["diff_ids"] == expected["config_diff_ids"]
    via_skopeo = skopeo_read(f"oci:{tmp_path / 'layout'}:{reference}", tmp_path)
    assert via_skopeo["config"] == expected["config"]

    for name, layout, image in [("pulled", tmp_path / "layout", reference), ("original", f"{TESTDATA}/oci-layout", "1.0")]:
        subprocess.run(["umoci", "unpack", "--rootless", "--image", f"{layout}:{image}", str(tmp_path / name)],
                       check=True, capture_output=True)
    comparison = filecmp.dircmp(tmp_path / "pulled" / "rootfs", tmp_path / "original" / "rootfs")
    assert not comparison.diff_files and not comparison.left_only and not comparison.right_only
    assert sorted(os.listdir(tmp_path / "pulled" / "rootfs")) == ["app", "bin", "etc"]


@pytest.mark.parametrize("image", ["oci", "docker"])
def test_pull_to_docker_archive_loads_in_skopeo(pushed, env, tmp_path, image):
    target = tmp_path / "app.tar"
    hoist(["pull", f"{pushed}/pull/{image}:1", str(target), "--plain-http", "-q"], env)
    with tarfile.open(target) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert {"manifest.json", "repositories", "index.json", "oci-layout"} <= set(names)
    assert manifest[0]["RepoTags"] == [f"{pushed}/pull/{image}:1"]
    read = skopeo_read(f"docker-archive:{target}", tmp_path)
    expected = fixture_image()
    assert read["config"] == expected["config"] and read["diff_ids"] == expected["config_diff_ids"]


def test_pull_uncompressed_layers_and_oci_archive(pushed, env, tmp_path):
    plain = tmp_path / "plain.tar"
    hoist(["pull", f"{pushed}/pull/oci:1", str(plain), "--plain-http", "-q", "--uncompressed-layers"], env)
    with tarfile.open(plain) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        first_layer = tar.extractfile(manifest[0]["Layers"][0]).read()
    assert first_layer[:2] != b"\x1f\x8b"
    assert skopeo_read(f"docker-archive:{plain}", tmp_path)["diff_ids"] == fixture_image()["config_diff_ids"]

    archive = tmp_path / "app.oci.tar"
    reference = f"{pushed}/pull/oci:1"
    hoist(["pull", reference, str(archive), "--plain-http", "-q", "--format", "oci-archive"], env)
    assert skopeo_read(f"oci-archive:{archive}:{reference}", tmp_path)["config"] == fixture_image()["config"]


def test_multi_platform(pushed, env, tmp_path):
    reference = f"{pushed}/pull/multi:1"
    arm = tmp_path / "arm"
    hoist(["pull", reference, str(arm), "--plain-http", "-q", "--platform", "linux/arm64"], env)
    config_digest = read_oci_image(str(arm))["config"]
    with open(os.path.join(arm, "blobs", "sha256", config_digest.split(":")[1])) as f:
        assert json.load(f)["architecture"] == "arm64"

    whole = tmp_path / "whole"
    result = hoist(["pull", reference, str(whole), "--plain-http", "-q", "--all-platforms"], env)
    _, _, served = registry_manifest_index(pushed, "pull/multi", "1")
    assert result.stdout.split("@")[1].split()[0] == served
    with open(whole / "index.json") as f:
        assert json.load(f)["manifests"][0]["digest"] == served

    missing = hoist(["pull", reference, str(tmp_path / "none"), "--plain-http", "--platform", "linux/s390x"], env,
                    check=False)
    assert missing.returncode != 0
    assert "linux/amd64" in missing.stderr and "linux/arm64/v8" in missing.stderr
    assert not os.path.exists(tmp_path / "none") and not os.path.exists(str(tmp_path / "none") + ".hoist-partial")


def test_copy_platform_from_a_layout_skopeo_wrote(pushed, env, tmp_path):
    """copy --platform takes one image from a file's index too (as from a registry's); without it the whole
    index goes, digests unchanged."""
    layout = tmp_path / "skopeo-layout"
    subprocess.run(["skopeo", "copy", "--quiet", "--all", "--src-tls-verify=false", f"docker://{pushed}/pull/multi:1",
                    f"oci:{layout}:multi"], check=True, capture_output=True)
    with open(layout / "index.json") as f:
        index_digest = json.load(f)["manifests"][0]["digest"]
    with open(layout / "blobs" / "sha256" / index_digest.split(":")[1]) as f:
        arm = next(m for m in json.load(f)["manifests"] if m["platform"]["architecture"] == "arm64")
    out = hoist(["copy", f"oci:{layout}:multi", f"{pushed}/pull/chosen:arm", "--platform", "linux/arm64",
                 "--plain-http", "-q"], env).stdout
    assert out.strip().endswith("@" + arm["digest"])
    raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{pushed}/pull/chosen:arm"],
                         check=True, capture_output=True).stdout
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == arm["digest"]
    whole = hoist(["copy", f"oci:{layout}:multi", f"{pushed}/pull/chosen:all", "--plain-http", "-q"], env).stdout
    assert whole.strip().endswith("@" + index_digest)
    missing = hoist(["copy", f"oci:{layout}:multi", f"oci:{tmp_path / 'none'}", "--platform", "linux/s390x"], env,
                    check=False)
    assert missing.returncode != 0 and "has no linux/s390x image" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and not os.path.exists(tmp_path / "none")


def registry_manifest_index(host, repository, tag):
    import urllib.request
    request = urllib.request.Request(f"http://{host}/v2/{repository}/manifests/{tag}", headers={
        "Accept": "application/vnd.oci.image.index.v1+json"})
    with urllib.request.urlopen(request) as response:
        return response.read(), response.headers.get("Content-Type"), response.headers.get("Docker-Content-Digest")


def test_copy_between_registries_and_files_keeps_digests(pushed, services, env, tmp_path):
    source = f"{pushed}/pull/multi:1"
    copied = hoist(["copy", source, f"{pushed}/copied/multi:1", "--all-platforms", "--plain-http"], env)
    _, _, original = registry_manifest_index(pushed, "pull/multi", "1")
    assert copied.stdout.strip().endswith("@" + original)
    assert "mounted" in copied.stderr
    assert services.plain.count_requests("POST", "/v2/copied/multi/blobs/uploads/?mount=") >= 4
    assert services.plain.count_requests("PATCH", "/v2/copied/multi/") == 0

    layout = tmp_path / "layout"
    hoist(["copy", f"docker-archive:{TESTDATA}/docker-legacy.tar", f"oci:{layout}:app-1.4"], env)
    read = skopeo_read(f"oci:{layout}:app-1.4", tmp_path)
    assert read["config"] == fixture_image()["config"]
    back = hoist(["copy", f"oci:{layout}:app-1.4", f"{pushed}/copied/app:1.4", "--plain-http"], env)
    assert back.stdout.strip().startswith(f"{pushed}/copied/app:1.4@sha256:")


def test_blob_redirect_drops_credentials(services, env, tmp_path):
    registry = services.basic
    login = ["--plain-http", "--username", USER, "--password-stdin"]
    hoist(["push", os.path.join(TESTDATA, "oci-layout"), f"{registry.host}/redirect/app:1"] + login, env,
          input=PASSWORD)
    front = RedirectingFront(registry.port)
    try:
        hoist(["pull", f"{front.host}/redirect/app:1", str(tmp_path / "layout"), "-q"] + login, env, input=PASSWORD)
    finally:
        front.stop()
    assert front.storage_requests, "blobs came through the storage host"
    assert not any("Authorization" in headers for headers in front.storage_requests)
    assert read_oci_image(str(tmp_path / "layout"))["diff_ids"] == fixture_image()["config_diff_ids"]


def test_corrupted_blob_is_refused_and_leaves_no_output(pushed, services, env, tmp_path):
    front = CorruptingFront(services.plain.port)
    layer = fixture_image()["manifest"]["layers"][1]["digest"]
    front.corrupt.add(layer)
    try:
        for target in [tmp_path / "layout", tmp_path / "app.tar"]:
            result = hoist(["pull", f"{front.host}/pull/oci:1", str(target), "--plain-http"], env, check=False)
            assert result.returncode != 0
            assert layer in result.stderr.strip().splitlines()[-1]
            assert not os.path.exists(target)
            staged = str(target) + ".hoist-partial"
            assert not os.path.exists(os.path.join(staged, "blobs", "sha256", layer.split(":")[1]))
    finally:
        front.stop()


def test_bundle_holds_shared_blobs_once_and_pushes_back_by_name(pushed, services, env, tmp_path):
    bundle = tmp_path / "bundle.tar"
    names = [f"{pushed}/pull/oci:1", f"{pushed}/pull/docker:1"]
    result = hoist(["pull"] + names + ["--output", str(bundle), "--plain-http", "-q"], env)
    assert len(result.stdout.splitlines()) == 2
    with tarfile.open(bundle) as tar:
        blobs = [n for n in tar.getnames() if n.startswith("blobs/sha256/") and n != "blobs/sha256/"]
        loads = json.load(tar.extractfile("manifest.json"))
    expected = set()
    for name in names:
        manifest = json.loads(registry_manifest(services.plain, name.split("/", 1)[1].split(":")[0], "1")[0])
        expected |= {manifest["config"]["digest"]} | {layer["digest"] for layer in manifest["layers"]}
    assert len(blobs) == len(set(blobs)) == len(expected) + 2  # each blob once, and the two manifests
    assert sorted(tag for entry in loads for tag in entry["RepoTags"]) == sorted(names)

    target = services.tls
    pushed_back = hoist(["push", str(bundle), "--registry", target.host, "--ca-file", services.ca_cert], env)
    lines = sorted(pushed_back.stdout.splitlines())
    assert [line.split("@")[0] for line in lines] == sorted(
        [f"{target.host}/pull/docker:1", f"{target.host}/pull/oci:1"])
    assert target.manifest_exists("pull/oci", "1") and target.manifest_exists("pull/docker", "1")
    originals = {name.split("/", 1)[1]: hoist(["pull", name, str(tmp_path / name.replace("/", "_")), "--plain-http"],
                                              env).stdout.split("@")[1].split()[0] for name in names}
    for line in lines:
        assert originals[line.split("/", 1)[1].split("@")[0]] == line.split("@")[1]


@pytest.mark.parametrize("mib", [1, 6, 11])
def test_killed_pull_resumes_with_range_requests(services, env, tmp_path, mib):
    import signal
    from fronts import StallingFront
    subprocess.run([os.path.join(os.path.dirname(TESTDATA), "scripts", "make-fixtures"), "--big", "12",
                    str(tmp_path)], check=True)
    hoist(["push", str(tmp_path / "big.tar"), f"{services.plain.host}/resume/big:1", "--plain-http", "-q"], env)
    front = StallingFront(services.plain.port, after=mib << 20)
    target = tmp_path / "layout"
    try:
        process = subprocess.Popen([HOIST, "pull", f"{front.host}/resume/big:1", str(target), "--plain-http"],
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_for_partial_download(target, mib << 20)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert not os.path.exists(target)

        front.stall = False
        again = hoist(["pull", f"{front.host}/resume/big:1", str(target), "--plain-http"], env)
    finally:
        front.stop()
    assert "resuming" in again.stderr and "reused" in again.stderr
    assert any(r.startswith("bytes=") and not r.startswith("bytes=0-") for r in front.ranges)
    pulled = read_oci_image(str(target))
    assert pulled["diff_ids"] == pulled["config_diff_ids"]
    assert not os.path.exists(str(target) + ".hoist-partial")
