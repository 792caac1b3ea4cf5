"""Pushes and pulls through a front that injects faults (seeded): they finish with the digests they would
have had without faults."""
import os
import subprocess

import pytest
from conftest import PASSWORD, TESTDATA, USER, hoist, read_oci_image
from fronts import FaultyFront, Front, forward, own_location, read_body, reply


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    subprocess.run([os.path.join(os.path.dirname(TESTDATA), "scripts", "make-fixtures"), "--big", "12", str(folder)],
                   check=True)
    return str(folder / "big.tar")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_push_and_pull_survive_a_ten_percent_fault_rate(services, env, tmp_path, image, seed):
    clean = hoist(["push", image, f"{services.plain.host}/faults/clean:{seed}", "--plain-http", "-q", "--no-cache",
                   "--chunk-size", "5MiB"], env).stdout.split("@")[1].strip()
    front = FaultyFront(services.plain.port, seed=seed, rate=0.1)
    try:
        pushed = hoist(["push", image, f"{front.host}/faults/app:{seed}", "--plain-http", "--no-cache",
                        "--chunk-size", "5MiB", "--concurrency", "1", "--retries", "8", "--progress", "plain"], env)
        target = tmp_path / "layout"
        pulled = hoist(["pull", f"{front.host}/faults/app:{seed}", str(target), "--plain-http", "--concurrency", "1",
                        "--retries", "8", "--progress", "plain"], env)
        # From the layout, layer sizes are known: chunks, and failed chunks continue where the registry says.
        chunked = hoist(["push", str(target), f"{front.host}/faults/chunked:{seed}", "--plain-http", "--chunk-size",
                         "5MiB", "--concurrency", "1", "--retries", "8", "--progress", "plain"], env)
    finally:
        front.stop()
    assert front.injected, "the front injected faults"
    assert pushed.stdout.split("@")[1].strip() == clean
    assert pulled.stdout.split("@")[1].split()[0] == clean
    assert chunked.stdout.split("@")[1].strip() == clean
    image_read = read_oci_image(str(target))
    assert image_read["diff_ids"] == image_read["config_diff_ids"]


@pytest.mark.parametrize("seed", range(1, 21))
def test_a_fault_mix_on_every_kind_of_request_never_fails_a_push_or_pull(services, env, tmp_path, seed):
    """12 % of requests fail (500, 503, 429, resets, cut-off bodies, and answers lost or replaced by a 502
    after the registry acted), the very first one (the ping) always, the token service's requests too; with
    the default --retries, the push and the pull still finish, with the digests a clean run gives."""
    registry = services.bearer
    source = os.path.join(TESTDATA, "docker-legacy.tar")
    login = ["--plain-http", "--username", USER, "--password-stdin"]
    clean = hoist(["push", source, f"{registry.host}/mix/clean:{seed}", "-q", "--no-cache"] + login, env,
                  input=PASSWORD).stdout.split("@")[1].strip()
    token = ("GET", "/token")
    front = FaultyFront(registry.port, seed=seed, rate=0.12, first=True, token_port=services.token.port,
                        watch=[token])
    try:
        pushed = hoist(["push", source, f"{front.host}/mix/app:{seed}", "--no-cache", "--progress", "plain"]
                       + login, env, input=PASSWORD)
        pulled = hoist(["pull", f"{front.host}/mix/app:{seed}", str(tmp_path / "layout"), "--progress", "plain"]
                       + login, env, input=PASSWORD)
    finally:
        front.stop()
    assert front.injected[0][1:] == ("GET", "/v2/"), "the first request met a fault"
    assert front.counts[token] > 0, "the token requests went through the front"
    assert pushed.stdout.split("@")[1].strip() == clean
    assert pulled.stdout.split("@")[1].split()[0] == clean


