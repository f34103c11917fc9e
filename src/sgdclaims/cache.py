"""On-disk result cache: one checksummed file per finished unit (seed), written atomically.

A file is `MAGIC` + sha256 of the payload + the pickled payload. It is written to a
temporary name in the same folder, fsynced and renamed, so a killed run never leaves a
half-written file under a valid name; a file whose checksum or schema does not match is an
error (CorruptCacheEntry), never read.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

MAGIC = b"SGDCLAIMS-CACHE-1\n"
SCHEMA = 1


def default_cache_root() -> Path:
    """Cache folder: env SGDCLAIMS_CACHE, else ~/.cache/sgdclaims/results."""
    env = os.environ.get("SGDCLAIMS_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "sgdclaims" / "results"


class CorruptCacheEntry(Exception):
    """A cache file exists but fails its checksum or schema check: an error, never a result.
    The message names the file; deleting it makes the next run recompute that unit."""

    def __init__(self, message: str) -> None:
        super().__init__(f"{message}; delete the file to recompute this unit")


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes to `path` via a fsynced temporary file and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def dump_entry(path: Path, payload: Any) -> None:
    """Store `payload` (any picklable object) with its checksum, atomically."""
    body = pickle.dumps({"schema": SCHEMA, "payload": payload}, protocol=pickle.HIGHEST_PROTOCOL)
    digest = hashlib.sha256(body).hexdigest().encode()
    write_atomic(path, MAGIC + digest + b"\n" + body)


def load_entry(path: Path) -> Any:
    """Read a payload written by `dump_entry`; raise CorruptCacheEntry if it does not check."""
    raw = path.read_bytes()
    header_len = len(MAGIC) + 65
    if not raw.startswith(MAGIC) or len(raw) < header_len:
        raise CorruptCacheEntry(f"{path}: not a sgdclaims cache file (bad header)")
    digest = raw[len(MAGIC) : header_len - 1].decode(errors="replace")
    body = raw[header_len:]
    if hashlib.sha256(body).hexdigest() != digest:
        raise CorruptCacheEntry(f"{path}: checksum mismatch (truncated or modified)")
    try:
        record = pickle.loads(body)
    except Exception as exc:  # a checksum collision is not expected; be safe anyway
        raise CorruptCacheEntry(f"{path}: unreadable payload ({exc})") from exc
    schema = record.get("schema") if isinstance(record, dict) else None
    if schema != SCHEMA:
        raise CorruptCacheEntry(f"{path}: schema {schema!r} != {SCHEMA}")
    return record["payload"]
