"""What the verifier answers: a verdict on a reply, claim by claim, and what the reply may quote.

These models are the `verify_answer` tool's output schema, so the agent reads them to correct
itself: every claim says which id(s) it cites, which field it matched, and on failure what the
cited result holds for the field its words call for; `citable` lists the exact values it may
quote instead. Field names here are part of the contract with agents.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field

Status = Literal[
    "verified",
    "derived_verified",
    "mismatch",
    "unit_mismatch",
    "date_mismatch",
    "uncited",
    "unknown_cite",
]
STATUSES: tuple[Status, ...] = get_args(Status)
PASSING: frozenset[Status] = frozenset({"verified", "derived_verified"})


class Expected(BaseModel):
    """One cited value the claim's words called for, in the claim's unit where it converts."""

    tool_call_id: str
    field: str = Field(description="The field of the cited answer (for tables: column@trade_date).")
    value: float | None
    unit: str | None = Field(description="The reply's unit when the value converts to it, else the tool's unit.")
    date: str | None = Field(default=None, description="The date the value is about (trade date or report end).")


class ClaimVerdict(BaseModel):
    text: str = Field(description="The claim as written, number and unit, e.g. '1.88万亿元'.")
    value: float = Field(description="The number as written, sign included, before its scale word.")
    unit: str | None = Field(
        description="The unit as written, normalized: '万亿元', '%', '倍', 'bn CNY'; null if none."
    )
    tool_call_id: list[str] = Field(
        description="Every id the claim cites, as written (a derived claim: its inputs' ids); empty when uncited."
    )
    status: Status
    matched: str | None = Field(description="The cited field it matched, e.g. 'pe_ttm', 'close_raw'; else null.")
    expected: list[Expected] | None = Field(
        default=None, description="On a failure, what the cited results hold for the field its words name."
    )
    reason: str = Field(default="", description="Why this status, in one sentence.")


class CitableValue(BaseModel):
    value: float | None
    unit: str | None = Field(description="The unit as the tool serves it (thousand_CNY, ten_thousand_CNY, ...).")
    date: str | None = None


class Verdict(BaseModel):
    verdict: Literal["pass", "fail"]
    claims: list[ClaimVerdict]
    counts: dict[str, int] = Field(description="Claims per status (every status, zero included).")
    citable: dict[str, dict[str, CitableValue]] = Field(
        default_factory=dict,
        description="On fail: per cited id the reply used, field -> the exact value it may quote, with unit and date.",
    )


def counts_of(claims: list[ClaimVerdict]) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
    for claim in claims:
        counts[claim.status] += 1
    return counts