@pytest.mark.parametrize("lost_as", ["lose-answer", "502-after"])
def test_every_upload_whose_answer_is_lost_after_the_registry_acted_is_settled(services, env, tmp_path, image,
                                                                                 lost_as):
    """Every PUT that finishes an upload, and the first PATCH, are acted on by the registry and their answers
    lost: the push looks at the registry (HEAD the blob) instead of failing on the used session, starts the
    blob whose session distribution can no longer tell about (its upload state moved on), and ends with the
    digest of a clean push; skopeo reads the image back."""
    from conftest import skopeo_pull
    layout = str(tmp_path / "layout")
    hoist(["copy", f"docker-archive:{image}", f"oci:{layout}:big", "-q"], env)
    clean = hoist(["push", layout, f"{services.plain.host}/lost/clean:1", "--plain-http", "-q", "--no-cache",
                   "--chunk-size", "5MiB"], env).stdout.split("@")[1].strip()
    lose = [("PUT", "/blobs/uploads/", None), ("PATCH", "/blobs/uploads/", 1)]
    front = FaultyFront(services.plain.port, seed=0, rate=0, lose=lose, lost_as=lost_as)
    try:
        pushed = hoist(["push", layout, f"{front.host}/lost/{lost_as}:1", "--plain-http", "--no-cache", "--chunk-size",
                        "5MiB", "--concurrency", "1"], env)
    finally:
        front.stop()
    assert [f for f, m, _ in front.injected if m == "PUT"], "finishing PUTs lost their answers"
    assert pushed.stdout.split("@")[1].strip() == clean
    pulled = skopeo_pull(f"{services.plain.host}/lost/{lost_as}:1", str(tmp_path / "pulled"))
    assert pulled["diff_ids"] == pulled["config_diff_ids"]


def test_an_upload_endpoint_that_always_fails_is_given_up_on_within_the_bound(services, env):
    """Every POST to the upload endpoint answers 503: each blob is tried --retries + 1 times in all (not at
    each of several levels), and the push gives up well within the documented 35 s, saying how often."""
    import time
    watched = ("POST", "/blobs/uploads/")
    front = FaultyFront(services.plain.port, seed=0, rate=0, always=[watched], watch=[watched])
    started = time.monotonic()
    try:
        failed = hoist(["push", os.path.join(TESTDATA, "docker-legacy.tar"), f"{front.host}/refuse/app:1",
                        "--plain-http", "--no-cache", "-q"], env, check=False)
    finally:
        front.stop()
    elapsed = time.monotonic() - started
    assert failed.returncode == 1
    assert len(failed.stderr.strip().splitlines()) == 1
    assert "tried 6 times" in failed.stderr and "HTTP 503" in failed.stderr
    # Blobs move four at a time; the first to give up cancels the others.
    assert 6 <= front.counts[watched] <= 6 * 4
    assert elapsed < 35


