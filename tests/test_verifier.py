"""The verifier's rules over a corpus of realistic replies (tests/fixtures/replies/corpus.yaml),
checked against real tool answers: no false rejection of a correct reply, every seeded error
caught, each with the status it deserves."""

from __future__ import annotations

from collections import Counter

import pytest

from citation.verdict import STATUSES
from citation.verifier import verify
from tests.verifier_corpus import UNKNOWN, Lookup, Reply, id_of, replies


@pytest.mark.parametrize("reply", replies(), ids=lambda r: r.name)
def test_every_claim_gets_the_status_it_deserves(reply: Reply) -> None:
    verdict = verify(reply.text, Lookup())
    got = [c.status for c in verdict.claims]
    assert got == reply.expect, [(c.text, c.status, c.reason) for c in verdict.claims]
    passing = all(s in ("verified", "derived_verified") for s in reply.expect)
    assert verdict.verdict == ("pass" if passing else "fail")
    assert set(verdict.counts) == set(STATUSES) and sum(verdict.counts.values()) == len(reply.expect)


def test_the_corpus_is_big_and_seeds_every_kind_of_error() -> None:
    corpus = replies()
    statuses = Counter(s for r in corpus for s in r.expect)
    assert len(corpus) >= 60 and sum(statuses.values()) >= 200
    assert all(statuses[s] > 0 for s in STATUSES), statuses
    languages = Counter("en" if r.name.startswith("en_") or "english" in r.name else "cn" for r in corpus)
    assert languages["en"] >= 10 and languages["cn"] >= 40


def test_tolerance_follows_the_digits_shown_and_scales_convert() -> None:
    pe = id_of("fundamentals_600519_20251023")
    mv = id_of("fundamentals_600519_20240620")
    day = id_of("price_600519_20240620")
    text = (f"市盈率 20.44 倍 [{pe}]。总市值 1.88万亿元 [{mv}]。成交额 37.16亿元 [{day}]。"
            f"成交额 37.16万元 [{day}]。市盈率 20.45 倍 [{pe}]。")  # fmt: skip
    verdict = verify(text, Lookup())
    assert [c.status for c in verdict.claims] == ["verified", "verified", "verified", "unit_mismatch", "mismatch"]
    assert verdict.claims[0].matched == "pe_ttm" and verdict.claims[2].matched == "amount"
    wrong = verdict.claims[4]
    assert wrong.expected and {(e.field, e.value) for e in wrong.expected} == {("pe", 21.3191), ("pe_ttm", 20.4403)}


def test_on_fail_citable_lists_what_may_be_quoted_and_lookup_is_asked_once() -> None:
    pe = id_of("fundamentals_600519_20251023")
    lookup = Lookup()
    verdict = verify(f"P/E (TTM) is 21.00 [{pe}], close unknown [{UNKNOWN}] 1,500.10", lookup)
    assert verdict.verdict == "fail" and len(lookup.calls) == 1 and set(lookup.calls[0]) == {pe, UNKNOWN}
    assert verdict.citable[pe]["pe_ttm"].value == 20.4403
    assert UNKNOWN not in verdict.citable


def test_only_the_callers_entries_count() -> None:
    day = id_of("price_600519_20240620")
    verdict = verify(f"收盘 1,500.10 元 [{day}]", Lookup({}))  # someone else's answer: not in this ledger
    assert [c.status for c in verdict.claims] == ["unknown_cite"] and verdict.citable == {}


def test_a_reply_without_numbers_passes_without_asking() -> None:
    lookup = Lookup()
    verdict = verify("暂无数据：fundamentals 未返回估值。", lookup)
    assert verdict.verdict == "pass" and verdict.claims == [] and lookup.calls in ([], [[]])
