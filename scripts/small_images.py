"""Many small images in a registry, written straight through the distribution API: the source of mirror
tests and of `scripts/bench --cases mirror-*`. Every image of the list has a base layer all share, a layer
its repository's images share and one of its own, so a mirror has blobs to send once and mount elsewhere.

  python3 scripts/small_images.py HOST PREFIX REPOSITORIES TAGS   (prints the skopeo sync YAML for them)
"""
import gzip
import hashlib
import http.client
import io
import json
import random
import sys
import tarfile


def layer(name, size, seed):
    """A gzip'd tar holding one file of `size` random bytes: (blob, diffID)."""
    data = random.Random(seed).randbytes(size)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mtime = len(data), 1704067200
        tar.addfile(info, io.BytesIO(data))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), "sha256:" + hashlib.sha256(tar_bytes).hexdigest()


class Writer:
    """Puts blobs and manifests into one registry over one kept-alive plain HTTP connection."""

    def __init__(self, host):
        self.connection = http.client.HTTPConnection(host)
        self.seen = set()

    def request(self, method, path, body=None, headers=None):
        self.connection.request(method, path, body=body, headers=headers or {})
        response = self.connection.getresponse()
        payload = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:200]!r}")
        return response

    def blob(self, repository, data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if (repository, digest) not in self.seen:
            location = self.request("POST", f"/v2/{repository}/blobs/uploads/").getheader("Location")
            path = location.split("://", 1)[-1].split("/", 1)[-1] if "://" in location else location.lstrip("/")
            separator = "&" if "?" in path else "?"
            self.request("PUT", f"/{path}{separator}digest={digest}", data,
                         {"Content-Type": "application/octet-stream", "Content-Length": str(len(data))})
            self.seen.add((repository, digest))
        return {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": len(data)}

    def image(self, repository, tag, layers):
        """Pushes an image of `layers` ((blob, diffID) pairs); returns its manifest digest."""
        descriptors = [self.blob(repository, blob) for blob, _ in layers]
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "rootfs": {"type": "layers", "diff_ids": [d for _, d in layers]},
                             "config": {"Labels": {"image": f"{repository}:{tag}"}}}, sort_keys=True).encode()
        config_descriptor = dict(self.blob(repository, config), mediaType="application/vnd.oci.image.config.v1+json")
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "config": config_descriptor, "layers": descriptors}, sort_keys=True).encode()
        self.request("PUT", f"/v2/{repository}/manifests/{tag}", manifest,
                     {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
        return "sha256:" + hashlib.sha256(manifest).hexdigest()


def make_images(host, prefix, repositories, tags, base_size=256 << 10, repository_size=64 << 10,
                own_size=8 << 10):
    """Pushes `repositories` × `tags` images under PREFIX/appNN:1.0.T; returns {"PREFIX/appNN": {tag: digest}}."""
    writer = Writer(host)
    base = layer("base.bin", base_size, 0)
    made = {}
    for r in range(repositories):
        repository = f"{prefix}/app{r:02}"
        shared = layer("shared.bin", repository_size, f"{prefix}/{r}")
        made[repository] = {}
        for t in range(tags):
            own = layer("own.bin", own_size, f"{repository}:{t}")
            made[repository][f"1.0.{t}"] = writer.image(repository, f"1.0.{t}", [base, shared, own])
    return made


def sync_yaml(host, made):
    """A skopeo sync YAML list of every repository with every tag (an empty list: all of them)."""
    lines = [f"{host}:", "  tls-verify: false", "  images:"]
    lines += [f"    {repository}: []" for repository in sorted(made)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    host, prefix, repositories, tags = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    print(sync_yaml(host, make_images(host, prefix, repositories, tags)), end="")