def test_interrupted_push_cancels_its_uploads(services, env, image):
    import signal
    import time
    from conftest import HOIST
    from fronts import DelayingFront
    front = DelayingFront(services.plain.port, delay=3)
    try:
        process = subprocess.Popen([HOIST, "push", image, f"{front.host}/interrupt/app:1", "--plain-http", "--no-cache",
                                    "--chunk-size", "5MiB"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 30
        while time.time() < deadline and services.plain.count_requests("POST", "/v2/interrupt/app/blobs/uploads/") < 2:
            time.sleep(0.1)
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        front.stop()
    assert process.returncode == 130
    assert stdout == b"" and b"interrupted" in stderr
    assert services.plain.count_requests("DELETE", "/v2/interrupt/app/blobs/uploads/") >= 1
    assert not services.plain.manifest_exists("interrupt/app", "1")


def test_terminated_pull_resumes(services, env, tmp_path, image):
    import signal
    from conftest import HOIST, wait_for_partial_download
    from fronts import StallingFront
    hoist(["push", image, f"{services.plain.host}/terminate/app:1", "--plain-http", "-q"], env)
    front = StallingFront(services.plain.port, after=4 << 20)
    target = tmp_path / "out.tar"
    try:
        process = subprocess.Popen([HOIST, "pull", f"{front.host}/terminate/app:1", str(target), "--plain-http"],
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_for_partial_download(target, 4 << 20)
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
        assert process.returncode == 143 and not os.path.exists(target)
        front.stall = False
        again = hoist(["pull", f"{front.host}/terminate/app:1", str(target), "--plain-http"], env)
    finally:
        front.stop()
    assert "resuming" in again.stderr
    assert os.path.exists(target) and not os.path.exists(str(target) + ".hoist-partial")


def test_servers_that_lie_are_caught(services, env, tmp_path):
    from fronts import LyingFront
    liar = LyingFront(services.plain.port, wrong_digest=True)
    try:
        result = hoist(["push", os.path.join(TESTDATA, "oci-layout"), f"{liar.host}/lies/app:1", "--plain-http"], env,
                       check=False)
    finally:
        liar.stop()
    assert result.returncode != 0 and "stored the manifest as sha256:0000" in result.stderr

    hoist(["push", os.path.join(TESTDATA, "oci-layout"), f"{services.plain.host}/lies/app:2", "--plain-http", "-q"],
          env)
    endless = LyingFront(services.plain.port, endless=True)
    try:
        result = hoist(["pull", f"{endless.host}/lies/app:2", str(tmp_path / "out"), "--plain-http", "--retries", "0"],
                       env, check=False)
    finally:
        endless.stop()
    assert result.returncode != 0 and ("longer than" in result.stderr or "larger than" in result.stderr)
    assert not os.path.exists(tmp_path / "out")


@pytest.mark.parametrize("after", [0.5, 2.0, 4.0])
def test_push_killed_at_any_point_completes_on_rerun(services, env, image, after):
    import signal
    import time
    from conftest import HOIST
    from fronts import DelayingFront
    repository = f"killed/app{int(after * 10)}"
    clean = hoist(["push", image, f"{services.plain.host}/killed/clean:1", "--plain-http", "-q", "--no-cache",
                   "--chunk-size", "5MiB"], env).stdout.split("@")[1].strip()
    front = DelayingFront(services.plain.port, delay=1)
    try:
        process = subprocess.Popen([HOIST, "push", image, f"{front.host}/{repository}:1", "--plain-http", "--no-cache",
                                    "--chunk-size", "5MiB"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(after)
        process.send_signal(signal.SIGKILL)
        process.communicate()
    finally:
        front.stop()
    assert process.returncode in (0, -signal.SIGKILL)
    again = hoist(["push", image, f"{services.plain.host}/{repository}:1", "--plain-http", "-q", "--no-cache",
                   "--chunk-size", "5MiB"], env)
    assert again.stdout.split("@")[1].strip() == clean


def test_failed_chunk_continues_where_the_registry_says(services, env, tmp_path, image):
    layout = tmp_path / "layout"
    hoist(["copy", f"docker-archive:{image}", f"oci:{layout}:big", "-q"], env)
    upstream = services.plain.port
    seen = []

    def script(request):
        body = read_body(request)
        seen.append((request.command, request.path.split("?")[0]))
        if request.command == "PATCH" and [m for m, _ in seen].count("PATCH") == 2:
            return reply(request, 503, [], b'{"errors":[{"code":"UNAVAILABLE","message":"fault"}]}')
        status, headers, payload = forward(upstream, request, body)
        reply(request, status, own_location(headers, upstream, front.port), payload)

    front = Front(script)
    try:
        result = hoist(["push", str(layout), f"{front.host}/faults/continued:1", "--plain-http", "--chunk-size", "5MiB",
                        "--concurrency", "1"], env)
    finally:
        front.stop()
    assert result.stdout.strip().startswith(f"{front.host}/faults/continued:1@sha256:")
    failed = [i for i, (m, _) in enumerate(seen) if m == "PATCH"][1]
    # The session was asked how far it got, and the upload went on in it: no new session, no byte twice.
    assert seen[failed + 1][0] == "GET" and seen[failed + 1][1] == seen[failed][1]
    assert seen[failed + 2][0] == "PATCH"
    sessions = [p for m, p in seen if m == "POST"]
    # One session per blob, each finished by one PUT (small blobs and the config go whole in theirs).
    assert len(sessions) == len([p for m, p in seen if m == "PUT" and "/blobs/uploads/" in p])
