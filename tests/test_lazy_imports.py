"""An idle server holds none of the providers' heavy libraries; the first question that needs one loads it.

Issue 15: idle RSS is most of all the upstream libraries and what they pull in (akshare alone
brings bs4, lxml, curl_cffi and py_mini_racer; yfinance protobuf and peewee; each of them
pandas), imported at start by every provider module. These tests hold the start path to the
rule in providers/__init__.py by what is in `sys.modules`, never by an RSS figure (a shared
machine's memory readings are noise): `twilight serve` itself runs in a fresh interpreter
(tests/serve_probe.py), with every upstream a loopback stand-in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from provisioning import migrate
from tests.fake_eastmoney import FakeEastmoney
from tests.fake_tushare import FakeTushare
from tests.fake_yahoo import FakeYahoo
from tests.helpers import TWILIGHT, free_port

ROOT = Path(__file__).resolve().parents[1]


def test_serve_loads_akshare_only_for_the_question_that_needs_it(
    tmp_path: Path, upstream: FakeTushare, eastmoney: FakeEastmoney, yahoo: FakeYahoo
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIGHT_", "TUSHARE_"))}
    env.update(
        TWILIGHT_HOME=str(tmp_path),
        TUSHARE_API_URL=upstream.url,
        TWILIGHT_EASTMONEY_URL=eastmoney.url,
        TWILIGHT_YAHOO_URL=yahoo.url,
        TWILIGHT_TDX_SERVERS='["127.0.0.1:9"]',
        TWILIGHT_SCHEDULE="false",
        TWILIGHT_LOG_LEVEL="WARNING",
    )  # no TUSHARE_TOKEN: A-share bars come from akshare
    # Issuing the key migrates the accounts database, so the server starts on a current schema.
    issued = subprocess.run(
        [TWILIGHT, "token", "issue", "--user", "probe"], env=env, capture_output=True, text=True, check=True
    )
    probe = subprocess.run([sys.executable, "-m", "tests.serve_probe", str(free_port()), issued.stdout.split()[-1]],
                           env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert probe.returncode == 0, probe.stderr[-3000:]
    report = json.loads(probe.stdout.splitlines()[-1])
    assert "error" not in report, report
    assert report["started"] == [], f"loaded at start: {report['started']}"
    answer = report["answer"]
    assert answer["source"] == "akshare" and answer["close_raw"] == 1500.1, answer
    after = report["after_price"]
    assert "akshare" in after and "pandas" in after and "requests" in after
    assert not {"yfinance", "pytdx", "hypothesis", "matplotlib"} & set(after), after  # a price draws nothing
    assert report["exit"] == 0


def test_the_head_read_without_alembic_is_alembics() -> None:
    """A migrated database is recognised without importing alembic: the head read from the migration
    files must be the one alembic computes, or an outdated schema would pass as current."""
    assert migrate.shipped_head() == migrate.head()


def test_matplotlib_is_loaded_by_the_first_chart_only() -> None:
    """The chart tool and its drawing module import cheaply; matplotlib comes with the first render."""
    script = (
        "import sys\n"
        "from mcp_server import chart_tool, drawing, server\n"
        "before = 'matplotlib' in sys.modules\n"
        # 600519.SH's real bars of 2024-12-30 and 2024-12-31 (tests/fixtures/tushare/daily_600519.SH_2020-2024.csv)
        "png = drawing.render(drawing.Picture('600519.SH', ['2024-12-30', '2024-12-31'], [1533.97, 1525.4],"
        " [1543.96, 1545.0], [1525.0, 1522.01], [1525.0, 1524.0], [25129.82, 39354.45], 'kline', 'CNY', 'vol'))\n"
        "print(before, 'matplotlib' in sys.modules, png[:4] == b'\\x89PNG')\n"
    )
    shown = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert shown.stdout.split() == ["False", "True", "True"]
