"""An ad-hoc question to any tushare interface the catalog knows: asked page by page past its row cap.

tushare answers at most its row cap per request (6,000 for `daily`, 1,000 for many) and says
nothing when it cut an answer short (the SDK drops `has_more`). So a question is asked with
`limit` = the page size and `offset` stepping by it, until a page comes back short or `max_pages`
pages were asked; each page is one request through the provider's guard (budget, breaker,
retries). An answer cut by `max_pages`, or by an interface that ignores `offset` (its second
page repeats its first), says so: it is never passed off as the whole result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from providers.contract import Payload
from providers.provider import Provider
from providers.tushare.catalog import PAGING, Interface

DEFAULT_PAGE = 1000  # rows asked per page where the docs state no cap (most caps are 1,000 or more)


@dataclass(frozen=True, slots=True)
class Pages:
    payload: Payload  # every page's rows, in tushare's order
    asked: dict[str, Any]  # what was sent (with the page size, not each offset)
    requests: int
    complete: bool  # False: there may be rows past the last page asked
    note: str | None = None  # why it may be incomplete


def page_size(item: Interface, override: int | None) -> int | None:
    """Rows asked per request; None when the interface names limit/offset as its own parameters (the
    caller then sets them, and one request is made)."""
    if item.params is not None and any(p.name in PAGING for p in item.params):
        return None
    return override or item.row_cap or DEFAULT_PAGE


def fetch(provider: Provider, item: Interface, params: dict[str, Any], fields: list[str] | None, *,
          page_rows: int | None, max_pages: int) -> Pages:  # fmt: skip
    """Ask `item` with `params` (already checked against the catalog), every page (blocking: a worker thread)."""
    asked = {**params, **({"fields": ",".join(fields)} if fields else {})}
    size = page_size(item, page_rows)

    def ask(extra: dict[str, Any]) -> Payload:
        query = {**asked, **extra}
        return provider.request(item.name, lambda: provider.client.query(item.name, query))  # type: ignore[no-any-return]

    if size is None:
        return Pages(ask({}), asked, 1, True)
    pages: list[Payload] = []
    note = None
    requests = 0
    while True:
        page = ask({"limit": size, "offset": size * len(pages)})
        requests += 1
        if pages and page.items and pages[-1].items and page.items[0] == pages[-1].items[0]:
            note = f"tushare's {item.name} ignores offset: only its first {size} rows could be fetched"
            break
        pages.append(page)
        if len(page.items) < size:
            break
        if len(pages) >= max_pages:
            note = (f"stopped after {max_pages} pages of {size} rows: there may be more; narrow the question "
                    "(a shorter date range, one code)")  # fmt: skip
            break
    first = pages[0]
    payload = Payload(item.name, first.fields, [row for p in pages for row in p.items], first.meta)
    return Pages(payload, {**asked, "limit": size}, requests, note is None, note)
