"""Bad input to hoist push: one clear line on stderr, a non-zero exit, nothing on stdout, no manifest pushed."""
import io
import json
import os
import tarfile

import pytest
from conftest import TESTDATA, hoist


def rewrite_tar(source, target, change):
    """Copies a tar member by member; `change(name, data)` returns new bytes, or None to drop the member."""
    with tarfile.open(source) as original, tarfile.open(target, "w") as out:
        for member in original.getmembers():
            data = original.extractfile(member).read() if member.isfile() else None
            if data is not None:
                data = change(member.name, data)
                if data is None:
                    continue
                member.size = len(data)
            out.addfile(member, io.BytesIO(data) if data is not None else None)


def flip_last_byte(data):
    return data[:-1] + bytes([data[-1] ^ 0xFF])


def make_case(case, tmp_path):
    legacy = os.path.join(TESTDATA, "docker-legacy.tar")
    target = str(tmp_path / f"{case}.tar")
    if case == "missing-file":
        return str(tmp_path / "does-not-exist.tar"), "does-not-exist.tar: no such file"
    if case == "not-a-tar":
        with open(target, "w") as f:
            f.write("this is not a tar archive\n" * 40)
        return target, "not a tar archive"
    if case == "truncated":
        with open(legacy, "rb") as f:
            data = f.read()
        with open(target, "wb") as f:
            f.write(data[: len(data) // 2])
        return target, "truncated"
    if case == "missing-layer":
        def point_to_nowhere(name, data):
            if name == "manifest.json":
                manifest = json.loads(data)
                manifest[0]["Layers"][1] = "0000/layer.tar"
                return json.dumps(manifest).encode()
            return data
        rewrite_tar(legacy, target, point_to_nowhere)
        return target, "0000/layer.tar, which is not in the archive"
    if case == "diffid-mismatch":
        state = {"done": False}

        def corrupt_one_layer(name, data):
            if name.endswith("/layer.tar") and not state["done"] and len(data) > 20000:
                state["done"] = True
                return flip_last_byte(data)
            return data
        rewrite_tar(legacy, target, corrupt_one_layer)
        return target, "hashes to"
    if case == "bad-manifest-json":
        rewrite_tar(legacy, target, lambda name, data: b"{not json" if name == "manifest.json" else data)
        return target, "manifest.json"
    if case == "bad-oci-blob":
        layout = tmp_path / "layout"
        import shutil
        shutil.copytree(os.path.join(TESTDATA, "oci-layout"), layout)
        with open(layout / "index.json") as f:
            manifest_digest = json.load(f)["manifests"][0]["digest"].split(":")[1]
        with open(layout / "blobs" / "sha256" / manifest_digest) as f:
            layer = json.load(f)["layers"][1]["digest"].split(":")[1]
        path = layout / "blobs" / "sha256" / layer
        path.write_bytes(flip_last_byte(path.read_bytes()))
        return str(layout), layer[:12]
    raise ValueError(case)


CASES = ["missing-file", "not-a-tar", "truncated", "missing-layer", "diffid-mismatch", "bad-manifest-json",
         "bad-oci-blob"]


@pytest.mark.parametrize("case", CASES)
def test_bad_source_fails_cleanly(services, env, tmp_path, case):
    source, expected = make_case(case, tmp_path)
    repository = f"bad/{case}"
    result = hoist(["push", source, f"{services.plain.host}/{repository}:1", "--plain-http"], env, check=False)
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("hoist: error: ")
    assert expected in lines[-1]
    assert not any("Traceback" in line or "Fatal error" in line for line in lines)
    assert not services.plain.manifest_exists(repository, "1")


def test_unknown_host(env):
    result = hoist(["push", os.path.join(TESTDATA, "oci-layout"), "registry.invalid/app:1"], env, check=False)
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.strip().splitlines()[-1].startswith("hoist: error: ")
    assert "registry.invalid" in result.stderr and "unknown host" in result.stderr


def test_bad_reference(env):
    result = hoist(["push", os.path.join(TESTDATA, "oci-layout"), "localhost:5000/UPPER/case:1"], env, check=False)
    assert result.returncode != 0 and "UPPER/case" in result.stderr
