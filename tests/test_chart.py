"""`chart`: a PNG of real daily bars through the warehouse, with a caption that cites them.

The stand-in serves 600519.SH's real daily bars of 2020-2024 and its real adjustment factors
from 2023-09-25 (tests/fixtures/tushare/README.md): a chart inside the factors' span is
forward-adjusted (qfq); the two-year chart of 2023-2024 has bars without factors, so it is drawn
unadjusted and says so. Images are decoded with Pillow (matplotlib's own dependency); a line of
an overlay is found by its colour.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import numpy as np
import pytest
from mcp_types import CallToolResult, ImageContent, TextContent
from PIL import Image, ImageStat

from tests.conftest import RuntimeFactory
from tests.fake_tushare import FakeTushare
from tests.helpers import call, error_of

pytestmark = pytest.mark.anyio
MA20 = (0xFF, 0x99, 0x00)  # the colour chart_tool gives the MA20 line
PNG = b"\x89PNG\r\n\x1a\n"


def picture(result: CallToolResult) -> tuple[Image.Image, dict[str, Any]]:
    """The image (decoded) and the structured answer, after checking the content's shape."""
    assert not result.is_error, result.content
    text, image = result.content
    assert isinstance(image, ImageContent) and isinstance(text, TextContent) and image.mime_type == "image/png"
    png = base64.b64decode(image.data)
    assert png[:8] == PNG
    body = result.structured_content
    assert body is not None and json.loads(text.text) == body
    assert body["image"]["bytes"] == len(png) and len(png) > 20_000
    return Image.open(io.BytesIO(png)).convert("RGB"), body


def pixels_near(image: Image.Image, color: tuple[int, int, int], within: int = 12) -> int:
    distance = np.abs(np.asarray(image, dtype=np.int16) - np.array(color, dtype=np.int16))
    return int((distance <= within).all(axis=2).sum())


async def test_a_two_year_chart_with_ma20_is_drawn_and_cited(
    make_runtime: RuntimeFactory, upstream: FakeTushare
) -> None:
    rt = make_runtime()
    result = await call(rt, "chart", code="600519", start="2023-01-01", end="2024-12-31", overlays=["ma20"])
    image, body = picture(result)
    assert image.size == (body["image"]["width"], body["image"]["height"]) == (1000, 600)
    assert max(ImageStat.Stat(image).var) > 100  # not blank
    assert pixels_near(image, MA20) > 300
    assert (body["start"], body["end"], body["rows"], body["overlays"]) == ("2023-01-03", "2024-12-31", 484, ["ma20"])
    assert (body["first_close"], body["last_close"]) == (
        {"trade_date": "2023-01-03", "value": 1730.01}, {"trade_date": "2024-12-31", "value": 1524.0},
    )  # fmt: skip
    assert body["high"]["value"] >= body["low"]["value"] and body["units"]["price"] == "CNY"
    tool_call_id = body["cite"]["tool_call_id"]
    assert f"[{tool_call_id}]" in body["caption"] and "MA20" in body["caption"]
    # factors start 2023-09-25 in the fixtures: the whole chart is unadjusted, and says why
    assert body["adjust"] == "none" and "unadjusted" in body["caption"]
    assert any("no adjustment factor" in w for w in body["cite"]["warnings"])
    assert (upstream.calls["daily"], upstream.calls["adj_factor"]) == (1, 1)
    again = await call(rt, "chart", code="600519.SH", start="2023-01-01", end="2024-12-31", overlays="ma20")
    assert picture(again)[1]["image"]["sha256"] == body["image"]["sha256"]  # the same bars, the same picture
    assert (upstream.calls["daily"], upstream.calls["adj_factor"]) == (1, 1)  # answered by the warehouse


async def test_qfq_closes_are_prices_close_qfq(make_runtime: RuntimeFactory) -> None:
    rt = make_runtime()
    image, body = picture(await call(rt, "chart", code="600519.SH", start="20231009", end="20241231", kind="line"))
    assert body["adjust"] == "qfq" and "forward-adjusted (qfq)" in body["caption"]
    assert pixels_near(image, MA20) == 0  # no overlay asked, none drawn
    # 1777.0 (the raw close of 2023-10-09) x 7.768 / 8.1454 (the factor of 2024-12-31)
    assert body["first_close"] == {"trade_date": "2023-10-09", "value": 1694.6664}
    quoted = (await call(rt, "price", code="600519", trade_date="2023-10-09")).structured_content
    assert quoted is not None and quoted["close_qfq"] == body["first_close"]["value"]


async def test_candles_with_both_moving_averages(make_runtime: RuntimeFactory) -> None:
    image, body = picture(await call(make_runtime(), "chart", code="600519", start="2024-01-01", end="2024-12-31",
                                     overlays=["MA60", "ma20", "ma20"]))  # fmt: skip
    assert body["overlays"] == ["ma60", "ma20"] and body["kind"] == "kline"
    assert pixels_near(image, MA20) > 300 and pixels_near(image, (0x99, 0x33, 0xFF)) > 300


async def test_a_window_without_bars_is_refused(make_runtime: RuntimeFactory) -> None:
    body = error_of(await call(make_runtime(), "chart", code="600519", start="2024-02-10", end="2024-02-17"))
    assert (body["category"], body["argument"]) == ("PARAMETER", "start"), body
    assert "no provider has a daily bar of 600519.SH in 2024-02-10..2024-02-17" in body["message"]


@pytest.mark.parametrize(
    ("arguments", "argument"),
    [({"code": "600519", "start": "2024-01-01", "overlays": ["ma5"]}, "overlays"),
     ({"code": "600519", "start": "2024-06-01", "end": "2024-01-01"}, "start"),
     ({"code": "600519", "start": "2010-01-01", "end": "2024-12-31"}, "start"),
     ({"code": "AAPL", "start": "2024-01-01"}, "code"),
     ({"code": "600519", "start": "2024-13-01"}, "start")],
)  # fmt: skip
async def test_bad_input_is_a_parameter_error(
    make_runtime: RuntimeFactory, upstream: FakeTushare, arguments: dict[str, Any], argument: str
) -> None:
    body = error_of(await call(make_runtime(), "chart", **arguments))
    assert (body["category"], body["argument"]) == ("PARAMETER", argument), body
    assert upstream.calls["daily"] == 0


async def test_the_csi300_drawn_beside_scaled_to_the_first_close(make_runtime: RuntimeFactory) -> None:
    rt = make_runtime()
    result = await call(rt, "chart", code="600519", start="20231009", end="20241231", kind="line", overlays="csi300")
    image, body = picture(result)
    assert body["overlays"] == ["csi300"] and pixels_near(image, (0x00, 0x99, 0xCC)) > 300
    assert "CSI300 (000300.SH closes scaled to the first close, source tushare)" in body["caption"]
    assert any(a["dataset"] == "index_daily" for a in body["cite"]["attempts"])
    # A window the index's real bars (from 2023-09-25) do not start with is refused on `overlays`.
    early = error_of(await call(rt, "chart", code="600519", start="20230901", end="20231231", overlays=["csi300"]))
    assert early["argument"] == "overlays" and "000300.SH" in early["message"]
