"""Reads SOCI indexes as the SOCI snapshotter does, to judge what hoist writes: the zTOC through a reader
flatc generates from the format's schema (testdata/soci/ztoc.fbs), its file table against Python's tarfile,
and every checkpoint by inflating the layer from it with zlib itself (ctypes: raw inflate, the leftover bits
primed, the window set as dictionary), as soci-snapshotter's gzip_zinfo.c does."""
import ctypes
import ctypes.util
import gzip
import hashlib
import importlib
import io
import os
import struct
import subprocess
import sys
import tarfile
import tempfile

SCHEMA = os.path.join(os.path.dirname(__file__), "..", "..", "testdata", "soci", "ztoc.fbs")
WINDOW = 32768
_generated = None


def _reader():
    """The Ztoc class flatc generates from the schema (once per test run)."""
    global _generated
    if _generated is None:
        out = tempfile.mkdtemp(prefix="hoist-flatc-")
        subprocess.run(["flatc", "--python", "-o", out, SCHEMA], check=True, capture_output=True)
        sys.path.insert(0, out)
        _generated = importlib.import_module("ztoc.Ztoc").Ztoc
    return _generated


def _text(value):
    return value.decode() if value is not None else ""


def read_ztoc(data):
    """A zTOC as a dict: its fields, entries and checkpoints."""
    root = _reader().GetRootAs(data, 0)
    toc, info = root.Toc(), root.CompressionInfo()
    entries = []
    for i in range(toc.MetadataLength()):
        m = toc.Metadata(i)
        xattrs = {}
        for j in range(m.XattrsLength()):
            x = m.Xattrs(j)
            xattrs[_text(x.Key())] = _text(x.Value())
        entries.append({
            "name": _text(m.Name()), "type": _text(m.Type()), "offset": m.UncompressedOffset(),
            "size": m.UncompressedSize(), "linkname": _text(m.Linkname()), "mode": m.Mode(), "uid": m.Uid(),
            "gid": m.Gid(), "uname": _text(m.Uname()), "gname": _text(m.Gname()), "mod_time": _text(m.ModTime()),
            "devmajor": m.Devmajor(), "devminor": m.Devminor(), "xattrs": xattrs})
    return {
        "version": _text(root.Version()), "tool": _text(root.BuildToolIdentifier()),
        "compressed_size": root.CompressedArchiveSize(), "uncompressed_size": root.UncompressedArchiveSize(),
        "algorithm": info.CompressionAlgorithm(), "max_span_id": info.MaxSpanId(),
        "span_digests": [_text(info.SpanDigests(i)) for i in range(info.SpanDigestsLength())],
        "checkpoints": parse_checkpoints(_checkpoint_bytes(info)), "entries": entries}


def _checkpoint_bytes(info):
    """The checkpoints vector ([ubyte], field 3) as bytes, read in one slice rather than byte by byte."""
    field = info._tab.Offset(4 + 2 * 3)
    assert field, "the zTOC has no checkpoints"
    start = info._tab.Vector(field)
    return bytes(info._tab.Bytes[start:start + info._tab.VectorLen(field)])


def parse_checkpoints(blob):
    """soci-snapshotter's zinfo blob, version 2: count, span, then (in, out, bits, window) each."""
    count, span = struct.unpack_from("<IQ", blob, 0)
    size = 8 + 8 + 1 + WINDOW
    assert len(blob) == 12 + count * size, f"zinfo blob of {len(blob)} bytes for {count} checkpoints"
    points = []
    for i in range(count):
        base = 12 + i * size
        compressed, uncompressed, bits = struct.unpack_from("<QQB", blob, base)
        points.append({"in": compressed, "out": uncompressed, "bits": bits, "window": blob[base + 17:base + size]})
    return {"span": span, "points": points}


class _ZStream(ctypes.Structure):
    _fields_ = [("next_in", ctypes.c_void_p), ("avail_in", ctypes.c_uint), ("total_in", ctypes.c_ulong),
                ("next_out", ctypes.c_void_p), ("avail_out", ctypes.c_uint), ("total_out", ctypes.c_ulong),
                ("msg", ctypes.c_char_p), ("state", ctypes.c_void_p), ("zalloc", ctypes.c_void_p),
                ("zfree", ctypes.c_void_p), ("opaque", ctypes.c_void_p), ("data_type", ctypes.c_int),
                ("adler", ctypes.c_ulong), ("reserved", ctypes.c_ulong)]


_zlib = ctypes.CDLL(ctypes.util.find_library("z"))
_zlib.zlibVersion.restype = ctypes.c_char_p


def gzip_header_length(data):
    """The length of the gzip member header at the start of `data` (RFC 1952), or None if none is there."""
    if len(data) < 10 or data[:3] != b"\x1f\x8b\x08":
        return None
    flags, length = data[3], 10
    if flags & 4:
        length += 2 + int.from_bytes(data[10:12], "little")
    for flag in (8, 16):
        if flags & flag:
            end = data.find(b"\0", length)
            if end < 0:
                return None
            length = end + 1
    return length + (2 if flags & 2 else 0)


