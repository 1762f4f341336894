"""How long the verifier takes on a realistic reply: about 2,000 characters with 30 numbers,
assembled from the test corpus's correct replies (real tool answers as the ledger), in-process.

    python bench/verify_speed.py [--rounds 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import percentile
from citation.verifier import verify
from tests.verifier_corpus import Lookup, replies

PROSE = (
    "结论：估值处于历史区间的中低位，盈利质量稳定，现金流充裕；风险在于需求恢复节奏与渠道库存。"
    "The valuation sits in the lower half of its own history; earnings quality is steady and cash flow ample. "
    "以上数据均来自工具结果，引用编号见各数字旁；如需更长区间的走势，可以再查询历史行情。"
)


def long_reply(chars: int = 2000, numbers: int = 30) -> tuple[str, int]:
    """Correct replies, one after another, until the text has `numbers` claims and ~`chars` characters."""
    parts: list[str] = []
    claims = 0
    for reply in replies():
        if any(s not in ("verified", "derived_verified") for s in reply.expect):
            continue
        if claims + len(reply.expect) > numbers or sum(map(len, parts)) + len(reply.text) > chars * 1.1:
            continue
        parts.append(reply.text.strip())
        claims += len(reply.expect)
    text = "\n\n".join(parts)
    while len(text) < chars:  # an analyst's prose between the figures: words, no numbers
        text += "\n\n" + PROSE
    return text[: max(chars, len("\n\n".join(parts)))], claims


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    text, claims = long_reply()
    lookup = Lookup()
    first = verify(text, lookup)
    assert first.verdict == "pass", [(c.text, c.status) for c in first.claims if c.status != "verified"]
    times = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        verify(text, lookup)
        times.append(time.perf_counter() - started)
    ms = 1000.0
    print(f"reply: {len(text)} characters, {len(first.claims)} claims ({claims} expected), verdict {first.verdict}")
    print(
        f"verify: p50 {percentile(times, 0.5) * ms:.2f} ms   p95 {percentile(times, 0.95) * ms:.2f} ms"
        f"   mean {statistics.fmean(times) * ms:.2f} ms   over {args.rounds} rounds   (target: well under 50 ms)"
    )


if __name__ == "__main__":
    main()
