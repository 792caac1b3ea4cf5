"""hoist sync at scale, against a real distribution registry: images in parallel, a registry that
throttles, a sync with nothing to do, and shards run as separate processes."""
import json
import os
import subprocess
import sys
import urllib.request

from conftest import HOIST, ROOT, hoist
from fronts import ThrottlingFront

sys.path.insert(0, os.path.join(ROOT, "scripts"))
from small_images import make_images, sync_yaml  # noqa: E402


def served_digest(host, repository, tag):
    request = urllib.request.Request(f"http://{host}/v2/{repository}/manifests/{tag}", method="HEAD", headers={
        "Accept": "application/vnd.oci.image.manifest.v1+json,application/vnd.oci.image.index.v1+json,"
                  "application/vnd.docker.distribution.manifest.v2+json"})
    with urllib.request.urlopen(request) as response:
        return response.headers["Docker-Content-Digest"]


def other_name(registry):
    """The registry under a second name (127.0.0.1 for localhost): to hoist another registry, so that a
    mirror into it sends blobs instead of mounting them from the source's repositories."""
    return f"127.0.0.1:{registry.port}"


def expected(made, mirror):
    """Every image of the list as the mirror names it, with its digest."""
    return {f"{mirror}/{repository}:{tag}": digest for repository, tags in made.items() for tag, digest in tags.items()}


def test_shards_run_at_once_cover_the_list_exactly_and_a_second_sync_only_looks(services, env, tmp_path):
    registry = services.plain
    made = make_images(registry.host, "shards/src", 9, 2)
    listing = tmp_path / "images.yaml"
    listing.write_text(sync_yaml(other_name(registry), made))
    mirror = f"{registry.host}/shards/mirror"
    whole = {line.split(" -> ")[1] for line in
             hoist(["sync", str(listing), "--registry", mirror, "--plain-http", "--dry-run"], env).stdout.splitlines()}
    assert whole == set(expected(made, mirror))

    runs = []
    for index in range(3):
        command = [HOIST, "sync", str(listing), "--registry", mirror, "--plain-http", "-q",
                   "--report", str(tmp_path / f"{index}.json")]
        shard_env = dict(env)
        if index == 2:  # as a Kubernetes Indexed Job runs it
            shard_env.update(JOB_COMPLETION_INDEX="2", JOB_COMPLETIONS="3")
        else:
            command += ["--shard", f"{index}/3"]
        runs.append(subprocess.Popen(command, env=shard_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
    reports = [json.loads((tmp_path / f"{index}.json").read_text()) for index in range(3)]
    assert [report["shard"] for report in reports] == ["0/3", "1/3", "2/3"]
    taken = [entry["image"] for report in reports for entry in report["copied"] + report["alreadyThere"]]
    assert len(taken) == len(set(taken)), "no image in two shards"
    assert set(taken) == whole, "the shards together take the whole list"
    shards_of = {}
    for index, report in enumerate(reports):
        assert not report["failed"] and report["bytes"] > 0 and report["seconds"] > 0
        for entry in report["copied"]:
            shards_of.setdefault(entry["image"].rsplit(":", 1)[0], set()).add(index)
    assert all(len(shards) == 1 for shards in shards_of.values()), "a repository stays in one shard"
    for name, digest in expected(made, mirror).items():
        repository, tag = name.split("/", 1)[1].rsplit(":", 1)
        assert served_digest(registry.host, repository, tag) == digest

    gets, heads = registry.count_requests("GET", "/manifests/"), registry.count_requests("HEAD", "/manifests/")
    again = hoist(["sync", str(listing), "--registry", mirror, "--plain-http", "-q",
                   "--report", str(tmp_path / "again.json")], env)
    report = json.loads((tmp_path / "again.json").read_text())
    assert "0 copied, 18 already there, 0 failed" in again.stderr
    assert len(report["alreadyThere"]) == 18 and report["bytes"] == 0 and "shard" not in report
    assert registry.count_requests("GET", "/manifests/") == gets, "a sync with nothing to do reads no manifest"
    assert registry.count_requests("HEAD", "/manifests/") == heads + 36, "one HEAD per image on each side"


def test_a_mirror_through_a_registry_that_throttles_a_fifth_of_requests_finishes(services, env, tmp_path):
    registry = services.plain
    made = make_images(registry.host, "throttled/src", 6, 3)
    front = ThrottlingFront(registry.port, seed=24, rate=0.2)
    listing = tmp_path / "images.yaml"
    listing.write_text(sync_yaml(front.host, made))
    try:
        result = hoist(["sync", str(listing), "--registry", f"{front.host}/throttled/mirror", "--plain-http",
                        "--jobs", "6", "--progress", "json", "--no-cache"], env)
    finally:
        front.stop()
    assert "18 copied, 0 already there, 0 failed" in result.stderr
    assert front.throttled >= 20, "the front throttled"
    for name, digest in expected(made, "throttled/mirror").items():
        repository, tag = name.rsplit(":", 1)
        assert served_digest(registry.host, repository, tag) == digest
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    images = {event.get("image") for event in events if event["event"] in ("done", "mount", "skip", "manifest")}
    assert len(images) >= 6 and None not in images, "each blob event names its image"


def test_images_in_flight_send_a_shared_blob_once(services, env, tmp_path):
    registry = services.plain
    made = make_images(registry.host, "inflight/src", 1, 8, base_size=2 << 20)
    listing = tmp_path / "images.yaml"
    listing.write_text(sync_yaml(other_name(registry), made))
    before = registry.count_requests("POST", "/v2/inflight/mirror/")
    hoist(["sync", str(listing), "--registry", f"{registry.host}/inflight/mirror", "--plain-http", "--jobs", "8", "-q",
           "--no-cache"], env)
    # 8 images: the shared base and repository layers once, each image's own layer and config once.
    assert registry.count_requests("POST", "/v2/inflight/mirror/") - before == 2 + 8 + 8


def test_a_bundle_of_images_pulled_at_once_is_the_bundle_pulled_one_by_one(services, env, tmp_path):
    import hashlib
    registry = services.plain
    made = make_images(registry.host, "order/src", 4, 3)
    names = [f"{registry.host}/{repository}:{tag}" for repository, tags in sorted(made.items()) for tag in tags]
    digests = {}
    for jobs in ("1", "8"):
        bundle = tmp_path / f"bundle-{jobs}.tar"
        hoist(["pull", *names, "--output", str(bundle), "--plain-http", "-q", "--jobs", jobs], env)
        digests[jobs] = hashlib.sha256(bundle.read_bytes()).hexdigest()
        hoist(["verify", str(bundle)], env)
    assert digests["1"] == digests["8"], "the listing follows the order given, not the order images finished"


def test_one_blob_to_two_repositories_of_a_registry_that_throttles_hard(services, env, tmp_path):
    """The limiter's window falls to one request; a blob streamed to two repositories of the same registry
    (two request bodies fed by one reader) still goes, because a streamed body takes no room in the window."""
    subprocess.run([os.path.join(ROOT, "scripts", "make-fixtures"), "--big", "12", str(tmp_path)], check=True)
    front = ThrottlingFront(services.plain.port, seed=7, rate=0.25)
    try:
        pushed = hoist(["push", str(tmp_path / "big.tar"), f"{front.host}/hard/a:1", f"{front.host}/hard/b:1",
                        "--plain-http", "--no-cache", "--retries", "8", "-q"], env)
    finally:
        front.stop()
    assert len(pushed.stdout.splitlines()) == 2 and front.throttled >= 5
    assert served_digest(services.plain.host, "hard/a", "1") == served_digest(services.plain.host, "hard/b", "1")
