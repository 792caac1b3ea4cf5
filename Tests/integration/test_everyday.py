"""Everyday use: progress that CI can read, one-liners, inspection, version, completion and exit codes."""
import hashlib
import json
import os
import pty
import subprocess

from conftest import HOIST, PASSWORD, TESTDATA, USER, fixture_image, hoist
from fronts import DelayingFront

LEGACY = os.path.join(TESTDATA, "docker-legacy.tar")
LAYER_SIZES = 10240 + 61440 + 10240  # the uncompressed layers of the fixture, as the source gives them
CONFIG_SIZE = fixture_image()["manifest"]["config"]["size"]  # reported like any other blob


def test_extra_tags_on_the_same_repository(services, env):
    destination = f"{services.plain.host}/onel/app:1.4"
    result = hoist(["push", LEGACY, destination, "+latest", "+sha-3f2a1c", "--plain-http", "-q"], env)
    lines = result.stdout.splitlines()
    assert [line.split("@")[0] for line in lines] == [
        destination, f"{services.plain.host}/onel/app:latest", f"{services.plain.host}/onel/app:sha-3f2a1c"]
    assert len({line.split("@")[1] for line in lines}) == 1
    for tag in ["1.4", "latest", "sha-3f2a1c"]:
        assert services.plain.manifest_exists("onel/app", tag)
    bad = hoist(["push", LEGACY, "+latest", "--plain-http"], env, check=False)
    assert bad.returncode == 64


def test_registry_from_the_environment_takes_names_from_the_archive(services, env):
    result = hoist(["push", os.path.join(TESTDATA, "two-images.tar"), "--plain-http", "-q"],
                   dict(env, HOIST_REGISTRY=services.plain.host))
    assert sorted(line.split("@")[0] for line in result.stdout.splitlines()) == [
        f"{services.plain.host}/hoist/app:1.0", f"{services.plain.host}/hoist/tools:2.0"]


def test_plain_progress_keeps_a_slow_push_visibly_alive(services, env, tmp_path):
    subprocess.run([os.path.join(os.path.dirname(TESTDATA), "scripts", "make-fixtures"), "--big", "12", str(tmp_path)],
                   check=True)
    front = DelayingFront(services.plain.port, delay=3)
    try:
        result = hoist(["push", str(tmp_path / "big.tar"), f"{front.host}/slow/big:1", "--plain-http",
                        "--progress", "plain", "--chunk-size", "5MiB", "--no-cache"],
                       dict(env, HOIST_PROGRESS_INTERVAL="1"))
    finally:
        front.stop()
    lines = result.stderr.splitlines()
    assert sum(line.startswith("total") for line in lines) >= 3
    assert any(line.startswith("pushing") for line in lines) and any(line.startswith("pushed") for line in lines)
    assert lines[-1].startswith("total    3/3 blobs")  # the config counts too


def test_json_progress_adds_up(services, env):
    result = hoist(["push", LEGACY, f"{services.plain.host}/json/app:1", "--plain-http", "--progress", "json",
                    "--no-cache"], env)
    events = [json.loads(line) for line in result.stderr.splitlines()]
    done = [e for e in events if e["event"] == "done"]
    assert sum(e["size"] for e in done) == LAYER_SIZES + CONFIG_SIZE
    assert {e["event"] for e in events} >= {"start", "done", "manifest", "total"}
    total = LAYER_SIZES + CONFIG_SIZE
    assert events[-1] == {"event": "total", "bytes": total, "size": total, "blobs": 4}
    again = hoist(["push", LEGACY, f"{services.plain.host}/json/app:1", "--plain-http", "--progress", "json"], env)
    skips = [json.loads(line) for line in again.stderr.splitlines() if '"skip"' in line]
    assert len(skips) == 4 and all(e["reason"] == "exists" for e in skips)


