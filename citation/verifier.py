"""The deterministic verifier of an agent's reply against the answers it cites (no model in the loop).

Every number that states a quantity must trace to a cited tool answer the caller owns: same value
at the precision shown, a unit that converts, the field its words name, the date it names. Numbers
whose arithmetic is written out are recomputed from their cited inputs. `verify` is pure: it
reads the ledger only through `lookup`, once, for the ids written in the reply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from citation.claims import Claim, read
from citation.dates import about
from citation.derived import Input, recompute
from citation.facts import Fact, facts_of
from citation.scales import expressions, fits, in_unit, misreadings
from citation.segments import WELL_FORMED
from citation.verdict import PASSING, CitableValue, ClaimVerdict, Expected, Status, Verdict, counts_of


@dataclass(frozen=True)
class Cited:
    """One ledger entry, as the ledger gives it: the tool, its arguments and its structuredContent."""

    tool: str
    arguments: dict[str, Any]
    answer: dict[str, Any]


Lookup = Callable[[Sequence[str]], Mapping[str, Cited]]
_TABLE_ROWS_CITABLE = 5  # a table's citable values: the rows the reply names, else its newest few


@dataclass(frozen=True, slots=True)
class _Checked:
    claim: Claim
    verdict: ClaimVerdict
    fact: Fact | None = None  # what it verified against
    stand_in: Fact | None = None  # when it failed: the one value its words called for (an input's cited value)


def _expected(claim: Claim, facts: Sequence[Fact]) -> list[Expected]:
    found = []
    for fact in facts:
        value, unit = in_unit(claim.unit, fact.measure, fact.value)
        found.append(Expected(tool_call_id=fact.tool_call_id, field=fact.field, value=value, unit=unit,
                              date=fact.dates.label()))  # fmt: skip
    return found


def _verdict(claim: Claim, status: Status, reason: str, *, ids: Sequence[str] | None = None,
             matched: str | None = None, expected: list[Expected] | None = None) -> ClaimVerdict:  # fmt: skip
    return ClaimVerdict(text=claim.text, value=claim.value, unit=claim.unit.label,
                        tool_call_id=list(claim.cites if ids is None else ids), status=status, matched=matched,
                        expected=expected, reason=reason)  # fmt: skip


def _targets(claim: Claim) -> list[float]:
    if claim.signed or not claim.wording.falling:
        return [claim.value]
    return [-claim.value]


def _fits_value(claim: Claim, fact: Fact) -> bool:
    shown = expressions(claim.unit, fact.measure, fact.value)
    return any(fits(t, claim.decimals, v, claim.approx) for t in _targets(claim) for v in shown)


def _fits_other_unit(claim: Claim, fact: Fact) -> bool:
    proper = expressions(claim.unit, fact.measure, fact.value)
    others = [v for v in misreadings(fact.measure, fact.value) if all(abs(v - p) > 1e-12 for p in proper)]
    return any(fits(t, claim.decimals, v) for t in _targets(claim) for v in others)


def _preference(fact: Fact) -> tuple[bool, bool]:
    """Of several fields a number fits, name a served one before a computed one, an unadjusted one first."""
    return fact.computed, fact.kind.endswith(("_qfq", "_hfq"))


def _check(claim: Claim, facts: Mapping[str, list[Fact]]) -> _Checked:
    if not claim.cites:
        return _Checked(claim, _verdict(claim, "uncited", "no tc_ id in its sentence or table row"))
    unknown = [i for i in claim.cites if i not in facts]
    if unknown:
        return _Checked(claim, _verdict(claim, "unknown_cite", f"not an answer of yours: {', '.join(unknown)}"))
    kinds, named = claim.wording.kinds, claim.wording.named
    pool = [f for i in claim.cites for f in facts[i]]
    called = [f for f in pool if kinds is None or f.kind in kinds]
    dated = [f for f in called if claim.date is None or about(claim.date, f.dates)]
    matches = [f for f in called if _fits_value(claim, f)]
    good = [f for f in matches if f in dated]
    what = f"'{named}'" if named else "the number"
    if good:
        fact = min(good, key=_preference)
        status: Status = "derived_verified" if fact.computed else "verified"
        return _Checked(
            claim, _verdict(claim, status, f"{fact.field} of {fact.tool_call_id}", matched=fact.field), fact
        )
    if matches:
        return _Checked(claim, _verdict(claim, "date_mismatch", f"{matches[0].field} is about "
                                        f"{matches[0].dates.label()}, not the date named", matched=matches[0].field,
                                        expected=_expected(claim, dated or matches)))  # fmt: skip
    scaled = [f for f in dated if _fits_other_unit(claim, f)]
    if scaled:
        return _Checked(claim, _verdict(claim, "unit_mismatch", f"the digits fit {scaled[0].field} in another unit",
                                        matched=scaled[0].field, expected=_expected(claim, scaled)))  # fmt: skip
    if claim.date is not None and called and not dated:
        return _Checked(claim, _verdict(claim, "date_mismatch", "the cited answers are not about the date named",
                                        expected=_expected(claim, called)))  # fmt: skip
    if kinds is not None and not called:
        return _Checked(claim, _verdict(claim, "mismatch", f"the cited answers hold no field {what} names",
                                        expected=[]))  # fmt: skip
    reason = f"no field {what} names has this value" if kinds is not None else "no cited field has this value"
    stand_in = dated[0] if kinds is not None and len(dated) == 1 else None
    return _Checked(
        claim,
        _verdict(claim, "mismatch", reason, expected=_expected(claim, dated) if kinds else None),
        stand_in=stand_in,
    )


def _inputs(checked: _Checked, done: Sequence[_Checked]) -> list[Input]:
    """The claims written beside a derived one (its sentence or row), with the values they cite."""
    claim = checked.claim
    found = []
    for other in done:
        if other.claim is claim or other.claim.segment != claim.segment:
            continue
        fact = other.fact or (other.stand_in if other.claim.wording.derived is None else None)
        if fact is not None:
            found.append(Input(other.claim, fact))
    return found


def _named_inputs(claim: Claim, facts: Mapping[str, list[Fact]]) -> list[Input]:
    """Inputs named in words only ("收盘价高于 MA20 约 0.31%"): the cited values of the fields named before the
    number, when each name finds exactly one in the answers the claim cites."""
    pool = [f for i in claim.cites if i in facts for f in facts[i]]
    found: list[Input] = []
    for kinds in claim.named_before:
        matching = [f for f in pool if f.kind in kinds and (claim.date is None or about(claim.date, f.dates))]
        if len(matching) == 1 and all(i.fact is not matching[0] for i in found):
            found.append(Input(None, matching[0]))
    return found


def _derive(checked: _Checked, done: Sequence[_Checked], facts: Mapping[str, list[Fact]]) -> _Checked:
    claim = checked.claim
    if claim.wording.derived is None or checked.verdict.status in PASSING:
        return checked
    inputs = _inputs(checked, done)
    if len(inputs) < 2:
        inputs = _named_inputs(claim, facts)
    if len(inputs) < 2:
        return checked
    fit, tried = recompute(claim, inputs)
    ids = list(dict.fromkeys(i.fact.tool_call_id for i in (fit.inputs if fit else inputs)))
    if fit is not None:
        reason = f"recomputed as {fit.label}"
        return _Checked(claim, _verdict(claim, "derived_verified", reason, ids=ids, matched=fit.label))
    expected = [Expected(tool_call_id="+".join(dict.fromkeys(i.fact.tool_call_id for i in t.inputs)), field=t.label,
                         value=float(f"{t.cited:.10g}"), unit=claim.unit.label) for t in tried]  # fmt: skip
    reason = "recomputed from the cited inputs, it does not come out as written"
    return _Checked(claim, _verdict(claim, "mismatch", reason, ids=ids, expected=expected))


Citable = dict[str, dict[str, CitableValue]]


def _citable(ids: Sequence[str], facts: Mapping[str, list[Fact]], claims: Sequence[Claim]) -> Citable:
    named = {(c.date.year, c.date.month, c.date.day) for c in claims if c.date is not None and c.date.grain == "day"}
    out: dict[str, dict[str, CitableValue]] = {}
    for tc in ids:
        rows = sorted({f.dates.trade_date for f in facts.get(tc, []) if "@" in f.field and f.dates.trade_date})
        keep = {d for d in rows if (d.year, d.month, d.day) in named} or set(rows[-_TABLE_ROWS_CITABLE:])
        values = {}
        for fact in facts.get(tc, []):
            if "@" in fact.field and fact.dates.trade_date not in keep:
                continue
            values[fact.field] = CitableValue(value=fact.value, unit=fact.measure.served, date=fact.dates.label())
        out[tc] = values
    return out


def verify(text: str, lookup: Lookup) -> Verdict:
    """Check every claim of `text` against the caller's cited answers; pass only if each one verifies."""
    reading = read(text)
    asked = [i for i in reading.ids if WELL_FORMED.fullmatch(i)]
    known = lookup(asked) if asked and reading.claims else {}
    facts = {tc: facts_of(tc, known[tc].answer) for tc in asked if tc in known}
    checked = [_check(claim, facts) for claim in reading.claims]
    final = [_derive(c, checked, facts) for c in checked]
    verdicts = [c.verdict for c in final]
    passed = all(v.status in PASSING for v in verdicts)
    cited = list(dict.fromkeys(i for c in reading.claims for i in c.cites if i in facts))
    return Verdict(verdict="pass" if passed else "fail", claims=verdicts, counts=counts_of(verdicts),
                   citable={} if passed else _citable(cited, facts, reading.claims))  # fmt: skip
