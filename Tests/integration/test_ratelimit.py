"""Issue 36: the pull limit a registry states (Docker Hub's RateLimit headers), read without spending it."""
import json
import os

from conftest import TESTDATA, hoist
from fronts import RateLimitingFront


def test_ratelimit_reads_the_headers_from_a_head_that_docker_hub_does_not_count(services, env):
    plain = services.plain.host
    hoist(["push", os.path.join(TESTDATA, "oci-layout"), f"{plain}/limits/app:1", "--plain-http", "-q"], env)
    front = RateLimitingFront(services.plain.port, [
        ("ratelimit-limit", "100;w=21600"), ("ratelimit-remaining", "76;w=21600"),
        ("docker-ratelimit-source", "192.0.2.7")])
    try:
        shown = hoist(["ratelimit", f"{front.host}/limits/app:1", "--plain-http"], env)
        assert shown.stdout.strip() == (f"{front.host}/limits/app:1: 76 of 100 left in a 21600 s window, "
                                        "counted for 192.0.2.7")
        answer = json.loads(hoist(["ratelimit", f"{front.host}/limits/app:1", "--plain-http", "--json"],
                                  env).stdout)
        assert answer["rateLimit"] == {"limit": 100, "remaining": 76, "windowSeconds": 21600,
                                       "source": "192.0.2.7"}
        # Only HEADs: a GET is what Docker Hub counts.
        assert front.manifest_requests and set(front.manifest_requests) == {"HEAD"}
        # The IETF draft's form, and values that are not counts (ignored, as if absent).
        front.headers = [("RateLimit-Limit", "50"), ("RateLimit-Remaining", "-3"), ("RateLimit-Reset", "30")]
        answer = json.loads(hoist(["ratelimit", f"{front.host}/limits/app:1", "--plain-http", "--json"],
                                  env).stdout)
        assert answer["rateLimit"] == {"limit": 50, "resetSeconds": 30}
        front.headers = []
        none = hoist(["ratelimit", f"{front.host}/limits/app:1", "--plain-http"], env)
        assert none.stdout.strip() == f"{front.host}/limits/app:1: no rate limit stated"
        assert json.loads(hoist(["ratelimit", f"{front.host}/limits/app:1", "--plain-http", "--json"],
                                env).stdout)["rateLimit"] is None
    finally:
        front.stop()


def test_sync_keeps_the_stated_pull_count_at_its_floor_pausing_or_stopping(services, env, tmp_path):
    """A front states 5 pulls per 3 s window: with --min-remaining 3, no window sees more than 2 GETs (the
    count never goes under 3), the sync pauses and copies all four images; with the stop action it stops at
    the floor (exit 1, the rest named), and a rerun after the window continues."""
    import time
    from fronts import PullLimitFront
    plain = services.plain.host
    for n in range(4):
        hoist(["push", os.path.join(TESTDATA, "oci-layout"), f"{plain}/limited/app{n}:1", "--plain-http", "-q"], env)
    front = PullLimitFront(services.plain.port, limit=5, window=3)
    listing = tmp_path / "images.yaml"
    listing.write_text(f"{front.host}:\n  tls-verify: false\n  images:\n"
                       + "".join(f"    limited/app{n}: ['1']\n" for n in range(4)))
    try:
        paused = hoist(["sync", str(listing), "--registry", f"{plain}/floor-pause", "--plain-http",
                        "--min-remaining", "3", "--no-cache"], env)
        assert paused.stdout.count("@sha256:") == 4
        assert "pulls left (floor 3): waiting until" in paused.stderr
        assert front.worst >= 3 and front.gets == 4, (front.events, paused.stderr)
        front.started, front.worst = None, 5
        stopped = hoist(["sync", str(listing), "--registry", f"{plain}/floor-stop", "--plain-http", "--no-cache",
                         "--min-remaining", "3", "--min-remaining-action", "stop", "--jobs", "1"], env, check=False)
        assert stopped.returncode == 1 and stopped.stdout.count("@sha256:") == 2
        assert "and --min-remaining is 3: stopped before this image" in stopped.stderr
        assert front.worst >= 3
        time.sleep(3.2)
        rerun = hoist(["sync", str(listing), "--registry", f"{plain}/floor-stop", "--plain-http", "--no-cache",
                       "--min-remaining", "3", "--min-remaining-action", "stop"], env)
        assert rerun.stdout.count("@sha256:") == 4 and front.worst >= 3
    finally:
        front.stop()
