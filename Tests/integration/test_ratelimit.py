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
