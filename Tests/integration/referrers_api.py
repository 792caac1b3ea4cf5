"""The OCI 1.1 referrers API, for fronts in front of a registry that lacks it (distribution 2.8): manifests
PUT through the front that name a subject are indexed (and the PUT answered with OCI-Subject), and
GET /v2/<name>/referrers/<digest> lists them, with the artifactType filter and Link pages."""
import hashlib
import json
import re
import threading
import urllib.parse

LISTING = re.compile(r"^/v2/(.+)/referrers/(sha256:[0-9a-f]{64})(?:\?(.*))?$")
MANIFEST = re.compile(r"^/v2/(.+)/manifests/([^?]+)")
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"


class ReferrersIndex:
    def __init__(self, page_size=2):
        self.page_size = page_size
        self.lock = threading.Lock()
        self.entries = {}  # (repository, subject digest) -> {digest: descriptor}
        self.injected = {}  # (repository, subject digest) -> [descriptor], listed but never pushed
        self.flood = False  # every listing pages on forever with made-up entries: a hostile registry
        self.queries = []

    def listing(self, method, path):
        """(status, headers, payload) for a referrers API request, else None."""
        match = LISTING.match(path)
        if method != "GET" or not match:
            return None
        repository, subject, query = match.group(1), match.group(2), urllib.parse.parse_qs(match.group(3) or "")
        self.queries.append(path)
        start = int(query.get("last", ["0"])[0])
        if self.flood:
            made_up = [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 100,
                        "digest": "sha256:" + hashlib.sha256(f"{subject}{start + n}".encode()).hexdigest(),
                        "artifactType": "application/vnd.example.flood"} for n in range(1000)]
            link = f'</v2/{repository}/referrers/{subject}?last={start + 1000}>; rel="next"'
            return 200, {"Content-Type": INDEX_TYPE, "Link": link}, self.page(made_up)
        with self.lock:
            listed = list(self.entries.get((repository, subject), {}).values())
            listed += self.injected.get((repository, subject), [])
        headers = {"Content-Type": INDEX_TYPE}
        wanted = query.get("artifactType", [None])[0]
        if wanted:
            listed = [d for d in listed if d.get("artifactType") == wanted]
            headers["OCI-Filters-Applied"] = "artifactType"
        page = listed[start:start + self.page_size]
        if start + self.page_size < len(listed):
            suffix = f"&artifactType={urllib.parse.quote(wanted, safe='')}" if wanted else ""
            headers["Link"] = f'</v2/{repository}/referrers/{subject}?last={start + self.page_size}{suffix}>; rel="next"'
        return 200, headers, self.page(page)

    @staticmethod
    def page(manifests):
        return json.dumps({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": manifests}).encode()

    def note(self, method, path, status, body, content_type):
        """Indexes a stored manifest that names a subject, forgets a deleted one; returns the headers to add."""
        match = MANIFEST.match(path)
        if not match:
            return {}
        repository, reference = match.group(1), match.group(2)
        if method == "DELETE" and status == 202:
            with self.lock:
                for (repo, _), listed in self.entries.items():
                    if repo == repository:
                        listed.pop(reference, None)
            return {}
        if method != "PUT" or status != 201:
            return {}
        try:
            document = json.loads(body)
        except ValueError:
            return {}
        subject = (document.get("subject") or {}).get("digest")
        if not subject:
            return {}
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        descriptor = {"mediaType": document.get("mediaType") or content_type, "digest": digest, "size": len(body)}
        artifact_type = document.get("artifactType") or (document.get("config") or {}).get("mediaType")
        if artifact_type:
            descriptor["artifactType"] = artifact_type
        if document.get("annotations"):
            descriptor["annotations"] = document["annotations"]
        with self.lock:
            self.entries.setdefault((repository, subject), {})[digest] = descriptor
        return {"OCI-Subject": subject}

    def listed(self, repository, subject):
        with self.lock:
            return list(self.entries.get((repository, subject), {}).values())
