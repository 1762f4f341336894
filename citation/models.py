"""The answer shapes: the price envelope (seeds/w4 §1 + DESIGN.md), fundamentals claims, cites.

These pydantic models are the tools' `outputSchema`; changing a field name breaks agents.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from citation.verdict import Verdict

MarketState = Literal["pre_open", "open", "lunch_break", "closing", "closed", "closed_final"]


class Units(BaseModel):
    """A-share defaults; a global ticker's prices are in its own currency and its volume in shares."""

    price: str = "CNY"
    volume: str = "lots_100shares"
    amount: str | None = "thousand_CNY"
    share_count: str | None = "ten_thousand_shares"
    market_cap: str | None = "ten_thousand_CNY"


class Attempt(BaseModel):
    provider: str
    dataset: str
    outcome: str = Field(description="hit / miss for the warehouse; ok or the error class for upstreams")
    detail: str | None = None


class Receipt(BaseModel):
    alg: Literal["Ed25519"]
    key_id: str = Field(description="Which server key signed: first 16 hex of SHA-256 of the raw public key.")
    sha256: str = Field(description="Hex SHA-256 of the canonical bytes signed.")
    signature: str = Field(description="Base64 Ed25519 signature of the canonical bytes.")


class Cite(BaseModel):
    kind: Literal["tool"] = "tool"
    tool_call_id: str = Field(description="Unique per tool call; quote it beside every number used.")
    fetched_at: str = Field(description="When upstream served these numbers (UTC ISO 8601).")
    source_chain: list[str]
    served_by: str = Field(description="This service and its version.")
    source: str | None = Field(default=None, description="The provider whose numbers these are, where one did.")
    cross_check: dict[str, Any] | None = Field(
        default=None,
        description="Values per source, diff_pct and agreement, when a second source was compared.",
    )
    attempts: list[Attempt] = Field(default_factory=list, description="Every lookup, in order, with its outcome.")
    adj_factor_latest_date: str | None = Field(
        default=None, description="The trade date of adj_factor_latest (the qfq base)."
    )
    calendar: str | None = Field(default=None, description="What market_state and trading days were judged by.")
    layer: str | None = Field(default=None, description="Warehouse layer read: raw, normalized, curated, feature.")
    upstream_sources: list[str] | None = Field(default=None, description="Upstreams the warehouse rows came from.")
    ingested_at: str | None = Field(default=None, description="When the newest row read was fetched (UTC).")
    warnings: list[str] = Field(default_factory=list)
    receipt: Receipt | None = Field(
        default=None,
        description="On an answer's own cite: Ed25519 over the answer's canonical JSON without this field "
        "(sorted keys, separators , and :, UTF-8). Check it with GET /receipts/public-key.",
    )


class PriceEnvelope(BaseModel):
    ts_code: str
    trade_date: str = Field(description="YYYY-MM-DD")
    close_raw: float
    close_qfq: float | None = Field(description="close_raw x adj_factor / adj_factor_latest")
    close_hfq: float | None = Field(description="close_raw x adj_factor")
    open_raw: float
    high_raw: float
    low_raw: float
    volume: float = Field(description="lots of 100 shares (A-shares) or shares (global tickers); see units")
    amount: float | None = Field(description="thousand CNY (A-shares); null where the source gives none")
    adj_factor: float | None
    adj_factor_latest: float | None
    as_of: str = Field(description="When the numbers were fetched from upstream (UTC ISO 8601).")
    freshness_seconds: int
    source: str
    source_chain: list[str]
    market_state: MarketState
    units: Units
    cite: Cite


PeriodKind = Literal["Q1", "H1", "Q3", "annual"]


class ClaimCite(BaseModel):
    """A claim's cite: what to quote beside it, and where its full cite is. Claims of one source share
    one full cite (`sources[detail]` of the answer): 22 claims once repeated the attempt log 22 times."""

    kind: Literal["tool"] = "tool"
    tool_call_id: str = Field(description="Quote it beside the number.")
    source: str | None = Field(default=None, description="The provider whose number this is.")
    fetched_at: str = Field(description="When upstream served it (UTC ISO 8601).")
    detail: int = Field(default=0, description="Index into the answer's `sources`: this claim's full cite.")


class Claim(BaseModel):
    metric: str
    value: float | None
    unit: str
    period_or_date: str = Field(description="Trade date (valuation) or report period end (indicators).")
    period: str | None = Field(default=None, description="Report period end (YYYY-MM-DD); null for valuation.")
    period_kind: PeriodKind | None = Field(
        default=None, description="What the report covers: Q1, H1, Q3 (nine months, cumulative) or annual."
    )
    ann_date: str | None = Field(
        default=None, description="When the report was announced (YYYY-MM-DD): it is used only from that day."
    )
    cite: ClaimCite


