"""Inputs written by other tools, made at test time: podman (daemonless, vfs storage), skopeo and umoci, plus
hand-made edge cases built from their output the way other tools write them (go-containerregistry's layouts,
archives whose config was renamed). Each input records the manifest digest it carries, where it has one."""
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile


def run(args, **kwargs):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layout_root(layout):
    """The digest of the one manifest or index an OCI layout's index.json lists."""
    with open(os.path.join(layout, "index.json")) as f:
        return json.load(f)["manifests"][0]["digest"]


def rootfs_tar(path, files):
    with tarfile.open(path, "w") as tar:
        for name, content in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(content), 1700000000, 0o644
            tar.addfile(info, io.BytesIO(content))


def one_layer_layout(folder, tar_bytes, layer, name, layer_type="application/vnd.oci.image.layer.v1.tar+gzip"):
    """Writes an OCI layout of one image (tagged `name`) whose one layer is `layer`: `tar_bytes`, compressed
    as `layer_type` says (or not)."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [sha256(tar_bytes)]}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": sha256(config), "size": len(config)},
                           "layers": [{"mediaType": layer_type, "digest": sha256(layer),
                                       "size": len(layer)}]}).encode()
    os.makedirs(os.path.join(folder, "blobs", "sha256"))
    for blob in (layer, config, manifest):
        with open(os.path.join(folder, "blobs", "sha256", sha256(blob)[7:]), "wb") as f:
            f.write(blob)
    with open(os.path.join(folder, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    with open(os.path.join(folder, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256(manifest),
             "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": name}}]}, f)


class Producers:
    """Every input, by name: `path`, and `digest` where the input carries a manifest it must keep."""

    def __init__(self, workdir):
        self.dir = workdir
        self.podman_args = ["podman", "--storage-driver", "vfs", "--root", os.path.join(workdir, "storage"),
                            "--runroot", os.path.join(workdir, "run"), "--events-backend", "none"]
        self.inputs = {}
        self.make_podman()
        self.make_skopeo()
        self.make_umoci()
        self.make_edge_cases()

    def path(self, name):
        return os.path.join(self.dir, name)

    def add(self, name, digest=None):
        self.inputs[name] = {"path": self.path(name), "digest": digest}

    def podman(self, *args):
        return run(self.podman_args + list(args))

    def make_podman(self):
        rootfs_tar(self.path("rootfs.tar"), {"etc/os-release": b"ID=hoist-test\n", "bin/tool": b"#!/bin/sh\n"})
        self.podman("import", self.path("rootfs.tar"), "localhost/base:1")
        context = self.path("context")
        os.makedirs(context)
        with open(os.path.join(context, "app.txt"), "w") as f:
            f.write("the application\n")
        with open(os.path.join(context, "Containerfile"), "w") as f:
            f.write("FROM localhost/base:1\nCOPY app.txt /app/app.txt\nLABEL org.example.role=test\nENV APP=1\n")
        self.podman("build", "-t", "localhost/app:1", context)
        self.podman("save", "--format", "docker-archive", "-o", self.path("podman-docker-archive.tar"), "localhost/app:1")
        self.podman("save", "--format", "oci-archive", "-o", self.path("podman-oci-archive.tar"), "localhost/app:1")
        self.podman("save", "--format", "oci-dir", "-o", self.path("podman-oci-dir"), "localhost/app:1")
        self.podman("save", "--format", "docker-dir", "-o", self.path("podman-docker-dir"), "localhost/app:1")
        self.podman("save", "-m", "--format", "docker-archive", "-o", self.path("podman-multi.tar"),
                    "localhost/app:1", "localhost/base:1")
        self.add("podman-docker-archive.tar")
        self.add("podman-multi.tar")
        self.add("podman-oci-dir", layout_root(self.path("podman-oci-dir")))
        self.add("podman-docker-dir", self.file_digest("podman-docker-dir/manifest.json"))
        with tarfile.open(self.path("podman-oci-archive.tar")) as tar:
            index = json.load(tar.extractfile("index.json"))
        self.add("podman-oci-archive.tar", index["manifests"][0]["digest"])

    def file_digest(self, name):
        with open(self.path(name), "rb") as f:
            return sha256(f.read())

    def make_skopeo(self):
        source = f"oci:{self.path('podman-oci-dir')}:localhost/app:1"
        for name, destination, extra in [
            ("skopeo-docker-archive.tar", "docker-archive:{}:localhost/app:1", []),
            ("skopeo-oci", "oci:{}:app", []),
            ("skopeo-oci-archive.tar", "oci-archive:{}:app", []),
            ("skopeo-dir", "dir:{}", []),
            ("skopeo-docker-dir", "dir:{}", ["--format", "v2s2"]),
            ("skopeo-zstd", "oci:{}:app", ["--dest-compress", "--dest-compress-format", "zstd"]),
        ]:
            run(["skopeo", "copy", "--quiet", *extra, source, destination.format(self.path(name))])
        self.add("skopeo-docker-archive.tar")
        self.add("skopeo-oci", layout_root(self.path("skopeo-oci")))
        self.add("skopeo-dir", self.file_digest("skopeo-dir/manifest.json"))
        self.add("skopeo-docker-dir", self.file_digest("skopeo-docker-dir/manifest.json"))
        self.add("skopeo-zstd", layout_root(self.path("skopeo-zstd")))
        with tarfile.open(self.path("skopeo-oci-archive.tar")) as tar:
            index = json.load(tar.extractfile("index.json"))
        self.add("skopeo-oci-archive.tar", index["manifests"][0]["digest"])

    def make_umoci(self):
        """umoci writes OCI manifests without a top-level mediaType, as the spec allows."""
        layout = self.path("umoci")
        run(["umoci", "init", "--layout", layout])
        run(["umoci", "new", "--image", f"{layout}:base"])
        run(["umoci", "insert", "--image", f"{layout}:base", self.path("context/app.txt"), "/app/app.txt"])
        self.add("umoci", layout_root(layout))
        with open(os.path.join(layout, "blobs", "sha256", layout_root(layout)[7:])) as f:
            self.inputs["umoci"]["config"] = json.load(f)["config"]["digest"]

    def make_edge_cases(self):
        self.make_ggcr_layout()
        self.make_renamed_config_archive()

    def make_ggcr_layout(self):
        """Layouts as go-containerregistry writes them: a Docker schema 2 manifest that index.json describes
        with the OCI manifest type, alone and under an OCI index (whose entry says OCI too)."""
        docker_dir = self.path("skopeo-docker-dir")
        with open(os.path.join(docker_dir, "manifest.json"), "rb") as f:
            manifest = f.read()
        for name, nested in [("ggcr-layout", False), ("ggcr-nested", True)]:
            layout = self.path(name)
            blobs = os.path.join(layout, "blobs", "sha256")
            os.makedirs(blobs)
            for entry in os.listdir(docker_dir):
                if len(entry) == 64:
                    shutil.copy(os.path.join(docker_dir, entry), os.path.join(blobs, entry))
            with open(os.path.join(blobs, sha256(manifest)[7:]), "wb") as f:
                f.write(manifest)
            entry = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256(manifest),
                     "size": len(manifest)}
            if nested:
                index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                                    "manifests": [dict(entry, platform={"os": "linux", "architecture": "amd64"})]},
                                   separators=(",", ":")).encode()
                with open(os.path.join(blobs, sha256(index)[7:]), "wb") as f:
                    f.write(index)
                entry = {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": sha256(index),
                         "size": len(index)}
            with open(os.path.join(layout, "oci-layout"), "w") as f:
                f.write('{"imageLayoutVersion":"1.0.0"}')
            with open(os.path.join(layout, "index.json"), "w") as f:
                json.dump({"schemaVersion": 2, "manifests": [entry]}, f)
            self.add(name, entry["digest"])

    def make_renamed_config_archive(self):
        """A Docker 24-style archive whose config member is not named by its digest (an edited archive)."""
        original = self.path("podman-docker-archive.tar")
        renamed = self.path("renamed-config.tar")
        with tarfile.open(original) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))
            old = manifest[0]["Config"]
            manifest[0]["Config"] = "f" * 64 + ".json"
            with tarfile.open(renamed, "w") as out:
                for member in tar.getmembers():
                    if member.name == "manifest.json":
                        data = json.dumps(manifest).encode()
                        info = tarfile.TarInfo("manifest.json")
                        info.size = len(data)
                        out.addfile(info, io.BytesIO(data))
                    elif member.name == old:
                        content = tar.extractfile(member)
                        member.name = manifest[0]["Config"]
                        out.addfile(member, content)
                    else:
                        out.addfile(member, tar.extractfile(member) if member.isfile() else None)
        self.add("renamed-config.tar")

    def config_digest(self):
        """The config digest every podman and skopeo input shares (the app image)."""
        with open(os.path.join(self.path("skopeo-dir"), "manifest.json")) as f:
            return json.load(f)["config"]["digest"]

    def stop(self):
        subprocess.run(self.podman_args + ["system", "reset", "--force"], capture_output=True)
