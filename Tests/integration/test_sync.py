"""hoist sync over a skopeo sync YAML file, against a real distribution registry."""
import os
import tarfile

from conftest import TESTDATA, hoist
from test_index import per_platform_images, raw
from test_push import uploads


def test_a_sync_mirrors_the_list_twice_moving_nothing_the_second_time(services, env, tmp_path):
    registry = services.plain
    base, digests = per_platform_images(registry, env, "sync/src/app")
    for tag in ("1.0.0", "1.1.0", "2.0.0", "rc"):
        hoist(["push", os.path.join(TESTDATA, "oci-layout"), f"{registry.host}/sync/src/tool:{tag}", "--plain-http",
               "-q"], env)
    listing = tmp_path / "images.yaml"
    listing.write_text(f"""
{registry.host}:
  tls-verify: false
  images:
    sync/src/app: [multi, amd64]
    sync/src/absent: ["1"]
  images-by-tag-regex:
    sync/src/tool: ^1\\.
  images-by-semver:
    sync/src/tool: ">= 2.0.0"
""")
    mirror = f"{registry.host}/mirror"
    plan = hoist(["sync", str(listing), "--registry", mirror, "--dry-run"], env).stdout.splitlines()
    assert f"{registry.host}/sync/src/tool:1.1.0 -> {mirror}/sync/src/tool:1.1.0" in plan
    assert len(plan) == 6
    first = hoist(["sync", str(listing), "--registry", mirror, "-q"], env, check=False)
    assert first.returncode == 1
    assert "5 copied, 0 already there, 1 failed" in first.stderr
    assert "sync/src/absent:1: no such image" in first.stderr
    assert f"{mirror}/sync/src/app:multi@" in first.stdout
    assert [m["digest"] for m in raw(f"{mirror}/sync/src/app:multi")["manifests"]] == [digests["amd64"],
                                                                                    digests["arm64"]]
    assert sorted(line.split("@")[0] for line in first.stdout.splitlines()) == sorted(
        f"{mirror}/sync/src/{name}" for name in ("app:multi", "app:amd64", "tool:1.0.0", "tool:1.1.0", "tool:2.0.0"))
    before = uploads(registry), registry.count_requests("POST", "/v2/mirror/")
    second = hoist(["sync", str(listing), "--registry", mirror, "-q"], env, check=False)
    assert second.returncode == 1 and "0 copied, 5 already there, 1 failed" in second.stderr
    assert (uploads(registry), registry.count_requests("POST", "/v2/mirror/")) == before, "nothing moved"


def test_a_sync_into_one_bundle(services, env, tmp_path):
    registry = services.plain
    base, _ = per_platform_images(registry, env, "sync/bundle/app")
    listing = tmp_path / "images.yaml"
    listing.write_text(f"{registry.host}:\n  tls-verify: false\n  images:\n    sync/bundle/app: [amd64, arm64]\n")
    hoist(["sync", str(listing), "--output", str(tmp_path / "bundle.tar"), "-q"], env)
    with tarfile.open(tmp_path / "bundle.tar") as tar:
        names = tar.getnames()
    assert "manifest.json" in names and "index.json" in names


def test_a_bad_sync_file_names_the_line_and_key(env, tmp_path):
    listing = tmp_path / "images.yaml"
    listing.write_text("registry.example.com:\n  images:\n    app: [\"1\"]\n  imags:\n    b: []\n")
    failed = hoist(["sync", str(listing), "--registry", "registry.example.com/mirror"], env, check=False)
    assert failed.returncode == 1
    assert f"{listing}:4: registry.example.com: unknown key imags" in failed.stderr