class FundamentalsAnswer(BaseModel):
    ts_code: str
    claims: list[Claim]
    sources: list[Cite] = Field(description="The full cite of each source the claims came from (claim.cite.detail).")
    cite: Cite


class Pong(BaseModel):
    ok: bool
    served_by: str
    server_time: str
    cite: Cite


class ColumnSummary(BaseModel):
    """One number column of a result too long to send whole."""

    first: float | None
    latest: float | None
    min: float | None
    max: float | None
    mean: float | None
    count: int = Field(description="Rows with a value in this column.")


class ResultSummary(BaseModel):
    row_count: int
    first_date: str | None = Field(default=None, description="The oldest row's date, where rows have one.")
    last_date: str | None = Field(default=None, description="The newest row's date, where rows have one.")
    numbers: dict[str, ColumnSummary] = Field(default_factory=dict, description="Per number column, in its unit.")


class FullResult(BaseModel):
    """Where the whole result of a cut answer is: an MCP resource (`resources/read`), and a CSV for people."""

    uri: str = Field(description="Read it with resources/read; only the caller who asked can.")
    csv_url: str | None = Field(default=None, description="The same rows as CSV over HTTP, with the caller's key.")
    expires_at: str = Field(description="Readable until then (UTC ISO 8601).")
    rows_inline: int = Field(description="How many of the rows this answer carries (the first ones).")


class Tabular(BaseModel):
    """Rows in `columns` order. Too long for a model's context, an answer carries its first rows, a
    `summary` of all of them and a `full_result` to read the rest (`mcp_server.sizing` cuts it)."""

    columns: list[str]
    rows: list[list[Any]] = Field(description="One list per row, in `columns` order; dates YYYY-MM-DD.")
    row_count: int = Field(description="Rows in the whole result (more than `rows` holds when it was cut).")
    summary: ResultSummary | None = Field(default=None, description="Set when the answer was cut: of all rows.")
    full_result: FullResult | None = Field(default=None, description="Set when the answer was cut.")


class Rows(Tabular):
    """A tabular answer whose number columns each have a unit (`units`), with one cite for all rows."""

    units: dict[str, str] = Field(default_factory=dict, description="Number column -> its unit.")
    cite: Cite


class TableAnswer(Tabular):
    ts_code: str
    layer: str
    adjust: str
    units: Units
    notes: list[str] = Field(default_factory=list)
    cite: Cite


class FeaturesAnswer(BaseModel):
    ts_code: str
    trade_date: str
    features: dict[str, float | int | None]
    definitions: dict[str, str]
    cite: Cite


class WarehouseFundamentalsAnswer(BaseModel):
    ts_code: str
    period: str
    claims: list[Claim]
    sources: list[Cite] = Field(description="The full cite of each source the claims came from (claim.cite.detail).")
    cite: Cite


class SourceStatus(BaseModel):
    source: str
    dataset: str
    last_success: str | None
    last_failure: str | None
    last_error: str | None
    rows_today: int
    stale: bool | None = Field(description="null when the source never succeeded")


class QualityStatusAnswer(BaseModel):
    sources: list[SourceStatus]
    findings_last_24h: dict[str, int] = Field(description="Quality findings logged in the last 24 h, by severity.")
    latest_findings: list[dict[str, Any]]
    cite: Cite


class QualityLogsAnswer(BaseModel):
    entries: list[dict[str, Any]]
    cite: Cite


class SearchCite(Cite):
    """The cite of one web search result: which provider served it, through which engines, from where."""

    engines: list[str] = Field(default_factory=list, description="Search engines that returned the result.")
    original_url: str = Field(description="The page the result points at, as the provider gave it.")


class SearchResult(BaseModel):
    title: str
    url: str
    snippet: str
    published_at: str | None = Field(description="Publication time (ISO 8601) where the provider knows it, else null.")
    engines: list[str]
    fetched_at: str = Field(description="When the provider served this result (UTC ISO 8601).")
    cite: SearchCite


class UnresponsiveEngine(BaseModel):
    engine: str
    reason: str


class SearchAnswer(BaseModel):
    query: str
    provider: str = Field(description="Who answered: searxng, dashscope or google_cse.")
    results: list[SearchResult]
    result_count: int
    undated_count: int = Field(
        description="Results with no known publication date. With `since` they are kept (not checked) and "
        "carry a warning in their cite."
    )
    dropped_before_since: int = Field(description="Results dropped because they were published before `since`.")
    unresponsive_engines: list[UnresponsiveEngine] = Field(
        description="SearXNG engines that failed for this query, and why (results may be incomplete)."
    )
    cached: bool = Field(description="True when answered from the warehouse cache (no upstream call).")
    cite: Cite


class VerifyAnswer(Verdict):
    """The verdict on a reply, with the cite of the check itself."""

    cite: Cite
