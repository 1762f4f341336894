"""Turning a `verify_answer` verdict into what the WeChat user reads.

Why mark instead of withholding: the reply is still the user's answer, and most of it may be right;
hiding it would leave them with nothing. So each number the verifier could not tie to its cited tool
result gets a ⚠️ right after it (plain text: WeChat renders no strike-through, and "20.50⚠️" still
reads as the number the bot gave), and a short note at the end says, Chinese first, what each one is
and why it failed, with the cited value where the verifier knows it.

The claims carry their `text` as written in the reply but no position, so they are found in order:
each claim is looked for after the previous one (the verifier reads the reply front to back), and a
number is never found inside a longer one ("20.50" is not in "120.50").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

MARK = "⚠️"
PASSING = frozenset({"verified", "derived_verified"})

# status -> (中文, English); {cite} is the cited tool_call_id, {expected} what that result holds.
_WITH_EXPECTED = {
    "mismatch": ("引用 {cite} 的值为 {expected}", "{cite} says {expected}"),
    "unit_mismatch": ("单位不符，引用 {cite} 为 {expected}", "unit differs: {cite} has {expected}"),
    "date_mismatch": ("日期不符，引用 {cite} 为 {expected}", "date differs: {cite} is for {expected}"),
}
_WITHOUT_EXPECTED = {
    "mismatch": ("与引用 {cite} 的值不符", "does not match {cite}"),
    "unit_mismatch": ("单位与引用 {cite} 不符", "unit differs from {cite}"),
    "date_mismatch": ("日期与引用 {cite} 不符", "date differs from {cite}"),
    "uncited": ("未注明出处", "no citation"),
    "unknown_cite": ("引用 {cite} 不是本次对话的工具结果", "{cite} is not a tool result of this conversation"),
}
# the cited results hold no value for what the words name (`expected` is an empty list)
_NOTHING_THERE = ("引用 {cite} 中没有这一数据", "{cite} holds no such figure")
_NO_CITE = "无引用"


class MalformedVerdict(ValueError):
    """A verify_answer answer that says neither pass nor fail in the agreed shape."""


def mark(reply: str, answer: Mapping[str, Any]) -> str | None:
    """None when the reply passed (hermes then delivers it untouched); else the reply with every
    failing number marked and the note appended. MalformedVerdict for an answer of another shape."""
    verdict = answer.get("verdict")
    claims = answer.get("claims")
    if verdict not in ("pass", "fail") or not isinstance(claims, list):
        raise MalformedVerdict(f"verdict {verdict!r} with claims of type {type(claims).__name__}")
    if verdict == "pass":
        return None
    failing: list[Mapping[str, Any]] = []
    ends: list[int] = []
    cursor = 0
    taken: set[int] = set()
    for claim in claims:
        if not isinstance(claim, dict) or not isinstance(claim.get("text"), str) or not claim["text"]:
            continue
        found = _find(reply, claim["text"], cursor, taken)
        if found is not None:
            taken.add(found)
            cursor = found + len(claim["text"])
        if claim.get("status") not in PASSING:
            failing.append(claim)
            if found is not None:
                ends.append(found + len(claim["text"]))
    marked = reply
    for end in sorted(ends, reverse=True):
        marked = marked[:end] + MARK + marked[end:]
    return marked.rstrip() + "\n\n" + note(failing)


def note(failing: Sequence[Mapping[str, Any]]) -> str:
    """The lines appended to a failed reply: one per number in Chinese, then one English summary."""
    if not failing:  # a fail verdict without a failing claim: still say the check did not pass
        return f"{MARK} 自动核实未通过，请以工具结果为准。\n{MARK} Automatic verification did not pass."
    chinese = [f"• {c['text']}（{_reason(c, 0)}）" for c in failing]
    english = "; ".join(f"{c['text']} ({_reason(c, 1)})" for c in failing)
    return f"{MARK} 以下数字未能核实：\n" + "\n".join(chinese) + f"\n{MARK} Not verified: {english}."


def _reason(claim: Mapping[str, Any], language: int) -> str:
    status = str(claim.get("status") or "unknown")
    cited = _ids(claim.get("tool_call_id")) or _NO_CITE
    expected = _expected(claim.get("expected"), language)
    if expected and status in _WITH_EXPECTED:
        template = _WITH_EXPECTED[status][language]
        said = ("；" if language == 0 else "; ").join(template.format(cite=cite or cited, expected=value)
                                                     for cite, value in expected)  # fmt: skip
    elif status in _WITH_EXPECTED and claim.get("expected") == []:
        said = _NOTHING_THERE[language].format(cite=cited)
    elif status in _WITHOUT_EXPECTED:
        said = _WITHOUT_EXPECTED[status][language].format(cite=cited)
    else:
        said = f"未能核实（{status}）" if language == 0 else f"not verified ({status})"
    field = _field(claim)
    if not field:
        return said
    return f"{field}，{said}" if language == 0 else f"{field}: {said}"


def _ids(cited: object) -> str:
    """The claim's tool_call_id(s): one id, or a derived claim's several."""
    if isinstance(cited, str):
        return cited
    return ", ".join(i for i in cited if isinstance(i, str)) if isinstance(cited, list) else ""


def _expected(expected: object, language: int) -> list[tuple[str, str]]:
    """(tool_call_id, the cited value as a reader wants it) for each value the claim was held to."""
    entries = expected if isinstance(expected, list) else [expected]
    found = []
    for entry in entries:
        described = _describe(entry, language)
        if described:
            cite = entry.get("tool_call_id") if isinstance(entry, dict) else None
            found.append((cite if isinstance(cite, str) else "", described))
    return found


def _field(claim: Mapping[str, Any]) -> str | None:
    """What the number was taken to be (pe_ttm, close_raw): the field its words call for, else the
    one it matched."""
    expected = claim.get("expected")
    for entry in [*(expected if isinstance(expected, list) else [expected]), {"field": claim.get("matched")}]:
        if isinstance(entry, dict) and isinstance(entry.get("field"), str) and entry["field"]:
            return str(entry["field"])
    return None


def _describe(expected: object, language: int) -> str:
    """A cited value as a reader wants it: a number, a unit, a date, or those together."""
    if expected is None or isinstance(expected, bool):
        return ""
    if isinstance(expected, int | float):
        return f"{expected:,.12g}"
    if isinstance(expected, dict):
        if "value" in expected and expected["value"] is None:
            return ""  # the cited result holds nothing for that field: nothing to show
        parts = [_describe(expected.get("value"), language), str(expected.get("unit") or "")]
        day = expected.get("date") or expected.get("trade_date") or expected.get("period")
        text = " ".join(part for part in parts if part)
        if day and text:
            return f"{text}，日期 {day}" if language == 0 else f"{text} on {day}"
        return str(day or text)
    return str(expected)


def _find(reply: str, text: str, start: int, taken: set[int]) -> int | None:
    """Where `text` stands as a whole number in `reply`: after `start` if it is there, else anywhere
    not already taken by an earlier claim."""
    for begin in (start, 0):
        at = reply.find(text, begin)
        while at != -1:
            if at not in taken and _whole(reply, at, at + len(text)):
                return at
            at = reply.find(text, at + 1)
    return None


def _whole(reply: str, begin: int, end: int) -> bool:
    before = reply[begin - 1] if begin > 0 else ""
    after = reply[end : end + 2]
    starts_digit, ends_digit = reply[begin].isdigit(), reply[end - 1].isdigit()
    if starts_digit and before and (before.isdigit() or before in ".,"):
        return False
    return not (ends_digit and after and (after[0].isdigit() or (after[0] in ".," and after[1:2].isdigit())))
