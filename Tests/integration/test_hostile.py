"""The corpus of hostile and broken inputs in testdata/hostile: each gets its one-line error, a non-zero exit,
nothing on stdout, and no manifest in the registry."""
import json
import os

import pytest
from conftest import TESTDATA, hoist

CORPUS = os.path.join(TESTDATA, "hostile")
with open(os.path.join(CORPUS, "expected.json")) as f:
    EXPECTED = json.load(f)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_input_is_refused(services, env, name):
    repository = "hostile/" + name.replace(".tar", "").replace("_", "-")
    result = hoist(["push", os.path.join(CORPUS, name), f"{services.plain.host}/{repository}:1", "--plain-http"],
                   env, check=False)
    assert result.returncode != 0
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("hoist: error: ")]
    assert len(errors) == 1 and result.stderr.strip().splitlines()[-1] == errors[0]
    assert EXPECTED[name] in errors[0]
    assert not services.plain.manifest_exists(repository, "1")
