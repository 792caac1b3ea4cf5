"""SOCI index manifest v2 (`--soci`, `hoist soci create`): what hoist writes is read as the SOCI snapshotter
reads it (soci_judge: the zTOC through flatc's reader, its file table against Python's tarfile, every checkpoint
inflated by zlib), the index layout is checked against soci-snapshotter's v2 document, and skopeo and podman
read the images back. Inputs come from podman (a docker archive with plain layers, which hoist compresses in
span-sized members; an OCI layout with podman's gzip, which hoist indexes as it is) and from Python's tarfile
and gzip (PAX and GNU headers, every member type a zTOC lists)."""
import base64
import gzip
import hashlib
import io
import json
import os
import random
import ssl
import tarfile
import urllib.request

import pytest
import soci_judge
from conftest import ECR_TOKEN, hoist, read_oci_image, skopeo_pull
from producers import one_layer_layout, run

SOCI = "application/vnd.amazon.soci.index.v2+json"
ACCEPT = ("application/vnd.oci.image.index.v1+json,application/vnd.oci.image.manifest.v1+json,"
          "application/vnd.docker.distribution.manifest.v2+json")


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def context_files(folder):
    """About 18 MiB of files: text that compresses, random bytes that do not, and names tar stores in PAX."""
    rng = random.Random(7)
    words = [bytes(rng.choice(b"abcdefghijklmnop") for _ in range(rng.randint(2, 9))) for _ in range(400)]
    os.makedirs(os.path.join(folder, "data", "deep" * 10), exist_ok=True)
    for i in range(40):
        text = b" ".join(rng.choice(words) for _ in range(30_000))
        with open(os.path.join(folder, "data", f"text-{i:02}.txt"), "wb") as f:
            f.write(text)
    with open(os.path.join(folder, "data", "random.bin"), "wb") as f:
        f.write(rng.randbytes(10 << 20))
    with open(os.path.join(folder, "data", "deep" * 10, "a-file-with-a-name-long-enough-for-pax" * 3), "wb") as f:
        f.write(b"deep\n")


@pytest.fixture(scope="module")
def podman_images(tmp_path_factory):
    """A podman-built image with one large layer, saved as a docker archive and as an OCI layout."""
    work = tmp_path_factory.mktemp("soci-podman")
    podman = ["podman", "--storage-driver", "vfs", "--root", str(work / "storage"), "--runroot", str(work / "run"),
              "--events-backend", "none"]
    context = work / "context"
    os.makedirs(context)
    context_files(str(context))
    with open(context / "Containerfile", "w") as f:
        f.write("FROM scratch\nCOPY data /data\nLABEL org.example.role=soci\n")
    run(podman + ["build", "-t", "localhost/soci:1", str(context)])
    run(podman + ["save", "--format", "docker-archive", "-o", str(work / "docker.tar"), "localhost/soci:1"])
    run(podman + ["save", "--format", "oci-dir", "-o", str(work / "oci"), "localhost/soci:1"])
    return {"docker": str(work / "docker.tar"), "oci": str(work / "oci"), "podman": podman}


