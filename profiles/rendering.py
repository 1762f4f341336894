"""Placeholders: a template's text with `{{NAME}}` (NAME: A-Z, 0-9, _) filled, and checked.

A rendered file must still parse as what its name says (a `.yaml` mapping, `.json`), and every
refusal is a TemplateError naming the file, the line and what is wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import yaml

_NAME = r"[A-Z][A-Z0-9_]*"
_PLACEHOLDER = re.compile(r"\{\{(" + _NAME + r")\}\}")
_CANDIDATE = re.compile(r"\{\{(.*?)\}\}")


class TemplateError(ValueError):
    """A template that cannot be listed, applied or made, with what is wrong and where."""


def placeholders(text: str) -> set[str]:
    """The well-formed `{{NAME}}` placeholders in `text`."""
    return set(_PLACEHOLDER.findall(text))


def syntax_errors(text: str) -> list[str]:
    """Malformed placeholders (`{{ lower }}`, `{{}}`) and unbalanced `{{` / `}}`, by line."""
    errors = []
    for number, line in enumerate(text.splitlines(), 1):
        errors += [f"line {number}: {m.group(0)!r} is not a {{{{UPPER_CASE}}}} placeholder"
                   for m in _CANDIDATE.finditer(line) if not re.fullmatch(_NAME, m.group(1))]  # fmt: skip
        rest = _CANDIDATE.sub("", line)
        if "{{" in rest or "}}" in rest:
            errors.append(f"line {number}: unbalanced braces in {line.strip()!r}")
    return errors


def render_text(text: str, values: Mapping[str, str], *, source: str) -> str:
    """`text` with every placeholder filled. TemplateError on malformed syntax, on placeholders without
    a value (all named), on a multi-line value, and when a `.yaml`/`.json` source no longer parses.
    Values the text does not use are allowed."""
    errors = syntax_errors(text)
    if errors:
        raise TemplateError(f"{source}: malformed placeholder syntax: " + "; ".join(errors))
    used = placeholders(text)
    missing = sorted(name for name in used if name not in values)
    if missing:
        raise TemplateError(f"{source}: no value for {', '.join('{{' + n + '}}' for n in missing)}; pass them")
    multiline = sorted(name for name in used if "\n" in values[name] or "\r" in values[name])
    if multiline:
        raise TemplateError(f"{source}: the value of {', '.join(multiline)} must be a single line")
    rendered = _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
    _check_parses(rendered, source)
    return rendered


def _check_parses(text: str, source: str) -> None:
    name = source.removesuffix(".template")
    try:
        if name.endswith((".yaml", ".yml")) and not isinstance(yaml.safe_load(text), dict):
            raise TemplateError(f"{source}: rendered, it is not a YAML mapping")
        if name.endswith(".json"):
            json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise TemplateError(f"{source}: rendered, it does not parse: {exc}") from exc
