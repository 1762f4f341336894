"""Three-way merge of hermes profile files for the git registry sync.

When two hosts changed the same profile, a plain "last writer wins" would silently drop one host's edits, and a
textual merge of YAML produces broken configs. So files are merged against their common ancestor: YAML by key
(non-conflicting edits on both sides all survive), persona files (SOUL.md, AGENTS.md) keep the local text and
report the remote one, everything else is taken from whichever side changed it. Anything both sides changed
differently is a conflict, and the caller aborts the sync naming every conflict rather than writing half a merge.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Final

import yaml

YAML_SUFFIXES: Final = frozenset({".yaml", ".yml"})
KEEP_LOCAL_NAMES: Final = frozenset({"SOUL.md", "AGENTS.md"})

# A key (or whole document) that does not exist on one side; distinct from YAML null.
_MISSING: Final = object()


class Policy(enum.StrEnum):
    """How a file is merged when both sides changed it."""

    YAML_KEYS = "yaml-keys"  # merge by key; differing edits of one key conflict
    KEEP_LOCAL = "keep-local"  # keep ours, report theirs as set aside
    WHOLE_FILE = "whole-file"  # differing edits of the file conflict


def policy_for(path: str) -> Policy:
    """The merge policy for a profile-relative path, decided by its file name."""
    name = PurePosixPath(path).name
    if name in KEEP_LOCAL_NAMES:
        return Policy.KEEP_LOCAL
    if PurePosixPath(name).suffix.lower() in YAML_SUFFIXES:
        return Policy.YAML_KEYS
    return Policy.WHOLE_FILE


def aborts_on_conflict(path: str) -> bool:
    """Whether a conflict in this file must abort the sync (today: every file, config.yaml included)."""
    del path  # the hook is per file name; no file is currently allowed to conflict
    return True


@dataclass(frozen=True)
class FileMerge:
    """The outcome for one file.

    ``text`` is the merged content (None: the file is deleted); on a conflict it is ours, and must not be written.
    ``conflicts`` holds YAML key paths (``model.default``) or, for whole-file conflicts, the path itself, with the
    reason in ``detail``. ``kept_local_over`` is theirs' text when a SOUL/AGENTS file kept ours over it.
    """

    path: str
    text: str | None
    conflicts: tuple[str, ...]
    kept_local_over: str | None
    how: str  # unchanged | ours | theirs | merged | kept-local | conflict
    detail: str = ""

    def describe_conflicts(self) -> tuple[str, ...]:
        """Conflicts as ``"path: key"`` strings (``"path: reason"`` for whole-file conflicts)."""
        if self.conflicts == (self.path,):
            return (f"{self.path}: {self.detail}",)
        return tuple(f"{self.path}: {key}" for key in self.conflicts)


@dataclass(frozen=True)
class TreeMerge:
    """The outcome for a whole profile tree; write nothing unless ``ok``."""

    files: tuple[FileMerge, ...]
    conflicts: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not any(f.conflicts and aborts_on_conflict(f.path) for f in self.files)

    def file(self, path: str) -> FileMerge:
        """The result for one path (KeyError if the path is in none of the trees)."""
        for result in self.files:
            if result.path == path:
                return result
        raise KeyError(path)


def merge_tree(base: Mapping[str, str], ours: Mapping[str, str], theirs: Mapping[str, str]) -> TreeMerge:
    """Merge whole profile trees (relative path → text), file by file."""
    paths = sorted(set(base) | set(ours) | set(theirs))
    files = tuple(merge_file(p, base.get(p), ours.get(p), theirs.get(p)) for p in paths)
    conflicts = tuple(c for f in files for c in f.describe_conflicts())
    return TreeMerge(files=files, conflicts=conflicts)


def merge_file(path: str, base: str | None, ours: str | None, theirs: str | None) -> FileMerge:
    """Three-way merge of one file's text; None means the file does not exist on that side (or in base)."""
    if ours == theirs:
        return FileMerge(path, ours, (), None, "unchanged")
    if theirs == base:
        return FileMerge(path, ours, (), None, "ours")
    if ours == base:
        return FileMerge(path, theirs, (), None, "theirs")
    policy = policy_for(path)
    if policy is Policy.KEEP_LOCAL:
        return FileMerge(path, ours, (), theirs, "kept-local")
    if policy is Policy.YAML_KEYS and ours is not None and theirs is not None:
        return _merge_yaml_file(path, base, ours, theirs)
    return _whole_file_conflict(path, ours, _why_both_changed(ours, theirs))


