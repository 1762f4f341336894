"""Cited claims from dataset declarations, and the factory of tools that answer nothing else.

A claim is one declared number of one stored row: its metric, value, unit, and the date it is of
(a trade date; or a report period with its kind and announcement date, for datasets announced
as reports). Building claims from the declaration keeps the units and dates of every claims tool
the ones the dataset was declared with, and a new dataset's tool a table entry (`ClaimsTool`),
not a new body. Answers use the `fundamentals` envelope: {ts_code, claims, cite}.

No `from __future__ import annotations` here: a factory's tool signature names values of the
factory's own call (the statements it serves), which only annotations evaluated at definition see.
"""

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult
from pydantic import BaseModel, Field, StrictInt

from citation.attempts import Attempts
from citation.models import Cite, Claim, ClaimCite, FundamentalsAnswer
from mcp_server.answering import READ_ONLY, Tool, a_share, answer, day_of, make_cite, number
from mcp_server.context import ToolContext
from providers.declaration import Dataset
from providers.models import DATASETS
from providers.symbols import InvalidArgument, quoted
from warehouse.pointintime import Row
from warehouse.reports import Dated, Part, period_kind, report_period


def claims_of(spec: Dataset, dated: Dated[Row], cite: Cite, detail: int = 0) -> list[Claim]:
    """Every claim column of the row, in declared order, dated as the dataset is; each names the
    full cite `cite`, which the answer carries once, as its `sources[detail]`."""
    row = dated.value
    when = row[spec.date].isoformat() if spec.date else dated.fetched_at.date().isoformat()
    short = ClaimCite(tool_call_id=cite.tool_call_id, source=cite.source, fetched_at=cite.fetched_at, detail=detail)
    if spec.ann_date is None or spec.date is None:
        return [Claim(metric=m, value=number(row[m]), unit=u, period_or_date=when, cite=short)
                for m, u in spec.units.items()]  # fmt: skip
    announced = row[spec.ann_date]
    kind = period_kind(row[spec.date])
    return [
        Claim(metric=m, value=number(row[m]), unit=u, period_or_date=when, period=when,
              period_kind=kind,  # type: ignore[arg-type]
              ann_date=announced.isoformat() if announced else None, cite=short)
        for m, u in spec.units.items()
    ]  # fmt: skip


def cited(
    tool_call_id: str, attempts: Attempts, parts: Sequence[Part], warnings: Sequence[str]
) -> tuple[list[Claim], list[Cite], Cite]:
    """The claims of each part; the full cite of each part's source and lookups, once; the answer's cite."""
    claims: list[Claim] = []
    sources: list[Cite] = []
    for part in parts:
        dated = part.found
        looked = Attempts(attempts.log[: part.looked])
        sources.append(make_cite(tool_call_id, dated.fetched_at, looked, source=dated.source))
        claims += claims_of(part.dataset, dated, sources[-1], len(sources) - 1)
    newest = max(part.found.fetched_at for part in parts)
    return claims, sources, make_cite(tool_call_id, newest, attempts, warnings=list(warnings))


@dataclass(frozen=True)
class ClaimsTool:
    """A tool answering one of a family of report datasets (`statement`) of one A-share, point in time."""

    name: str
    description: str
    statements: Mapping[str, Dataset]  # what `statement` accepts, and the dataset each answers
    later: tuple[str, ...] = ()  # statements a later version will serve: refused, saying so


def claims_tool(rt: ToolContext, tool: ClaimsTool) -> Tool:
    """The MCP tool function of `tool`: arguments code, statement, period, as_of."""
    served = ", ".join(tool.statements)

    def chosen(statement: str) -> Dataset:
        spec = tool.statements.get(statement.strip().lower())
        if spec is not None:
            return spec
        soon = statement.strip().lower() in tool.later
        raise InvalidArgument(
            "statement",
            f"statement {quoted(statement)} is " + ("not served yet" if soon else f"not one {tool.name} answers"),
            f"pass statement as one of: {served}" + (f" ({', '.join(tool.later)} come later)" if tool.later else ""),
        )

    async def run(
        code: Annotated[str | StrictInt, Field(description="A-share code: 600519, 600519.SH, sh600519 or 600519.SS")],
        statement: Annotated[str, Field(description=f"Which statement: {served}")],
        period: Annotated[
            str | StrictInt | None,
            Field(description="Report period end, e.g. 20250331 or 2025-03-31; omit for the newest report"),
        ] = None,
        as_of: Annotated[
            str | StrictInt | None,
            Field(
                description="Answer as known on this day (YYYYMMDD or YYYY-MM-DD): only reports announced by "
                "then count; omit for today"
            ),
        ] = None,
    ) -> Annotated[CallToolResult, FundamentalsAnswer]:
        async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
            symbol = a_share(code)
            spec = chosen(statement)
            today = rt.clock.today()
            known_on = day_of(as_of, "as_of", today)
            end = report_period(day_of(period, "period", today))
            found = await rt.fundamentals.report(
                spec, symbol.code, end, known_on, attempts, tool_call_id, date_argument="as_of", warn_overdue=True
            )
            parts = [Part(spec, found, len(attempts.log))]
            claims, sources, cite = cited(tool_call_id, attempts, parts, found.warnings)
            return FundamentalsAnswer(ts_code=symbol.code, claims=claims, sources=sources, cite=cite)

        return await answer(rt, tool.name, body, code=code, statement=statement, period=period, as_of=as_of)

    run.__name__ = run.__qualname__ = tool.name
    run.__doc__ = inspect.cleandoc(tool.description)
    return run


# The claims tools, one entry each (a dataset family gains a statement by gaining an entry here).
TOOLS: tuple[ClaimsTool, ...] = (
    ClaimsTool(
        "financials",
        """Financial statements of one A-share, point in time, as cited claims {metric, value, unit,
        period, period_kind, ann_date, cite}; amounts in yuan (CNY), consolidated.
        statement=income (利润表): revenue (营业收入), operate_profit (营业利润), n_income_attr_p
        (归母净利润), basic_eps (基本每股收益, CNY per share). statement=balancesheet (资产负债表, at the
        period's end): total_assets (资产总计), total_liab (负债合计), total_hldr_eqy_exc_min_int
        (归母股东权益), total_hldr_eqy_inc_min_int (股东权益合计). statement=cashflow (现金流量表):
        n_cashflow_act (经营活动现金流量净额), n_cashflow_inv_act (投资活动…), n_cash_flows_fnc_act
        (筹资活动…), n_incr_cash_cash_equ (现金及现金等价物净增加额), c_cash_equ_end_period (期末现金及
        现金等价物余额). The period's kind says what it covers: Q1, H1, Q3 (nine months, cumulative) or
        annual. Only reports announced (ann_date) by `as_of` are used.""",
        {name: DATASETS[name] for name in ("income", "balancesheet", "cashflow")},
    ),
)


def register(server: MCPServer, rt: ToolContext) -> None:
    for tool in TOOLS:
        server.add_tool(claims_tool(rt, tool), annotations=READ_ONLY)
