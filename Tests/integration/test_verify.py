"""hoist verify: a bundle checked offline, every blob against its digest and every manifest against what it
names; a flipped byte, a cut file, a missing blob and a manifest naming an absent blob are each found by
name, and a sound bundle with referrers passes."""
import json
import os
import shutil
import tarfile

from conftest import TESTDATA, hoist
from test_referrers import MULTIARCH, signed_image


def verify(paths, env, json_output=False):
    return hoist(["verify", *paths] + (["--json"] if json_output else []), env, check=False)


def test_a_bundle_with_referrers_is_sound_and_summarised(services, env, tmp_path):
    plain = services.plain.host
    signed_image(plain, "ver/app", api=False, env=env)
    signed_image(plain, "ver/base", api=False, env=env, source=MULTIARCH)
    bundle = tmp_path / "bundle.tar"
    hoist(["pull", f"{plain}/ver/app:1", f"{plain}/ver/base:1", "--all-platforms", "--output", str(bundle),
           "--format", "oci-archive", "--referrers", "--plain-http", "-q"], env)
    result = verify([str(bundle)], env, json_output=True)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)[0]
    assert report["sound"] and report["problems"] == []
    assert sorted(image["name"] for image in report["images"]) == [f"{plain}/ver/app:1", f"{plain}/ver/base:1"]
    assert report["referrers"] >= 8 and report["platforms"] == ["linux/amd64", "linux/arm64/v8"]
    assert report["bytes"] > 0 and report["blobs"] > 0
    text = verify([str(bundle)], env)
    assert text.returncode == 0 and text.stdout.startswith(f"{bundle}: sound: 2 images")


def test_each_kind_of_damage_is_named(env, tmp_path):
    layout = os.path.join(TESTDATA, "oci-layout")
    with open(os.path.join(layout, "index.json")) as f:
        manifest_digest = json.load(f)["manifests"][0]["digest"]
    blobs = sorted(os.listdir(os.path.join(layout, "blobs", "sha256")),
                   key=lambda name: -os.path.getsize(os.path.join(layout, "blobs", "sha256", name)))
    largest = blobs[0]
    cases = {}
    for case in ("flipped", "truncated", "missing"):
        target = tmp_path / case
        shutil.copytree(layout, target)
        cases[case] = target
    path = cases["flipped"] / "blobs" / "sha256" / largest
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    path = cases["truncated"] / "blobs" / "sha256" / largest
    path.write_bytes(path.read_bytes()[:1000])
    os.remove(cases["missing"] / "blobs" / "sha256" / largest)

    flipped = verify([str(cases["flipped"])], env)
    assert flipped.returncode == 1 and f"blob sha256:{largest}: its content hashes to" in flipped.stderr
    truncated = verify([str(cases["truncated"])], env)
    assert truncated.returncode == 1 and "the bundle holds 1000" in truncated.stderr
    missing = verify([str(cases["missing"])], env)
    assert missing.returncode == 1
    assert f"manifest {manifest_digest} names sha256:{largest}" in missing.stderr
    assert "which is not in the bundle" in missing.stderr

    # A tar cut short is named too, and the next file is still checked.
    cut = tmp_path / "cut.tar"
    cut.write_bytes(open(os.path.join(TESTDATA, "oci-layout.tar"), "rb").read()[:50000])
    both = verify([str(cut), layout], env)
    assert both.returncode == 1 and "truncated" in both.stderr and f"{layout}: sound" in both.stdout