def merge_yaml(base: Any, ours: Any, theirs: Any) -> tuple[Any, list[str]]:
    """Merge parsed YAML by key, recursively through mappings; lists and scalars are atomic.

    Returns the merged data and the conflicting key paths (dotted; ``""`` means the documents as a whole). Where a
    key conflicts the merged data holds ours' value.
    """
    conflicts: list[str] = []
    merged = _merge_value(base, ours, theirs, "", conflicts)
    return merged, conflicts


def _merge_yaml_file(path: str, base: str | None, ours: str, theirs: str) -> FileMerge:
    try:
        base_data = _MISSING if base is None else _load(base, "base")
        ours_data = _load(ours, "ours")
        theirs_data = _load(theirs, "theirs")
    except _Unparsable as exc:
        return _whole_file_conflict(path, ours, str(exc))
    conflicts: list[str] = []
    merged = _merge_value(base_data, ours_data, theirs_data, "", conflicts)
    if conflicts == [""]:
        return _whole_file_conflict(path, ours, "changed differently on both sides")
    if conflicts:
        return FileMerge(path, ours, tuple(conflicts), None, "conflict")
    return FileMerge(path, _dump(merged, ours, ours_data, theirs, theirs_data), (), None, "merged")


def _whole_file_conflict(path: str, ours: str | None, detail: str) -> FileMerge:
    return FileMerge(path, ours, (path,), None, "conflict", detail)


def _why_both_changed(ours: str | None, theirs: str | None) -> str:
    if ours is None:
        return "deleted locally, changed remotely"
    if theirs is None:
        return "changed locally, deleted remotely"
    return "changed differently on both sides"


class _Unparsable(Exception):
    pass


def _load(text: str, side: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _Unparsable(f"{side} is not valid YAML ({_yaml_problem(exc)})") from exc


def _yaml_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"{exc.problem} at line {mark.line + 1}, column {mark.column + 1}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _dump(merged: Any, ours: str, ours_data: Any, theirs: str, theirs_data: Any) -> str:
    """Serialise the merge, reusing a side's text (and so its comments) when the merge equals that side."""
    if _same(merged, ours_data):
        return ours
    if _same(merged, theirs_data):
        return theirs
    return yaml.safe_dump(merged, sort_keys=False, allow_unicode=True)


def _merge_value(base: Any, ours: Any, theirs: Any, key_path: str, conflicts: list[str]) -> Any:
    if _same(ours, theirs):
        return ours
    if _same(theirs, base):
        return ours
    if _same(ours, base):
        return theirs
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return _merge_mapping(base if isinstance(base, dict) else {}, ours, theirs, key_path, conflicts)
    conflicts.append(key_path)
    return ours


def _merge_mapping(
    base: dict[Any, Any], ours: dict[Any, Any], theirs: dict[Any, Any], key_path: str, conflicts: list[str]
) -> dict[Any, Any]:
    """Ours' keys in ours' order, then theirs' new keys; keys merged to missing are dropped."""
    merged: dict[Any, Any] = {}
    for key in [*ours, *(k for k in theirs if k not in ours)]:  # keys deleted on both sides stay deleted
        value = _merge_value(
            base.get(key, _MISSING), ours.get(key, _MISSING), theirs.get(key, _MISSING), _join(key_path, key), conflicts
        )
        if value is not _MISSING:
            merged[key] = value
    return merged


def _join(key_path: str, key: Any) -> str:
    return f"{key_path}.{key}" if key_path else str(key)


def _same(a: Any, b: Any) -> bool:
    """Structural equality that tells YAML types apart (``1``, ``1.0`` and ``true`` differ) and NaN equals NaN."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)
