"""hoist mutate against a real distribution registry: configs changed, layers untouched, judged by skopeo
and loaded by podman."""
import json
import os
import shutil
import subprocess
import tempfile

from conftest import TESTDATA, hoist
from test_index import per_platform_images, raw
from test_push import uploads


def config(reference, arch=None):
    args = ["skopeo"] + (["--override-arch", arch] if arch else []) + [
        "inspect", "--config", "--tls-verify=false", f"docker://{reference}"]
    return json.loads(subprocess.run(args, check=True, capture_output=True).stdout)


def test_a_mutated_image_keeps_its_layers_and_carries_the_changes(services, env, tmp_path):
    registry = services.plain
    base = f"{registry.host}/mutate/app"
    hoist(["push", os.path.join(TESTDATA, "docker-legacy.tar"), f"{base}:1", "--plain-http", "-q"], env)
    before = uploads(registry)
    out = hoist(["mutate", f"{base}:1", f"{registry.host}/mutate/patched:1", "--label", "org.example.rev=abc",
                 "--env", "TZ=UTC", "--entrypoint", "/bin/sh,-c", "--cmd", '["echo", "hi"]', "--user", "1000",
                 "--workdir", "/app", "--expose", "8080", "--created", "2024-01-01T00:00:00Z", "--plain-http", "-q"],
                env).stdout
    assert out.startswith(f"{registry.host}/mutate/patched:1@sha256:")
    assert uploads(registry) == before + 1, "only the new config went up; the layers were mounted"
    old, new = raw(f"{base}:1"), raw(f"{registry.host}/mutate/patched:1")
    assert [layer["digest"] for layer in new["layers"]] == [layer["digest"] for layer in old["layers"]]
    changed = config(f"{registry.host}/mutate/patched:1")
    assert changed["config"]["Labels"]["org.example.rev"] == "abc"
    assert "TZ=UTC" in changed["config"]["Env"]
    assert changed["config"]["Entrypoint"] == ["/bin/sh", "-c"] and changed["config"]["Cmd"] == ["echo", "hi"]
    assert changed["config"]["User"] == "1000" and changed["config"]["WorkingDir"] == "/app"
    assert "8080/tcp" in changed["config"]["ExposedPorts"]
    assert changed["created"] == "2024-01-01T00:00:00Z"
    assert all(entry["created"] == "2024-01-01T00:00:00Z" for entry in changed.get("history", []))
    assert changed["rootfs"] == config(f"{base}:1")["rootfs"]
    # podman loads it, with the label.
    archive = tmp_path / "patched.tar"
    hoist(["pull", f"{registry.host}/mutate/patched:1", str(archive), "--plain-http", "-q"], env)
    runroot = tempfile.mkdtemp(prefix="hoist-run-")  # podman wants a runroot of 50 characters at most
    podman = ["podman", "--storage-driver", "vfs", "--root", str(tmp_path / "storage"), "--runroot", runroot,
              "--events-backend", "none"]
    loaded = subprocess.run(podman + ["load", "-i", str(archive)], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    labels = subprocess.run(podman + ["image", "inspect", "--format", "{{json .Labels}}",
                                      f"{registry.host}/mutate/patched:1"], check=True, capture_output=True).stdout
    shutil.rmtree(runroot, ignore_errors=True)
    assert json.loads(labels)["org.example.rev"] == "abc"


def test_a_mutated_index_changes_the_platforms_asked_for(services, env):
    registry = services.plain
    base, digests = per_platform_images(registry, env, "mutate/multi")
    hoist(["mutate", f"{base}:multi", f"{base}:arm-patched", "--platform", "linux/arm64", "--label", "k=v",
           "--annotation", "org.example.note=arm", "--plain-http", "-q"], env)
    index = raw(f"{base}:arm-patched")
    by_arch = {m["platform"]["architecture"]: m["digest"] for m in index["manifests"]}
    assert by_arch["amd64"] == digests["amd64"]
    assert by_arch["arm64"] != digests["arm64"]
    assert index["annotations"]["org.example.note"] == "arm"
    assert config(f"{base}:arm-patched", "arm64")["config"]["Labels"] == {"k": "v"}
    assert "Labels" not in config(f"{base}:arm-patched", "amd64")["config"] or \
        "k" not in config(f"{base}:arm-patched", "amd64")["config"]["Labels"]


def test_a_mutation_from_a_file_is_the_same_every_time(services, env):
    registry = services.plain
    source = f"docker-archive:{os.path.join(TESTDATA, 'docker-legacy.tar')}"
    runs = [hoist(["mutate", source, f"{registry.host}/mutate/file:{n}", "--created", "2024-01-01T00:00:00Z",
                   "--plain-http", "-q"], env).stdout.split("@")[1] for n in (1, 2)]
    assert runs[0] == runs[1]


def test_annotations_on_a_docker_manifest_are_refused(services, env):
    registry = services.plain
    hoist(["push", os.path.join(TESTDATA, "docker-legacy.tar"), f"{registry.host}/mutate/docker:1", "--plain-http",
           "-q"], env)
    refused = hoist(["mutate", f"{registry.host}/mutate/docker:1", f"{registry.host}/mutate/docker:2",
                     "--annotation", "a=b", "--plain-http"], env, check=False)
    assert refused.returncode == 1 and "use --label" in refused.stderr
    assert not registry.manifest_exists("mutate/docker", "2")