def test_a_docker_archive_layer_is_checked_against_its_diff_id(env, tmp_path):
    archive = tmp_path / "edited.tar"
    shutil.copy(os.path.join(TESTDATA, "docker-legacy.tar"), archive)
    with tarfile.open(archive) as listing:
        layer = next(m for m in listing.getmembers() if m.name.endswith("layer.tar"))
    data = bytearray(archive.read_bytes())
    data[layer.offset_data + layer.size // 2] ^= 0x01
    archive.write_bytes(bytes(data))
    result = verify([str(archive)], env)
    assert result.returncode == 1 and f"({layer.name}) hashes to sha256:" in result.stderr
    assert "its config's diffID is sha256:" in result.stderr
    for sound in ("docker-legacy.tar", "docker-25.tar", "containerd.tar", "multiarch", "skopeo.tar"):
        assert verify([os.path.join(TESTDATA, sound)], env).returncode == 0, sound


def two_releases(first, second, size, env, tmp_path):
    """Release 1 (the OCI layout fixture) at `first`, and release 2 at `second`: release 1 and a layer of
    `size` random bytes."""
    hoist(["push", os.path.join(TESTDATA, "oci-layout"), first, "--plain-http", "-q"], env)
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "release.txt").write_bytes(os.urandom(size))
    hoist(["append", first, second, "--layer", f"{folder}:/srv", "--plain-http", "-q"], env)


def test_a_delta_bundle_carries_only_what_changed_and_pushes_only_onto_its_base(services, env, tmp_path):
    """Release 2 adds one layer to release 1: the delta holds that layer, the new config and the manifest,
    and leaves out release 1's three layers;
    pushed where release 1 is, it gives the digest the full bundle gives; pushed where it is not, it fails
    before any manifest, naming what is missing."""
    plain = services.plain.host
    two_releases(f"{plain}/delta/app:1", f"{plain}/delta/app:2", 200_000, env, tmp_path)
    full1, full2, delta = tmp_path / "full1.tar", tmp_path / "full2.tar", tmp_path / "delta.tar"
    for image, out in ((f"{plain}/delta/app:1", full1), (f"{plain}/delta/app:2", full2)):
        hoist(["pull", image, str(out), "--format", "oci-archive", "--plain-http", "-q"], env)
    made = hoist(["pull", f"{plain}/delta/app:2", str(delta), "--format", "oci-archive", "--since", str(full1),
                  "--plain-http", "-q"], env)
    digest2 = made.stdout.split("@")[1].split()[0]
    # The delta holds the new layer, the new config and the manifest; nothing else.
    with tarfile.open(delta) as bundle:
        blobs = [m for m in bundle.getmembers() if m.name.startswith("blobs/sha256/") and m.isfile()]
        record = json.load(bundle.extractfile("hoist-delta.json"))
    assert len(blobs) == 3 and record["since"] == [str(full1)] and len(record["omitted"]) == 3
    assert os.path.getsize(delta) < 200_000 + 60_000 < os.path.getsize(full2)
    checked = verify([str(delta), "--base", str(full1)], env)
    assert checked.returncode == 0 and "a delta since" in checked.stderr, checked.stderr
    # Onto its base: the same digest as the full bundle's.
    hoist(["push", str(full1), f"{plain}/inside/app:1", "--plain-http", "-q"], env)
    # Where the bundles are not kept, an inventory of the isolated registry serves as the base.
    inventory = tmp_path / "have.json"
    hoist(["inventory", f"{plain}/inside", "--output", str(inventory), "--plain-http"], env)
    with open(inventory) as f:
        listed = {blob["digest"] for blob in json.load(f)["blobs"]}
    assert {blob["digest"] for blob in record["omitted"]} <= listed
    again = tmp_path / "again.tar"
    hoist(["pull", f"{plain}/delta/app:2", str(again), "--format", "oci-archive", "--since", str(inventory),
           "--plain-http", "-q"], env)
    with tarfile.open(again) as bundle:
        assert len([m for m in bundle.getmembers() if m.name.startswith("blobs/sha256/") and m.isfile()]) == 3
    pushed = hoist(["push", str(delta), f"{plain}/inside/app:2", "--plain-http", "-q"], env)
    assert pushed.stdout.split("@")[1].strip() == digest2
    full = hoist(["push", str(full2), f"{plain}/whole/app:2", "--plain-http", "-q"], env)
    assert full.stdout.split("@")[1].strip() == digest2
    # Where the base is not: one error naming the missing blobs, and no manifest written.
    refused = hoist(["push", str(delta), f"{plain}/elsewhere/app:2", "--plain-http", "-q", "--no-cache"], env,
                    check=False)
    assert refused.returncode == 66 and "leaves out 3 blob(s) its destination lacks" in refused.stderr
    assert all(blob["digest"] in refused.stderr for blob in record["omitted"])
    assert services.plain.manifest_exists("elsewhere/app", "2") is False
    # Where hoist remembers pushing the left-out blobs (the blob-info cache), they are mounted from there.
    mounts_before = services.plain.count_requests("POST", "mount=")
    mounted = hoist(["push", str(delta), f"{plain}/elsewhere/app:2", "--plain-http", "-q"], env)
    assert mounted.stdout.split("@")[1].strip() == digest2
    assert services.plain.count_requests("POST", "mount=") >= mounts_before + 3


