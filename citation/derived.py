"""Derived numbers whose arithmetic is written out, recomputed from the cited inputs beside them.

"涨幅 +1.59%（1,524.00 元 [tc_a] vs 1,500.10 元 [tc_b]）": the inputs are claims themselves, checked
like any other; the change, difference, ratio or sum is recomputed from the values they cite
(full precision), and also from the inputs as written, since an agent computing from the rounded
figures it shows is not wrong. The newer input is the end of a change when both are dated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import permutations

from citation.claims import Claim
from citation.facts import Fact
from citation.scales import Measure, expressions, fits


@dataclass(frozen=True, slots=True)
class Input:
    claim: Claim | None  # None: an input named in words only ("高于 MA20 约 0.31%"), its value read from the cite
    fact: Fact  # the cited value the input stands for


@dataclass(frozen=True, slots=True)
class Recomputed:
    operation: str  # pct_change, change, difference, ratio, sum
    inputs: tuple[Input, ...]
    cited: float  # from the cited values, in the claim's unit
    written: float | None  # from the inputs as written, in the claim's unit

    @property
    def label(self) -> str:
        return f"{self.operation}({', '.join(i.fact.field for i in self.inputs)})"


def _base(item: Input) -> float:
    return item.fact.value * item.fact.measure.factor


def _written_base(item: Input) -> float | None:
    """An input as written, in base units, where its unit converts (else only the cited value is used)."""
    fact = item.fact
    if item.claim is None:
        return None
    shown = expressions(item.claim.unit, fact.measure, fact.value)
    if not shown or shown[0] == 0:
        return None
    return item.claim.value * (fact.value * fact.measure.factor) / shown[0]


def _in_claim_unit(claim: Claim, measure: Measure, base: float) -> float | None:
    shown = expressions(claim.unit, Measure(measure.dim, 1.0, measure.currency, measure.served), base)
    return shown[0] if shown else None


def _ordered(a: Input, b: Input) -> bool:
    """Whether (a, b) may be (newer, older): a change runs from the older input to the newer one."""
    da, db = a.fact.dates.trade_date or a.fact.dates.period_end, b.fact.dates.trade_date or b.fact.dates.period_end
    return da is None or db is None or da == db or da > db


def _candidates(claim: Claim, inputs: list[Input]) -> Iterator[Recomputed]:
    derived = claim.wording.derived
    percent_unit = claim.unit.base in ("percent", "pp", "bp")
    for a, b in permutations(inputs, 2):
        if a.fact.measure.dim != b.fact.measure.dim:
            if derived == "ratio":
                yield from _ratio(a, b)
            continue
        wa, wb = _written_base(a), _written_base(b)
        if derived == "ratio":
            yield from _ratio(a, b)
        elif percent_unit and _base(b) and (derived == "difference" or _ordered(a, b)):
            written = (wa / wb - 1) * 100 if wa is not None and wb else None
            operation = "pct_change" if derived == "change" else "pct_difference"
            yield Recomputed(operation, (a, b), (_base(a) / _base(b) - 1) * 100, written)
        if derived in ("change", "difference") and (_ordered(a, b) or derived == "difference"):
            cited = _in_claim_unit(claim, a.fact.measure, _base(a) - _base(b))
            written = _in_claim_unit(claim, a.fact.measure, wa - wb) if wa is not None and wb is not None else None
            if cited is not None:
                yield Recomputed("change" if derived == "change" else "difference", (a, b), cited, written)
    if derived == "sum" and len({i.fact.measure.dim for i in inputs}) == 1:
        cited = _in_claim_unit(claim, inputs[0].fact.measure, sum(_base(i) for i in inputs))
        written_parts = [_written_base(i) for i in inputs]
        written = None
        if all(w is not None for w in written_parts):
            written = _in_claim_unit(claim, inputs[0].fact.measure, sum(w for w in written_parts if w is not None))
        if cited is not None:
            yield Recomputed("sum", tuple(inputs), cited, written)


def _ratio(a: Input, b: Input) -> Iterator[Recomputed]:
    if _base(b):
        wa, wb = _written_base(a), _written_base(b)
        yield Recomputed("ratio", (a, b), _base(a) / _base(b), wa / wb if wa is not None and wb else None)


def recompute(claim: Claim, inputs: list[Input]) -> tuple[Recomputed | None, list[Recomputed]]:
    """The recomputation the claim fits, if any, and every one tried (the expected values when none fits)."""
    tried = list(_candidates(claim, inputs))
    for option in tried:
        for target in _targets(claim, option):
            values = [option.cited] + ([option.written] if option.written is not None else [])
            if any(fits(target, claim.decimals, v, claim.approx) for v in values):
                return option, tried
    return None, tried


def _targets(claim: Claim, option: Recomputed) -> list[float]:
    """What the written number stands for: a difference is a size; an unsigned change under 下跌 is negative."""
    if option.operation in ("difference", "pct_difference"):
        return [abs(claim.value)] if option.cited >= 0 else [-abs(claim.value)]
    if claim.signed:
        return [claim.value]
    if claim.wording.falling:
        return [-claim.value]
    return [claim.value]
