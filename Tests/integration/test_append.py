"""hoist append against a real distribution registry: the same layer from the same files every time, read
back by skopeo and loaded by podman."""
import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile

from conftest import TESTDATA, hoist, read_oci_image
from test_index import raw


def make_dist(folder):
    os.makedirs(folder / "bin")
    (folder / "bin" / "run").write_text("#!/bin/sh\necho run\n")
    os.chmod(folder / "bin" / "run", 0o755)
    (folder / "config.yaml").write_text("answer: 42\n")
    os.symlink("bin/run", folder / "start")


def test_append_gives_the_same_digest_from_the_same_files_and_podman_sees_them(services, env, tmp_path):
    registry = services.plain
    base = f"{registry.host}/append/base:1"
    hoist(["push", os.path.join(TESTDATA, "docker-legacy.tar"), base, "--plain-http", "-q"], env)
    first, second = tmp_path / "one" / "dist", tmp_path / "two" / "dist"
    make_dist(first)
    make_dist(second)
    os.utime(second / "config.yaml", (1, 1))  # another time: without SOURCE_DATE_EPOCH, every one becomes 0
    digests = [hoist(["append", base, f"{registry.host}/append/app:{n}", "--layer", f"{folder}:/app",
                      "--plain-http", "-q"], env).stdout.split("@")[1].strip()
               for n, folder in ((1, first), (2, second))]
    assert digests[0] == digests[1]
    old, new = raw(base), raw(f"{registry.host}/append/app:1")
    assert [layer["digest"] for layer in new["layers"][:-1]] == [layer["digest"] for layer in old["layers"]]
    # The new layer: sorted, owned by root, times clamped, modes kept.
    layout = tmp_path / "layout"
    hoist(["pull", f"{registry.host}/append/app:1", str(layout), "--plain-http", "-q"], env)
    image = read_oci_image(str(layout))
    assert image["diff_ids"] == image["config_diff_ids"]
    top = new["layers"][-1]["digest"].split(":")[1]
    with open(layout / "blobs" / "sha256" / top, "rb") as f:
        members = tarfile.open(fileobj=io.BytesIO(gzip.decompress(f.read()))).getmembers()
    assert [m.name for m in members] == ["app", "app/bin", "app/bin/run", "app/config.yaml", "app/start"]
    assert all(m.uid == 0 and m.gid == 0 and m.mtime == 0 for m in members)
    assert members[2].mode & 0o777 == 0o755 and members[4].issym() and members[4].linkname == "bin/run"
    # podman loads it and finds the files.
    archive = tmp_path / "app.tar"
    hoist(["pull", f"{registry.host}/append/app:1", str(archive), "--plain-http", "-q"], env)
    runroot = tempfile.mkdtemp(prefix="hoist-run-")
    podman = ["podman", "--storage-driver", "vfs", "--root", str(tmp_path / "storage"), "--runroot", runroot,
              "--events-backend", "none"]
    try:
        loaded = subprocess.run(podman + ["load", "-i", str(archive)], capture_output=True, text=True)
        assert loaded.returncode == 0, loaded.stderr
        mounted = subprocess.run(podman + ["image", "mount", f"{registry.host}/append/app:1"], capture_output=True,
                                 text=True)
        assert mounted.returncode == 0, mounted.stderr
        root = mounted.stdout.strip()
        assert open(os.path.join(root, "app", "config.yaml")).read() == "answer: 42\n"
        subprocess.run(podman + ["image", "unmount", f"{registry.host}/append/app:1"], capture_output=True)
    finally:
        shutil.rmtree(runroot, ignore_errors=True)


def test_a_missing_layer_folder_is_named(services, env, tmp_path):
    registry = services.plain
    failed = hoist(["append", f"{registry.host}/append/base:1", f"{registry.host}/append/none:1", "--layer",
                    str(tmp_path / "nothing"), "--plain-http"], env, check=False)
    assert failed.returncode == 66 and "nothing: no such file or directory" in failed.stderr