def test_a_delta_whose_base_went_to_another_repository_mounts_from_there(services, env, tmp_path):
    """Issue 34: v1.tar (image src/app:1) pushed under --registry R, then a delta of rel/app:2 made --since
    v1.tar pushed under the same R: the left-out blobs are in R/src/app and are mounted, not refused (no
    blob-info cache, so only the base bundle's names can say where)."""
    plain = services.plain.host
    two_releases(f"{plain}/src/app:1", f"{plain}/rel/app:2", 100_000, env, tmp_path)
    v1, delta = tmp_path / "v1.tar", tmp_path / "delta.tar"
    hoist(["pull", f"{plain}/src/app:1", str(v1), "--format", "oci-archive", "--plain-http", "-q"], env)
    made = hoist(["pull", f"{plain}/rel/app:2", str(delta), "--since", str(v1), "--plain-http"], env)
    # A delta NAME.tar is an OCI tar by itself (docker load would need the left-out blobs), and says so.
    assert f"{delta} is written as an OCI tar (oci-archive)" in made.stderr
    with tarfile.open(delta) as bundle:
        record = json.load(bundle.extractfile("hoist-delta.json"))
        assert "manifest.json" not in bundle.getnames() and "oci-layout" in bundle.getnames()
    assert record["baseImages"] == [f"{plain}/src/app:1"]
    mirror = f"{plain}/mirror"
    hoist(["push", str(v1), "--registry", mirror, "--plain-http", "-q", "--no-cache"], env)
    pushed = hoist(["push", str(delta), "--registry", mirror, "--plain-http", "-q", "--no-cache"], env)
    assert pushed.stdout.strip() == f"{mirror}/rel/app:2@" + made.stdout.split("@")[1].split()[0]
    assert services.plain.manifest_exists("mirror/rel/app", "2")


def test_a_bundle_split_into_parts_is_verified_and_pushed_from_its_first_part(services, env, tmp_path):
    """--max-file-size writes NAME.001, NAME.002, … each within the limit; verify and push read the parts
    as one, without joining them, and the image arrives with the digest it had."""
    import subprocess
    plain = services.plain.host
    subprocess.run([os.path.join(os.path.dirname(TESTDATA), "scripts", "make-fixtures"), "--big", "3",
                    str(tmp_path)], check=True)
    source = hoist(["push", str(tmp_path / "big.tar"), f"{plain}/parts/app:1", "--plain-http", "-q"], env)
    digest = source.stdout.split("@")[1].strip()
    bundle = tmp_path / "bundle.tar"
    hoist(["pull", f"{plain}/parts/app:1", "--output", str(bundle), "--format", "oci-archive", "--max-file-size", "1MiB", "--plain-http", "-q"],
          env)
    parts = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("bundle.tar."))
    assert len(parts) >= 3 and parts[0] == "bundle.tar.001" and not bundle.exists()
    assert all(os.path.getsize(tmp_path / p) <= 1 << 20 for p in parts)
    checked = verify([str(tmp_path / "bundle.tar.001")], env)
    assert checked.returncode == 0, checked.stderr
    pushed = hoist(["push", str(tmp_path / "bundle.tar.001"), "--registry", f"{plain}/split", "--plain-http", "-q"],
                   env)
    assert pushed.stdout.split("@")[1].strip() == digest
    refused = hoist(["pull", f"{plain}/parts/app:1", str(tmp_path / "layout"), "--max-file-size", "1MiB",
                     "--plain-http", "-q"], env, check=False)
    assert refused.returncode == 64 and "--max-file-size splits a tar" in refused.stderr