def handmade_layout(folder):
    """An OCI layout whose one layer Python's tarfile wrote (PAX and GNU headers, xattrs, a fraction of a
    second, links, a fifo and devices) and Python's gzip compressed (one member)."""
    rng = random.Random(11)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add(name, kind=tarfile.REGTYPE, data=b"", **extra):
            info = tarfile.TarInfo(name)
            info.type, info.size, info.mtime, info.mode = kind, len(data), 1700000000, 0o644
            info.uname, info.gname, info.uid, info.gid = "app", "app", 1000, 1000
            for key, value in extra.items():
                setattr(info, key, value)
            tar.addfile(info, io.BytesIO(data) if data else None)
        add("etc/", tarfile.DIRTYPE, mode=0o755)
        add("etc/config", data=b"key=value\n" * 5000)
        add("usr/lib/" + "x" * 120 + "/lib.so", data=rng.randbytes(3 << 20))
        add("usr/bin/tool", data=bytes(rng.choice(b"ab\n") for _ in range(2 << 20)), mode=0o755,
            pax_headers={"SCHILY.xattr.user.note": "kept", "mtime": "1700000000.25"})
        add("usr/bin/tool-link", tarfile.LNKTYPE, linkname="usr/bin/tool")
        add("usr/bin/alias", tarfile.SYMTYPE, linkname="tool")
        add("run/pipe", tarfile.FIFOTYPE)
        add("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3)
        add("dev/loop0", tarfile.BLKTYPE, devmajor=7, devminor=0)
        add("srv/" + "y" * 90 + "/" + "z" * 40, data=b"long\n")
        # A member in GNU's format (its long name in an 'L' header), as GNU tar writes them, among PAX ones.
        gnu = tarfile.TarInfo("opt/" + "g" * 120 + "/gnu-named")
        gnu.size, gnu.mtime, gnu.mode, gnu.uname = 5, 1700000000, 0o600, "gnu"
        header = gnu.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")
        tar.fileobj.write(header + b"gnu!\n" + bytes(507))
        tar.offset += len(header) + 512
    tar_bytes = raw.getvalue()
    one_layer_layout(folder, tar_bytes, gzip.compress(tar_bytes, compresslevel=6, mtime=0), "hand")
    return tar_bytes


class Registry:
    """Reads what a registry holds, by plain HTTP."""

    def __init__(self, host, opener=None, headers=None):
        self.host, self.headers = host, headers or {}
        self.opener = opener or urllib.request.build_opener()

    def get(self, repository, kind, reference):
        request = urllib.request.Request(f"{self.scheme}://{self.host}/v2/{repository}/{kind}/{reference}",
                                         headers={"Accept": ACCEPT, **self.headers})
        with self.opener.open(request) as response:
            return response.read()

    scheme = "http"

    def manifest(self, repository, reference):
        return json.loads(self.get(repository, "manifests", reference))

    def blob(self, repository, digest):
        data = self.get(repository, "blobs", digest)
        assert sha256(data) == digest
        return data


def check_soci_image(registry, repository, tag, min_size=10 << 20, span=4 << 20):
    """The v2 layout under `tag`, every zTOC judged; returns (index, image manifest, soci index manifest)."""
    index = registry.manifest(repository, tag)
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    images = [m for m in index["manifests"] if m.get("artifactType") != SOCI]
    socis = [m for m in index["manifests"] if m.get("artifactType") == SOCI]
    assert len(images) == len(socis) >= 1
    results = []
    for image_entry in images:
        soci_entry = next(s for s in socis if s["annotations"]["com.amazon.soci.image-manifest-digest"]
                          == image_entry["digest"])
        assert soci_entry["platform"] == image_entry["platform"]
        assert soci_entry["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
        image = registry.manifest(repository, image_entry["digest"])
        soci = registry.manifest(repository, soci_entry["digest"])
        assert image["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
        assert image["annotations"]["com.amazon.soci.index-digest"] == soci_entry["digest"]
        assert image_entry.get("annotations") == image["annotations"]
        assert soci["config"] == {"mediaType": SOCI, "size": 2, "digest": sha256(b"{}")}
        assert registry.blob(repository, soci["config"]["digest"]) == b"{}"
        assert "subject" not in soci
        assert soci["annotations"]["com.amazon.soci.build-tool-identifier"].startswith("hoist ")
        large = [layer for layer in image["layers"] if layer["size"] >= min_size]
        described = [z["annotations"]["com.amazon.soci.image-layer-digest"] for z in soci["layers"]]
        assert described == [layer["digest"] for layer in large]
        for ztoc, layer in zip(soci["layers"], large):
            assert ztoc["mediaType"] == "application/octet-stream"
            assert ztoc["annotations"]["com.amazon.soci.image-layer-mediaType"] == layer["mediaType"]
            assert ztoc["annotations"]["com.amazon.soci.span-size"] == str(span)
            soci_judge.check_layer(registry.blob(repository, layer["digest"]),
                                   registry.blob(repository, ztoc["digest"]), span=span)
        results.append((image, soci))
    return index, results


def test_push_docker_archive_with_soci_writes_a_v2_index_the_snapshotter_reads(services, env, tmp_path,
                                                                               podman_images):
    """podman's docker archive holds plain layers: hoist compresses the large one in 4 MiB members, each a
    checkpoint, and the zTOC is built in the same pass."""
    destination = f"{services.plain.host}/soci/app:1"
    result = hoist(["push", podman_images["docker"], destination, "--plain-http", "--soci", "--progress", "plain"],
                   env)
    assert "names its SOCI index" in result.stderr and "as SOCI v2 requires" in result.stderr
    index_digest = result.stdout.strip().split("@")[1]
    registry = Registry(services.plain.host)
    index, [(image, soci)] = check_soci_image(registry, "soci/app", "1")
    assert sha256(registry.get("soci/app", "manifests", "1")) == index_digest
    assert len(soci["layers"]) == 1
    # Pulled back by hoist and skopeo, the tag is the image (its SOCI index beside it is not an image).
    hoist(["pull", destination, str(tmp_path / "pulled"), "--plain-http", "-q"], env)
    pulled = read_oci_image(str(tmp_path / "pulled"))
    assert pulled["config"] == image["config"]["digest"]
    assert pulled["diff_ids"] == pulled["config_diff_ids"]
    judged = skopeo_pull(destination, str(tmp_path / "skopeo"))
    assert judged["diff_ids"] == judged["config_diff_ids"]
    # podman, as a runtime without SOCI would, pulls the tag and runs from the image beside the SOCI index.
    pulled_id = run(podman_images["podman"] + ["pull", "--quiet", "--tls-verify=false", destination]).stdout.split()[-1]
    assert "sha256:" + pulled_id == image["config"]["digest"]
    # A second push finds everything there and writes the same index.
    again = hoist(["push", podman_images["docker"], destination, "--plain-http", "--soci", "-q"], env)
    assert again.stdout.strip() == result.stdout.strip()


def test_push_oci_layout_with_soci_indexes_gzip_layers_as_they_are(services, env, podman_images):
    """podman's OCI layout has gzip layers: they go byte for byte, and their zTOC comes from inflating them
    once beside the upload (checkpoints with windows and leftover bits, as zran takes them)."""
    with open(os.path.join(podman_images["oci"], "index.json")) as f:
        manifest_digest = json.load(f)["manifests"][0]["digest"]
    with open(os.path.join(podman_images["oci"], "blobs", "sha256", manifest_digest[7:])) as f:
        source_layers = json.load(f)["layers"]
    destination = f"{services.plain.host}/soci/layout:1"
    hoist(["push", podman_images["oci"], destination, "--plain-http", "--soci", "-q"], env)
    registry = Registry(services.plain.host)
    _, [(image, soci)] = check_soci_image(registry, "soci/layout", "1")
    assert [layer["digest"] for layer in image["layers"]] == [layer["digest"] for layer in source_layers]
    points = [soci_judge.read_ztoc(registry.blob("soci/layout", z["digest"]))["checkpoints"]["points"]
              for z in soci["layers"]]
    assert any(p["window"] != bytes(32768) for ps in points for p in ps[1:]), "zran checkpoints carry windows"


def test_every_member_type_and_header_kind_is_listed_as_tarfile_reads_it(services, env, tmp_path):
    layout = str(tmp_path / "hand")
    tar_bytes = handmade_layout(layout)
    destination = f"{services.plain.host}/soci/hand:1"
    hoist(["push", layout, destination, "--plain-http", "--soci", "--soci-min-layer-size", "0",
           "--soci-span-size", "1MiB", "-q"], env)
    registry = Registry(services.plain.host)
    _, [(image, soci)] = check_soci_image(registry, "soci/hand", "1", min_size=0, span=1 << 20)
    ztoc = soci_judge.read_ztoc(registry.blob("soci/hand", soci["layers"][0]["digest"]))
    assert len(ztoc["checkpoints"]["points"]) >= 4
    by_name = {e["name"]: e for e in ztoc["entries"]}
    tool = by_name["usr/bin/tool"]
    assert tool["xattrs"]["SCHILY.xattr.user.note"] == "kept"
    assert tool["mod_time"] == "2023-11-14T22:13:20.25Z"
    assert (tool["uname"], tool["uid"], tool["mode"]) == ("app", 1000, 0o755)
    assert by_name["dev/null"]["type"] == "char" and (by_name["dev/null"]["devmajor"], by_name["dev/null"]["devminor"]) == (1, 3)
    assert by_name["run/pipe"]["type"] == "fifo" and by_name["dev/loop0"]["type"] == "block"
    assert by_name["usr/bin/tool-link"]["linkname"] == "usr/bin/tool"
    assert ("srv/" + "y" * 90 + "/" + "z" * 40) in by_name
    assert by_name["opt/" + "g" * 120 + "/gnu-named"]["uname"] == "gnu"
    assert ztoc["uncompressed_size"] <= len(tar_bytes)


def test_soci_create_indexes_an_image_already_pushed_and_the_index_travels(services, env, tmp_path,
                                                                           podman_images):
    """Every layer is in the destination already: hoist reads the large one (sends nothing) to index it.
    Copied on with --all-platforms, the SOCI index and its zTOCs go along, digests kept."""
    source = f"{services.plain.host}/soci/plain:1"
    hoist(["push", podman_images["docker"], source, "--plain-http", "-q"], env)
    destination = f"{services.plain.host}/soci/plain:1-soci"
    result = hoist(["soci", "create", source, destination, "--plain-http", "--progress", "plain"], env)
    registry = Registry(services.plain.host)
    index, [(image, _)] = check_soci_image(registry, "soci/plain", "1-soci")
    sent = [line.split()[1] for line in result.stderr.splitlines() if line.startswith("copied ")]
    assert sent and not set(sent) & {layer["digest"][7:19] for layer in image["layers"]}, "no layer went again"
    copied = f"{services.plain.host}/soci/copied:1"
    hoist(["copy", destination, copied, "--all-platforms", "--plain-http", "-q"], env)
    assert Registry(services.plain.host).manifest("soci/copied", "1") == index
    check_soci_image(registry, "soci/copied", "1")
    layout = str(tmp_path / "bundle")
    hoist(["pull", destination, layout, "--all-platforms", "--plain-http", "-q"], env)
    hoist(["verify", layout], env)


def test_index_create_with_soci_lists_each_platforms_soci_index(services, env, fixtures):
    """Two platforms (the multiarch fixture), a zTOC for every layer (--soci-min-layer-size 0)."""
    destination = f"{services.plain.host}/soci/multi:1"
    hoist(["index", "create", destination, f"oci:{fixtures}/multiarch", "--plain-http", "--soci",
           "--soci-min-layer-size", "0", "-q"], env)
    index, results = check_soci_image(Registry(services.plain.host), "soci/multi", "1", min_size=0)
    assert len(results) == 2
    assert len({json.dumps(m["platform"], sort_keys=True) for m in index["manifests"]}) == 2


def test_push_with_soci_to_the_ecr_look_alike_then_the_scan_gate(ecr, env, podman_images):
    """The README's CI example: push with --soci, then scan the tag (an index, which ECR does not scan:
    hoist scans its image)."""
    ecr.create_repository("soci/app")
    environment = ecr.env(env, ecr.ci)
    destination = f"{ecr.name}/soci/app:1"
    hoist(["push", podman_images["docker"], destination, "--soci", "-q"], environment)
    gated = hoist(["scan", destination, "--wait", "--fail-on", "critical", "--json"], environment)
    report = json.loads(gated.stdout)
    assert report["status"] == "COMPLETE"
    context = ssl.create_default_context(cafile=ecr.ca_cert)
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
    registry = Registry(ecr.name, opener, {"Authorization": "Basic " + base64.b64encode(
        f"AWS:{ECR_TOKEN}".encode()).decode()})
    registry.scheme = "https"
    index, [(image, _)] = check_soci_image(registry, "soci/app", "1")
    assert report["digest"] == sha256(registry.get("soci/app", "manifests", index["manifests"][0]["digest"]))


@pytest.mark.parametrize("args, message", [
    (["--format", "docker"], "--soci cannot write --format docker"),
    (["--compression", "zstd"], "SOCI reads gzip layers only"),
    (["--soci-span-size", "1KiB"], "--soci-span-size must be between 256KiB and 64MiB"),
])
def test_soci_refuses_what_cannot_hold_a_soci_index(env, fixtures, args, message):
    result = hoist(["push", f"{fixtures}/docker-25.tar", "localhost:1/app:1", "--soci"] + args, env, check=False)
    assert result.returncode == 64 and message in result.stderr.splitlines()[0]


def test_soci_copy_refuses_a_docker_archive_destination(env, fixtures, tmp_path):
    result = hoist(["copy", f"oci:{fixtures}/oci-layout", str(tmp_path / "out.tar"), "--soci"], env, check=False)
    assert result.returncode == 64 and "holds no SOCI index" in result.stderr.splitlines()[0]
    assert not os.path.exists(tmp_path / "out.tar")