def inflate_from(compressed, point, want):
    """Up to `want` bytes inflated from a checkpoint: `compressed` starts at the byte holding its leftover
    bits (if any), then raw deflate; the window is the dictionary. At the end of a gzip member it reads on
    into the next one (past the trailer and the next header), as the snapshotter does."""
    stream = _ZStream()
    assert _zlib.inflateInit2_(ctypes.byref(stream), -15, _zlib.zlibVersion(), ctypes.sizeof(stream)) == 0
    start = 0
    if point["bits"]:
        _zlib.inflatePrime(ctypes.byref(stream), point["bits"], compressed[0] >> (8 - point["bits"]))
        start = 1
    window = ctypes.create_string_buffer(point["window"], WINDOW)
    assert _zlib.inflateSetDictionary(ctypes.byref(stream), window, WINDOW) == 0
    rest, produced = compressed[start:], b""
    while len(produced) < want and rest:
        source = ctypes.create_string_buffer(rest, len(rest))
        out = ctypes.create_string_buffer(want - len(produced))
        stream.next_in, stream.avail_in = ctypes.addressof(source), len(rest)
        stream.next_out, stream.avail_out = ctypes.addressof(out), want - len(produced)
        status = 0
        while stream.avail_out > 0 and status == 0:
            status = _zlib.inflate(ctypes.byref(stream), 0)
            assert status in (0, 1), f"zlib status {status} inflating from checkpoint at {point['in']}"
            if status == 0 and stream.avail_in == 0:
                break
        produced += out.raw[:want - len(produced) - stream.avail_out]
        if status != 1:
            break
        rest = rest[len(rest) - stream.avail_in + 8:]
        header = gzip_header_length(rest)
        if header is None:
            break
        rest = rest[header:]
        _zlib.inflateReset(ctypes.byref(stream))
    _zlib.inflateEnd(ctypes.byref(stream))
    return produced


def tar_members(tar_bytes):
    """Python tarfile's view of a tar: name (as stored, directories without their slash), type, data offset,
    size, link, PAX records; and where its archive ends (after two zero blocks)."""
    kinds = {tarfile.REGTYPE: "reg", tarfile.AREGTYPE: "reg", tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink",
             tarfile.LNKTYPE: "hardlink", tarfile.CHRTYPE: "char", tarfile.BLKTYPE: "block", tarfile.FIFOTYPE: "fifo"}
    members = []
    with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as tar:
        for member in tar:
            members.append({"name": member.name, "type": kinds[member.type], "offset": member.offset_data,
                            "size": member.size, "linkname": member.linkname, "mode": member.mode,
                            "uid": member.uid, "gid": member.gid, "pax": dict(member.pax_headers)})
    return members


def check_layer(layer, ztoc_bytes, span=None):
    """Everything the snapshotter relies on in a layer's zTOC; returns the zTOC read."""
    ztoc = read_ztoc(ztoc_bytes)
    tar_bytes = gzip.decompress(layer)
    assert ztoc["version"] == "0.9"
    assert ztoc["algorithm"] == 1
    assert ztoc["compressed_size"] == len(layer)
    points = ztoc["checkpoints"]["points"]
    assert ztoc["max_span_id"] == len(points) - 1 >= 0
    assert len(ztoc["span_digests"]) == len(points)
    if span is not None:
        assert ztoc["checkpoints"]["span"] == span

    # The file table: Python's tarfile sees the same members at the same offsets.
    members = tar_members(tar_bytes)
    assert [(e["name"].rstrip("/"), e["type"], e["offset"], e["size"]) for e in ztoc["entries"]] == \
        [(m["name"], m["type"], m["offset"], m["size"]) for m in members]
    for entry, member in zip(ztoc["entries"], members):
        assert (entry["linkname"], entry["mode"], entry["uid"], entry["gid"]) == \
            (member["linkname"], member["mode"], member["uid"], member["gid"])
        assert entry["xattrs"] == member["pax"]
    last = members[-1] if members else None
    end = 0 if last is None else last["offset"] + (0 if last["type"] != "reg" else (last["size"] + 511) // 512 * 512)
    assert ztoc["uncompressed_size"] in (end + 1024, len(tar_bytes))

    # The checkpoints: ascending, and from each one zlib inflates exactly that span of the tar.
    outs = [p["out"] for p in points] + [len(tar_bytes)]
    assert outs == sorted(outs) and points[0]["out"] == 0
    for i, point in enumerate(points):
        start = point["in"] - (1 if point["bits"] else 0)
        end_in = points[i + 1]["in"] if i + 1 < len(points) else len(layer)
        span_bytes = layer[start:end_in]
        assert ztoc["span_digests"][i] == "sha256:" + hashlib.sha256(span_bytes).hexdigest(), f"span {i} digest"
        want = outs[i + 1] - outs[i]
        assert inflate_from(span_bytes, point, want) == tar_bytes[outs[i]:outs[i + 1]], f"span {i} inflates wrong"
    return ztoc
