"""A profile's files on disk: its `.env` (the secrets, mode 0600) and writes that a crash can
never leave half done (a temporary file, then a rename)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path


def read_env(path: Path) -> dict[str, str]:
    """KEY=value lines of a .env (comments, blanks and `export ` skipped, quotes removed)."""
    if not path.exists():
        return {}
    found = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.strip().removeprefix("export ").partition("=")
        if sep and key and not key.startswith("#"):
            value = value.strip()
            found[key.strip()] = value[1:-1] if len(value) >= 2 and value[0] == value[-1] in "'\"" else value
    return found


def write_atomically(path: Path, text: str, mode: int = 0o644) -> bool:
    """Write `text` to `path` through a temporary file and a rename; False when it was already so."""
    if path.exists() and path.read_text() == text and (path.stat().st_mode & 0o777) == mode:
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def write_env(path: Path, values: Mapping[str, str]) -> bool:
    """The one writer of a profile's `.env` (templates, provisioner, binding): sorted, mode 0600."""
    text = "# Written by Twilight Drive. Secrets: never commit or share this file.\n"
    text += "".join(f"{key}={value}\n" for key, value in sorted(values.items()))
    return write_atomically(path, text, mode=0o600)
