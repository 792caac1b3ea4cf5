"""Signatures, SBOMs and attestations carried with their images (OCI 1.1 referrers and cosign's tags):
distribution 2.8 (no referrers API: the tag schema) and a front that adds the referrers API over it. The
referrers are made here, independently of hoist, as cosign, BuildKit and syft write them, and by hoist
attach; every manifest's digest is checked after each round trip."""
import base64
import hashlib
import json
import os
import subprocess
import tempfile
import urllib.error
import urllib.request

import pytest

from conftest import TESTDATA, hoist
from fronts import ReferrersFront

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY = {"mediaType": "application/vnd.oci.empty.v1+json",
         "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2}
SPDX = "application/spdx+json"
IN_TOTO = "application/vnd.in-toto+json"
COSIGN_SIG = "application/vnd.dev.cosign.simplesigning.v1+json"
LAYOUT = os.path.join(TESTDATA, "oci-layout")
MULTIARCH = os.path.join(TESTDATA, "multiarch")


@pytest.fixture(scope="module")
def front(services):
    started = ReferrersFront(services.plain.port)
    yield started
    started.stop()


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def request(host, method, path, body=None, headers=None):
    req = urllib.request.Request(f"http://{host}{path}", data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def put_blob(host, repository, data):
    status, headers, _ = request(host, "POST", f"/v2/{repository}/blobs/uploads/")
    assert status == 202
    location = headers["Location"].split(host, 1)[-1]
    status, _, _ = request(host, "PUT", f"{location}{'&' if '?' in location else '?'}digest={sha(data)}", data,
                           {"Content-Type": "application/octet-stream"})
    assert status == 201
    return sha(data)


def put_manifest(host, repository, reference, document):
    data = json.dumps(document).encode()
    status, headers, body = request(host, "PUT", f"/v2/{repository}/manifests/{reference}", data,
                                    {"Content-Type": document["mediaType"]})
    assert status == 201, body
    return {"mediaType": document["mediaType"], "digest": sha(data), "size": len(data)}, headers


def get_manifest(host, repository, reference):
    status, _, body = request(host, "GET", f"/v2/{repository}/manifests/{reference}",
                              headers={"Accept": f"{OCI_MANIFEST}, {OCI_INDEX}"})
    return json.loads(body) if status == 200 else None, sha(body) if status == 200 else None


def subject_of(host, repository, tag):
    document, digest = get_manifest(host, repository, tag)
    data = json.dumps(document)  # only for the size check below; the digest is of the served bytes
    assert data
    status, _, body = request(host, "GET", f"/v2/{repository}/manifests/{digest}",
                              headers={"Accept": f"{OCI_MANIFEST}, {OCI_INDEX}"})
    return {"mediaType": document["mediaType"], "digest": digest, "size": len(body)}


def artifact(host, repository, subject, artifact_type, payload, layer_type, annotations=None):
    """An OCI 1.1 artifact manifest naming `subject`, as syft, BuildKit or oras push them."""
    put_blob(host, repository, b"{}")
    layer = {"mediaType": layer_type, "digest": put_blob(host, repository, payload), "size": len(payload)}
    document = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": artifact_type, "config": EMPTY,
                "layers": [layer], "subject": subject,
                "annotations": annotations or {"org.opencontainers.image.created": "2026-12-01T00:00:00Z"}}
    descriptor, headers = put_manifest(host, repository, sha(json.dumps(document).encode()), document)
    return dict(descriptor, artifactType=artifact_type, annotations=document["annotations"]), headers


def list_in_tag_schema(host, repository, subject, descriptor):
    """Adds a referrer to the subject's sha256-<hex> index, as a client does on a registry without the API."""
    tag = subject["digest"].replace(":", "-")
    index, _ = get_manifest(host, repository, tag)
    index = index or {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    index["manifests"].append(descriptor)
    put_manifest(host, repository, tag, index)


def cosign_signature(host, repository, subject):
    """A cosign signature under the tag sha256-<hex>.sig: simple signing payload, the plain OCI config."""
    payload = json.dumps({"critical": {"identity": {"docker-reference": f"{host}/{repository}"},
                                       "image": {"docker-manifest-digest": subject["digest"]},
                                       "type": "cosign container image signature"}, "optional": None}).encode()
    layer_digest = put_blob(host, repository, payload)
    config = json.dumps({"architecture": "", "config": {}, "created": "0001-01-01T00:00:00Z", "os": "",
                         "rootfs": {"type": "layers", "diff_ids": [layer_digest]}}).encode()
    document = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": put_blob(host, repository, config), "size": len(config)},
                "layers": [{"mediaType": COSIGN_SIG, "digest": layer_digest, "size": len(payload),
                            "annotations": {"dev.cosignproject.cosign/signature": base64.b64encode(b"sig").decode()}}]}
    descriptor, _ = put_manifest(host, repository, subject["digest"].replace(":", "-") + ".sig", document)
    return descriptor


def signed_image(host, repository, api, env, source=LAYOUT):
    """An image with an SPDX SBOM and an in-toto attestation (OCI 1.1 referrers), a cosign .sig tag, and
    a signature on the SBOM made by hoist attach. On a registry without the API (`api` false) the test lists
    its referrers in the tag schema itself. Returns the image's descriptor and the referrers' digests."""
    hoist(["copy", f"oci:{source}", f"{host}/{repository}:1", "--all-platforms", "--plain-http", "-q"], env)
    subject = subject_of(host, repository, "1")
    sbom, headers = artifact(host, repository, subject, SPDX, b'{"spdxVersion":"SPDX-2.3"}', SPDX)
    attestation, _ = artifact(host, repository, subject, IN_TOTO,
                              b'{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}',
                              "application/vnd.dsse.envelope.v1+json")
    assert ("OCI-Subject" in headers) == api
    if not api:
        list_in_tag_schema(host, repository, subject, sbom)
        list_in_tag_schema(host, repository, subject, attestation)
    signature = cosign_signature(host, repository, subject)
    with tempfile.NamedTemporaryFile("w", suffix=".sig", delete=False) as f:
        f.write("signature of the SBOM")
    out = hoist(["attach", f"{host}/{repository}@{sbom['digest']}", f.name, "--artifact-type",
                 "application/vnd.example.signature", "--plain-http", "-q"], env).stdout.strip()
    os.unlink(f.name)
    on_sbom = out.split("@")[1]
    return subject, {"sbom": sbom["digest"], "attestation": attestation["digest"], "cosign": signature["digest"],
                     "on_sbom": on_sbom}


def referrers_json(reference, env, *extra):
    return json.loads(hoist(["referrers", reference, "--json", "--plain-http", *extra], env).stdout)


def flatten(tree):
    out = {}
    for node in tree["referrers"]:
        out[node["digest"]] = node
        out.update(flatten(node))
    return out


def assert_carried(host, repository, subject, made, api, expected=("sbom", "attestation", "cosign", "on_sbom")):
    """The image and its referrers are at `host/repository` with the same digests, found the way the
    registry offers (the referrers API through the front, else the tag schema)."""
    _, digest = get_manifest(host, repository, "1")
    assert digest == subject["digest"]
    for name in expected:
        document, stored = get_manifest(host, repository, made[name])
        assert stored == made[name], name
    tag = subject["digest"].replace(":", "-")
    if "cosign" in expected:
        assert get_manifest(host, repository, tag + ".sig")[1] == made["cosign"]
    listed = {m["digest"] for m in get_manifest(host, repository, tag)[0]["manifests"]} if not api else None
    for name in set(expected) & {"sbom", "attestation"}:
        if api:
            status, _, body = request(host, "GET", f"/v2/{repository}/referrers/{subject['digest']}")
            assert made[name] in {m["digest"] for m in json.loads(body)["manifests"]}
        else:
            assert made[name] in listed


def test_attach_and_list_a_tree_without_the_referrers_api(services, env):
    host = services.plain.host
    subject, made = signed_image(host, "ref/plain", api=False, env=env)
    tree = referrers_json(f"{host}/ref/plain:1", env)
    assert tree["digest"] == subject["digest"]
    top = {n["digest"]: n for n in tree["referrers"]}
    assert set(top) == {made["sbom"], made["attestation"], made["cosign"]}
    assert top[made["sbom"]]["artifactType"] == SPDX
    assert top[made["sbom"]]["annotations"]["org.opencontainers.image.created"] == "2026-12-01T00:00:00Z"
    assert top[made["cosign"]]["tag"] == subject["digest"].replace(":", "-") + ".sig"
    assert top[made["cosign"]]["artifactType"] == COSIGN_SIG
    assert [n["digest"] for n in top[made["sbom"]]["referrers"]] == [made["on_sbom"]]
    # hoist attach on a registry without the API listed its artifact in the tag schema's index.
    index, _ = get_manifest(host, "ref/plain", made["sbom"].replace(":", "-"))
    assert [m["digest"] for m in index["manifests"]] == [made["on_sbom"]]
    filtered = referrers_json(f"{host}/ref/plain:1", env, "--artifact-type", SPDX)
    assert [n["digest"] for n in filtered["referrers"]] == [made["sbom"]]
    text = hoist(["referrers", f"{host}/ref/plain:1", "--plain-http"], env).stdout
    assert f"└── {made['on_sbom']} application/vnd.example.signature" in text


def test_copy_from_the_tag_schema_to_the_referrers_api_and_back(services, front, env):
    plain = services.plain.host
    subject, made = signed_image(plain, "ref/a", api=False, env=env)
    out = hoist(["copy", f"{plain}/ref/a:1", f"{front.host}/ref/b:1", "--referrers", "--plain-http",
                 "--progress", "json"], env)
    assert out.stdout.strip() == f"{front.host}/ref/b:1@{subject['digest']}"
    events = [json.loads(line) for line in out.stderr.splitlines()]
    assert {e["digest"] for e in events if e["event"] == "referrer"} == set(made.values())
    assert_carried(front.host, "ref/b", subject, made, api=True)
    assert {d["digest"] for d in front.referrers.listed("ref/b", subject["digest"])} == {made["sbom"],
                                                                                         made["attestation"]}
    # The front's API lists what the copy stored; hoist reads the tree back through it (paged by 2).
    tree = flatten(referrers_json(f"{front.host}/ref/b:1", env))
    assert set(tree) == set(made.values())
    hoist(["copy", f"{front.host}/ref/b:1", f"{plain}/ref/c:1", "--referrers", "--plain-http", "-q"], env)
    assert_carried(plain, "ref/c", subject, made, api=False)
    # Copying again adds nothing twice to the tag schema's index.
    hoist(["copy", f"{front.host}/ref/b:1", f"{plain}/ref/c:1", "--referrers", "--plain-http", "-q"], env)
    index, _ = get_manifest(plain, "ref/c", subject["digest"].replace(":", "-"))
    assert sorted(m["digest"] for m in index["manifests"]) == sorted([made["sbom"], made["attestation"]])


def test_referrers_type_keeps_some_artifact_types_with_their_own_referrers(services, front, env):
    plain = services.plain.host
    subject, made = signed_image(plain, "ref/typed", api=False, env=env)
    hoist(["copy", f"{plain}/ref/typed:1", f"{front.host}/ref/typed-copy:1", "--referrers-type", SPDX,
           "--plain-http", "-q"], env)
    assert_carried(front.host, "ref/typed-copy", subject, made, api=True, expected=("sbom", "on_sbom"))
    assert get_manifest(front.host, "ref/typed-copy", made["attestation"])[1] is None
    assert get_manifest(front.host, "ref/typed-copy", subject["digest"].replace(":", "-") + ".sig")[1] is None


def test_a_multi_platform_index_carries_the_referrers_of_the_index_and_of_each_platform(services, front, env):
    plain = services.plain.host
    subject, made = signed_image(plain, "ref/multi", api=False, env=env, source=MULTIARCH)
    index, _ = get_manifest(plain, "ref/multi", "1")
    child = index["manifests"][1]
    child_subject = {"mediaType": child["mediaType"], "digest": child["digest"], "size": child["size"]}
    provenance, _ = artifact(plain, "ref/multi", child_subject, IN_TOTO, b'{"predicateType":"slsa"}', IN_TOTO)
    list_in_tag_schema(plain, "ref/multi", child_subject, provenance)
    hoist(["copy", f"{plain}/ref/multi:1", f"{front.host}/ref/multi:1", "--all-platforms", "--referrers",
           "--plain-http", "-q"], env)
    assert_carried(front.host, "ref/multi", subject, made, api=True)
    assert [d["digest"] for d in front.referrers.listed("ref/multi", child["digest"])] == [provenance["digest"]]


def test_a_bundle_carries_referrers_into_an_air_gap_and_out_again(services, front, env, tmp_path):
    plain = services.plain.host
    subject_a, made_a = signed_image(plain, "gap/app", api=False, env=env)
    subject_b, made_b = signed_image(plain, "gap/base", api=False, env=env, source=MULTIARCH)
    bundle = tmp_path / "bundle.tar"
    hoist(["pull", f"{plain}/gap/app:1", f"{plain}/gap/base:1", "--all-platforms", "--output", str(bundle),
           "--format", "oci-archive", "--referrers", "--plain-http", "-q"], env)
    # Pushed without flags: the referrers in the bundle were put there on purpose, and go with their images.
    out = hoist(["push", str(bundle), "--registry", f"{front.host}/inside", "--plain-http", "-q"], env)
    assert sorted(out.stdout.split()) == sorted([f"{front.host}/inside/gap/app:1@{subject_a['digest']}",
                                                 f"{front.host}/inside/gap/base:1@{subject_b['digest']}"])
    assert_carried(front.host, "inside/gap/app", subject_a, made_a, api=True)
    assert_carried(front.host, "inside/gap/base", subject_b, made_b, api=True)


def test_a_docker_archive_keeps_referrers_beside_what_docker_load_reads(services, env, tmp_path):
    plain = services.plain.host
    subject, made = signed_image(plain, "gap/loadable", api=False, env=env)
    archive = tmp_path / "app.tar"
    hoist(["pull", f"{plain}/gap/loadable:1", str(archive), "--referrers", "--plain-http", "-q"], env)
    listing = subprocess.run(["tar", "-xOf", str(archive), "manifest.json"], check=True, capture_output=True)
    assert [entry["RepoTags"] for entry in json.loads(listing.stdout)] == [[f"{plain}/gap/loadable:1"]]
    storage = tempfile.mkdtemp(prefix="hp-", dir="/tmp")
    try:
        loaded = subprocess.run(["podman", "--root", storage + "/r", "--runroot", storage + "/rr",
                                 "--storage-driver", "vfs", "load", "-i", str(archive)], capture_output=True, text=True)
        assert loaded.returncode == 0, loaded.stderr
    finally:
        subprocess.run(["rm", "-rf", storage])
    hoist(["push", str(archive), f"{plain}/gap/loaded:1", "--referrers", "--plain-http", "-q"], env)
    assert_carried(plain, "gap/loaded", subject, made, api=False)


def test_a_layout_lists_referrers_for_oci_tools_and_pushes_them_back(services, front, env, tmp_path):
    plain = services.plain.host
    subject, made = signed_image(plain, "lay/app", api=False, env=env)
    layout = tmp_path / "layout"
    hoist(["pull", f"{plain}/lay/app:1", str(layout), "--referrers", "--plain-http", "-q"], env)
    with open(layout / "index.json") as f:
        entries = json.load(f)["manifests"]
    by_digest = {e["digest"]: e for e in entries}
    assert by_digest[made["sbom"]]["artifactType"] == SPDX and "annotations" not in by_digest[made["sbom"]]
    assert by_digest[made["cosign"]]["annotations"]["org.opencontainers.image.ref.name"] == (
        f"{plain}/lay/app:" + subject["digest"].replace(":", "-") + ".sig")
    for entry in entries:
        with open(layout / "blobs" / "sha256" / entry["digest"].split(":")[1], "rb") as f:
            assert sha(f.read()) == entry["digest"]
    # A single-image layout with referrers is still read without naming the image.
    assert hoist(["referrers", str(layout)], env).stdout.startswith(f"{layout}@{subject['digest']}")
    hoist(["push", str(layout), f"{front.host}/lay/back:1", "--referrers", "--plain-http", "-q"], env)
    assert_carried(front.host, "lay/back", subject, made, api=True)
    # With --no-referrers, the image goes alone, and a notice says how many stayed behind.
    alone = hoist(["push", str(layout), f"{front.host}/lay/alone:1", "--plain-http", "--no-referrers", "--progress",
                   "plain"], env)
    assert front.referrers.listed("lay/alone", subject["digest"]) == []
    assert f"referrer(s) of {subject['digest']} left out: --no-referrers" in alone.stderr
    # Converted, the image's digest changes: its referrers stay behind with a notice instead of a refusal.
    converted = hoist(["push", str(layout), f"{front.host}/lay/converted:1", "--plain-http", "--format", "docker",
                       "--progress", "plain"], env)
    assert f"left out: its digest changed to " in converted.stderr
    assert front.referrers.listed("lay/converted", subject["digest"]) == []


def test_a_listed_referrer_that_is_gone_and_a_list_naming_the_image_are_handled(services, front, env):
    subject, made = signed_image(front.host, "ref/odd", api=True, env=env)
    gone = {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "e" * 64, "size": 300, "artifactType": SPDX}
    front.referrers.injected[("ref/odd", subject["digest"])] = [gone]
    front.referrers.injected[("ref/odd", made["sbom"])] = [dict(subject, artifactType=SPDX)]  # a cycle
    out = hoist(["copy", f"{front.host}/ref/odd:1", f"{services.plain.host}/ref/odd:1", "--referrers",
                 "--plain-http"], env)
    assert f"lists referrer {gone['digest']} of {subject['digest']} but does not hold it; skipped" in out.stderr
    assert_carried(services.plain.host, "ref/odd", subject, made, api=False)
    tree = referrers_json(f"{front.host}/ref/odd:1", env)
    assert len(flatten(tree)) == 5  # the four referrers and the missing one, each once; the cycle is cut


def test_a_registry_listing_endless_referrers_is_refused_in_bounded_time(services, front, env):
    host = front.host
    hoist(["push", LAYOUT, f"{host}/ref/flood:1", "--plain-http", "-q"], env)
    front.referrers.flood = True
    try:
        out = hoist(["referrers", f"{host}/ref/flood:1", "--plain-http"], env, check=False)
        copy = hoist(["copy", f"{host}/ref/flood:1", f"{services.plain.host}/ref/flood:1", "--referrers",
                      "--plain-http", "-q"], env, check=False)
    finally:
        front.referrers.flood = False
    assert out.returncode != 0 and copy.returncode != 0
    for result in (out, copy):
        assert "lists more than 10000 referrers of sha256:" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_attach_to_a_missing_image_and_referrers_with_a_conversion_are_refused(services, env, tmp_path):
    host = services.plain.host
    sbom = tmp_path / "sbom.json"
    sbom.write_text("{}")
    out = hoist(["attach", f"{host}/ref/none:1", str(sbom), "--artifact-type", SPDX, "--plain-http"], env, check=False)
    assert out.returncode != 0 and "no such image" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    for args in (["pull", f"{host}/ref/plain:1", str(tmp_path / "x.tar"), "--uncompressed-layers", "--referrers"],
                 ["push", LAYOUT, f"{host}/ref/x:1", "--format", "docker", "--referrers"],
                 ["copy", f"{host}/ref/plain:1", f"dir:{tmp_path / 'd'}", "--referrers"]):
        out = hoist(args + ["--plain-http"], env, check=False)
        assert out.returncode != 0 and "referrers" in out.stderr, args
        assert not os.path.exists(tmp_path / "x.tar") and not os.path.exists(tmp_path / "d")


def test_a_sync_with_referrers_brings_signatures_added_since_the_last_run(services, front, env, tmp_path):
    plain = services.plain.host
    subject, made = signed_image(plain, "syncref/app", api=False, env=env)
    listing = tmp_path / "images.yaml"
    listing.write_text(f"{plain}:\n  tls-verify: false\n  images:\n    syncref/app: [\"1\"]\n")
    mirror = ["sync", str(listing), "--registry", f"{front.host}/mirror", "--referrers", "--plain-http", "-q"]
    hoist(mirror, env)
    assert_carried(front.host, "mirror/syncref/app", subject, made, api=True)
    later = tmp_path / "later.json"
    later.write_text("{}")
    added = hoist(["attach", f"{plain}/syncref/app:1", str(later), "--artifact-type", "application/vnd.example.later",
                   "--plain-http", "-q"], env).stdout.strip().split("@")[1]
    hoist(mirror, env)
    assert added in {d["digest"] for d in front.referrers.listed("mirror/syncref/app", subject["digest"])}
