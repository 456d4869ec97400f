"""Reading a ``.keras`` zip without trusting it.

The central directory is checked as a whole before any member is inflated: the number of members,
their names (nothing that climbs out with ``..`` or starts at a root), encryption, and the sum of
the sizes they declare. The declared sizes can lie, so each member is inflated in bounded chunks
and the bytes actually produced are counted against the same budget; a member that produces more
than it declared is refused as soon as it does.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterable

from ._keras_errors import damaged, not_a_model, too_large

_CHUNK = 1 << 16


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB" if n >= 1 << 20 else f"{n} bytes"


def _check_name(name: str) -> None:
    parts = name.replace("\\", "/").split("/")
    if (name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":")
            or "\x00" in name):
        shown = name if len(name) <= 80 else name[:77] + "..."
        raise damaged(f"the .keras zip holds a member named {shown!r} whose path leaves the "
                      "archive (absolute, a drive letter or '..'): refused without extracting "
                      "anything")


def open_zip(data: bytes, *, max_members: int, max_expanded_bytes: int) -> zipfile.ZipFile:
    """The archive with its directory checked: member count, names, declared sizes."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as err:
        raise not_a_model(f"the file starts like a zip but its directory cannot be read "
                          f"(truncated or damaged: {err})") from err
    if len(infos) > max_members:
        raise damaged(f"the .keras zip holds {len(infos)} members, more than the "
                      f"{max_members} allowed (a Keras file has three or four)")
    declared = 0
    seen: set[str] = set()
    for info in infos:
        _check_name(info.filename)
        if info.filename in seen:
            raise damaged(f"the .keras zip holds {info.filename!r} twice: which one is meant "
                          "cannot be known, so the file is refused")
        seen.add(info.filename)
        if info.flag_bits & 0x1:
            raise damaged(f"the .keras zip member {info.filename!r} is encrypted; Keras never "
                          "encrypts its files")
        declared += info.file_size
    if declared > max_expanded_bytes:
        raise too_large(f"the .keras zip declares {_mib(declared)} once expanded, more than the "
                        f"{_mib(max_expanded_bytes)} allowed (a zip bomb, or a model too large "
                        "for Svertka)")
    return archive


def read_members(archive: zipfile.ZipFile, names: Iterable[str], *,
                 max_expanded_bytes: int) -> dict[str, bytes]:
    """The named members' bytes, counting what inflation really produces against the budget."""
    budget = max_expanded_bytes
    out: dict[str, bytes] = {}
    for name in names:
        info = archive.getinfo(name)
        chunks: list[bytes] = []
        produced = 0
        try:
            with archive.open(info) as member:
                while chunk := member.read(_CHUNK):
                    produced += len(chunk)
                    if produced > info.file_size or produced > budget:
                        limit = min(info.file_size, budget)
                        raise too_large(
                            f"the .keras zip member {name!r} expands past "
                            f"{_mib(limit)} (it declared {_mib(info.file_size)}): a zip bomb, "
                            "refused while inflating")
                    chunks.append(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError,
                RuntimeError) as err:
            raise not_a_model(f"the .keras zip member {name!r} cannot be read (truncated or "
                              f"damaged: {err})") from err
        budget -= produced
        out[name] = b"".join(chunks)
    return out


def member_names(archive: zipfile.ZipFile) -> list[str]:
    """Every member's name, as stored."""
    return archive.namelist()
