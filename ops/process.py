"""Process-wide state, set once at start by the roof: what no module below may set on its own.

A module that patched `requests` or the interpreter when imported made the last runtime opened
(or the first test that imported it) decide for everyone. Here it is one explicit step.
yfinance's own configuration is the exception: it is set where yfinance is first imported
(`YahooClient._yfinance`), because importing it at start costs every server its memory.
"""

from __future__ import annotations

import os
import sys

from ops.settings import Settings
from providers import transport
from providers.akshare import client as akshare_client
from providers.yahoo import client as yahoo_client

# How long a Python thread may hold the GIL while another waits (CPython's default is 5 ms).
# DuckDB's Python binding takes the GIL back between the tasks of every query, so a worker
# thread running a load or a read waits one slice per task while the event loop is busy
# serving: at 5 ms a whole-market day took minutes under load instead of 0.3 s. At 0.2 ms the
# busy loop hands over in time, and an idle server never pays for it (bench/ingest.py part 3).
GIL_SLICE_SECONDS = 0.0002


def prepare(settings: Settings) -> None:
    """The interpreter's GIL slice, requests' routes and default timeout, and tqdm kept silent."""
    sys.setswitchinterval(GIL_SLICE_SECONDS)
    # akshare draws tqdm progress bars on stderr while paging, and stderr carries our JSON log
    # lines; tqdm reads TQDM_* when it is imported, and akshare is imported at its first question.
    os.environ.setdefault("TQDM_DISABLE", "1")
    routes: dict[str, str] = {}
    if settings.eastmoney_url:
        routes.update(akshare_client.routes(settings.eastmoney_url))
    if settings.yahoo_url:
        routes.update(yahoo_client.routes(settings.yahoo_url))
    transport.install(routes, settings.upstream_timeout)
