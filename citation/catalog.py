"""The answers of the catalog tools: what tushare offers (a short list), one interface's terms, and
the rows of an ad-hoc question, each with its cite."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from citation.models import Cite, Rows


class CatalogEntry(BaseModel):
    name: str = Field(description="The api_name to describe or query.")
    title: str
    category: str
    description: str = Field(description="One line (cut at 80 characters).")
    points: int | None = Field(description="Least tushare points (积分) the docs name for it; null: none named.")


class CatalogAnswer(BaseModel):
    query: str | None
    matches: int = Field(description="Interfaces matching the query (results holds the best of them).")
    results: list[CatalogEntry] = Field(default_factory=list)
    categories: dict[str, list[str]] | None = Field(
        default=None, description="Without a query: every api_name by category."
    )
    source: str = Field(description="Where the catalog's words come from (repository@commit:path).")
    cite: Cite


class ParamDoc(BaseModel):
    name: str
    type: str
    required: bool = Field(description="As the docs mark it; the description may say 'one of two'.")
    description: str


class FieldDoc(BaseModel):
    name: str
    type: str
    default: bool = Field(description="Answered when `fields` is not given.")
    description: str
    unit: str | None = Field(description="The unit the description states (万元, 千元, %, 手 ...), else null.")


class DescribeAnswer(BaseModel):
    name: str
    title: str
    category: str
    description: str
    points: int | None = Field(description="Least tushare points (积分) needed, as the docs name it.")
    permission: str | None = Field(description="The docs' own words on points or a separate permission.")
    row_cap: int | None = Field(description="Rows tushare answers per request, where the docs state it.")
    documented: bool = Field(description="False: only in tushare's index; parameters and fields unknown.")
    params: list[ParamDoc] = Field(default_factory=list)
    fields: list[FieldDoc] = Field(default_factory=list)
    doc_url: str | None
    source: str
    cite: Cite


class TushareQueryAnswer(Rows):
    api_name: str
    params: dict[str, Any] = Field(description="The parameters tushare was asked (pages not included).")
    pages: int = Field(description="Requests made: one per page of the interface's row cap.")
    complete: bool = Field(description="False: there may be rows past the last page asked (see cite.warnings).")
    raw_id: int | None = Field(description="The payload's row in the warehouse's raw layer (raw_payloads).")
    notes: list[str] = Field(default_factory=list)