def test_tty_progress_redraws_in_place_and_ends_clean(services, env):
    controller, terminal = pty.openpty()
    process = subprocess.Popen([HOIST, "push", LEGACY, f"{services.plain.host}/tty/app:1", "--plain-http",
                                "--no-cache"], env=dict(env, COLUMNS="60"), stdout=subprocess.PIPE, stderr=terminal)
    os.close(terminal)
    stdout, _ = process.communicate(timeout=120)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    assert process.returncode == 0
    text = output.decode()
    assert "\x1b[2K" in text and "F\x1b[2K" in text, "lines are cleared and redrawn in place"
    final = text.rstrip("\r\n").split("\n")[-1].strip("\r")
    assert final.startswith("\x1b[2Ktotal") and "4/4 blobs" in final
    assert all(len(line.strip("\r").replace("\x1b[2K", "")) <= 60 for line in text.split("\n")
               if "\x1b[32m" not in line and "note: " not in line)  # notes are whole messages, above the block
    assert stdout.decode().startswith(f"{services.plain.host}/tty/app:1@sha256:")


def test_inspect_digest_tag_and_tags(services, env):
    registry = services.plain.host
    pushed = hoist(["push", os.path.join(TESTDATA, "multiarch"), f"{registry}/insp/multi:1", "--plain-http", "-q"],
                   env)
    digest = pushed.stdout.strip().split("@")[1]
    assert hoist(["digest", f"{registry}/insp/multi:1", "--plain-http"], env).stdout.strip() == digest
    index = json.loads(hoist(["inspect", f"{registry}/insp/multi:1", "--plain-http"], env).stdout)
    assert sorted(m["platform"]["architecture"] for m in index["manifests"]) == ["amd64", "arm64"]
    raw = subprocess.run([HOIST, "inspect", f"{registry}/insp/multi:1", "--plain-http", "--raw"], env=env,
                         capture_output=True, check=True).stdout
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == digest
    config = json.loads(hoist(["inspect", f"{registry}/insp/multi:1", "--plain-http", "--platform", "linux/arm64",
                               "--config"], env).stdout)
    assert config["architecture"] == "arm64"
    tagged = hoist(["tag", f"{registry}/insp/multi:1", "1.0.1", "stable", "--plain-http"], env)
    assert [line.split("@")[1] for line in tagged.stdout.splitlines()] == [digest, digest]
    tags = json.loads(hoist(["tags", f"{registry}/insp/multi", "--plain-http", "--json"], env).stdout)
    assert sorted(tags) == ["1", "1.0.1", "stable"]


def test_version_completion_and_exit_codes(services, env, tmp_path):
    assert hoist(["--version"], env).stdout.startswith("hoist ")
    assert "complete" in hoist(["--generate-completion-script", "bash"], env).stdout
    for command in ["", "push", "pull", "copy", "inspect", "tag", "tags", "digest", "login", "logout", "delete",
                    "images", "ecr", "ecr get-login-password", "repo", "repo create", "repo list", "repo delete",
                    "repo policy", "repo policy set", "repo policy get", "repo policy delete", "repo lifecycle",
                    "repo lifecycle set", "repo lifecycle get", "repo lifecycle delete", "verify", "inventory",
                    "scan", "sync"]:
        assert "Example" in hoist(command.split() + ["--help"], env).stdout, command
    assert hoist(["push", str(tmp_path / "missing.tar"), f"{services.plain.host}/x:1"], env, check=False).returncode == 66
    assert hoist(["push", LEGACY, f"{services.basic.host}/x:1", "--plain-http", "--username", USER,
                  "--password-stdin"], env, input="wrong", check=False).returncode == 77
    assert hoist(["pull", f"{services.plain.host}/insp/multi:1", str(tmp_path / "o"), "--plain-http", "--platform",
                  "linux/s390x"], env, check=False).returncode == 66
    assert hoist(["push"], env, check=False).returncode == 64
    assert PASSWORD not in hoist(["push", LEGACY, f"{services.basic.host}/x:1", "--plain-http", "--debug",
                                  "--username", USER, "--password-stdin"], env, input=PASSWORD).stderr
