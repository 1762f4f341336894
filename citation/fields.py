"""Which words fit which fields: the metric a reply names beside a number decides what it may match.

A number that equals some other field of the cited result is not evidence for the metric the
sentence names ("市盈率 27.39" where 27.39 is a PE band is wrong), so the words beside a number are
read into the set of field kinds they call for. Kinds are the fields' own names (pe_ttm,
close_raw, ma_20, ...); table columns get theirs in `citation.facts`. Words that name no metric
leave the number free to match any field. Derived words (涨跌幅, 差, 倍于) mark numbers that may
be recomputed from cited inputs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Derivation = Literal["change", "difference", "ratio", "sum"]


@dataclass(frozen=True, slots=True)
class Wording:
    kinds: frozenset[str] | None = None  # the fields the words call for; None: the words name none
    derived: Derivation | None = None
    named: str | None = None  # the metric word as written
    falling: bool = False  # 下跌 / fell: an unsigned number states a negative value


NO_WORDING = Wording()
_L, _R = r"(?<![a-z])", r"(?![a-z])"
_CN_WINDOWS = {"五": 5, "十": 10, "二十": 20, "六十": 60, "一百二十": 120, "二百五十": 250}
_QFQ = re.compile(r"前复权|qfq|forward[- ]adjusted|adj(?:usted|\.)?\s*clos", re.I)
_HFQ = re.compile(r"后复权|hfq|backward[- ]adjusted", re.I)
_TTM = re.compile(r"ttm|滚动|trailing|近四季|近12个月|lfy", re.I)
_STATIC = re.compile(r"静态|lyr|static", re.I)
_DYNAMIC = re.compile(r"动态|forward|dynamic", re.I)
_LOW = re.compile(r"低|下沿|下限|下轨|low|bottom|floor", re.I)
_MID = re.compile(r"中枢|中位|中值|中轨|均值|mid|median|middle", re.I)
_HIGH = re.compile(r"高|上沿|上限|上轨|high|top|ceiling", re.I)
_FALLING = re.compile(r"跌|下降|回落|减少|下滑|走低|fell|down|declin|drop|decreas|lost|lower|negative", re.I)


def _adjusted(stem: str) -> Callable[[str, int | None], frozenset[str]]:
    def kinds(context: str, _window: int | None) -> frozenset[str]:
        qfq, hfq = bool(_QFQ.search(context)), bool(_HFQ.search(context))
        if qfq or hfq:
            return frozenset({f"{stem}_qfq"} if qfq and not hfq else {f"{stem}_hfq"} if hfq and not qfq else
                             {f"{stem}_qfq", f"{stem}_hfq"})  # fmt: skip
        if re.search(r"(?<!不)复权|adjusted", context, re.I):
            return frozenset({f"{stem}_qfq", f"{stem}_hfq"})
        return frozenset({f"{stem}_raw"})

    return kinds


def _pre_close(context: str, window: int | None) -> frozenset[str]:
    closes = _adjusted("close")(context, window)  # the previous day's close, cited from that day, counts too
    return closes | {c.replace("close", "pre_close") for c in closes}


def _ttm_or_static(static: str, ttm: str, dynamic: str | None = None) -> Callable[[str, int | None], frozenset[str]]:
    def kinds(context: str, _window: int | None) -> frozenset[str]:
        if _TTM.search(context):
            return frozenset({ttm})
        if _STATIC.search(context):
            return frozenset({static})
        if dynamic and _DYNAMIC.search(context):
            return frozenset({ttm, dynamic})
        return frozenset({static, ttm} | ({dynamic} if dynamic else set()))

    return kinds


def _band(context: str, _window: int | None) -> frozenset[str]:
    picked = {
        k for k, p in (("pe_band_low", _LOW), ("pe_band_mid", _MID), ("pe_band_high", _HIGH)) if p.search(context)
    }
    return frozenset(picked or {"pe_band_low", "pe_band_mid", "pe_band_high"})


def _windowed(stem: str, suffix: str, windows: tuple[int, ...]) -> Callable[[str, int | None], frozenset[str]]:
    def kinds(_context: str, window: int | None) -> frozenset[str]:
        return frozenset({f"{stem}{window}{suffix}"} if window else {f"{stem}{w}{suffix}" for w in windows})

    return kinds


def _fixed(*names: str) -> Callable[[str, int | None], frozenset[str]]:
    return lambda _context, _window: frozenset(names)


_N = r"(?P<n3>\d+|五|十|二十|六十|一百二十|二百五十)"
_GROWTH = r"同比(?:增长|增速|增幅|下降|下滑|减少|上升)?|增长|增速|增幅|下降|下滑|减少|上升"
_EN_GROWTH = r"growth|yoy|y/y|rose|grew|fell|declined|increased|decreased|up|down"
# (pattern, kinds, derivation); earlier and longer matches win where matches overlap.
_METRICS: list[tuple[re.Pattern[str], Callable[[str, int | None], frozenset[str]], Derivation | None]] = [
    (re.compile(r"pe_band_(?:low|mid|high)|(?:p/?e|市盈率|估值)\s*(?:band|区间|通道|带)|估值带|band\s*(?:low|mid|high)", re.I),
     _band, None),
    (re.compile(r"分位|percentile", re.I), _fixed("pe_percentile"), None),
    # The tables' own columns (dividends, holders, index weights, money flow, forecasts), before the
    # words they contain (股息, 净利润, 股本) claim them for other fields.
    (re.compile(r"每股(?:现金)?(?:分红|派息|红利|派现)|现金分红|派息|cash_div(?:_tax)?", re.I),
     _fixed("cash_div_tax", "cash_div"), None),
    (re.compile(r"每股送(?:股|红股)?|送股|stk_div", re.I), _fixed("stk_div"), None),
    (re.compile(r"(?:每股)?转增|stk_bo_rate|stk_co_rate", re.I), _fixed("stk_bo_rate", "stk_co_rate"), None),
    (re.compile(r"占流通股(?:本|份)?(?:的)?比例|hold_float_ratio", re.I), _fixed("hold_float_ratio"), None),
    (re.compile(r"持股比例|占总股本(?:的)?比例|hold_ratio", re.I), _fixed("hold_ratio", "hold_float_ratio"), None),
    (re.compile(r"持股(?:数量?)?|持有(?:股份|股数)|hold_amount", re.I), _fixed("hold_amount"), None),
    (re.compile(r"股东户数|股东人数|holder_num", re.I), _fixed("holder_num"), None),
    (re.compile(rf"权重|{_L}weight(?:ing)?{_R}", re.I), _fixed("weight"), None),
    (re.compile(r"(?:主力)?(?:资金)?净流[入出]|资金流向|net_mf_amount", re.I), _fixed("net_mf_amount"), None),
    (re.compile(r"(?:预计|预告|预增|预减)[^，,。；\d]{0,8}?(?:\d{4}年(?:度)?)?[^，,。；\d]{0,4}?(?:归母)?净利润|"
                r"net_profit_(?:min|max)", re.I),
     _fixed("net_profit_min", "net_profit_max"), None),
    (re.compile(r"(?:净利润)?(?:同比)?变动幅度|p_change_(?:min|max)", re.I), _fixed("p_change_min", "p_change_max"), None),
    (re.compile(rf"市盈率|p/e|{_L}pe(?:_ttm)?{_R}|price[- ]to[- ]earnings|price/earnings|earnings multiple", re.I),
     _ttm_or_static("pe", "pe_ttm", "pe_dynamic"), None),
    (re.compile(rf"市净率|p/b|{_L}pb{_R}|price[- ]to[- ]book", re.I), _fixed("pb"), None),
    (re.compile(rf"市销率|p/s|{_L}ps(?:_ttm)?{_R}|price[- ]to[- ]sales", re.I), _ttm_or_static("ps", "ps_ttm"), None),
    (re.compile(rf"股息收益率|股息率|股息|dividend yield|{_L}dy{_R}|dv_ratio|dv_ttm", re.I),
     _ttm_or_static("dv_ratio", "dv_ttm"), None),
    (re.compile(r"换手率|换手|turnover[ _](?:rate|ratio)", re.I), _fixed("turnover_rate"), None),
    (re.compile(r"流通市值|(?:free[- ])?float(?:ing)? market (?:cap|value)|circulating market (?:cap|value)|circ_mv",
                re.I), _fixed("circ_mv"), None),
    (re.compile(r"总市值|市值|market cap(?:itali[sz]ation)?|market value|mkt cap|total_mv", re.I),
     _fixed("total_mv"), None),
    (re.compile(r"流通股本|流通股份?|float(?:ing)? shares|free float|float_share", re.I), _fixed("float_share"), None),
    (re.compile(r"总股本|股本|总股数|(?:shares|share count) outstanding|outstanding shares|total shares|total_share",
                re.I), _fixed("total_share"), None),
    (re.compile(rf"基本每股收益|{_L}basic[ _]eps{_R}|basic earnings per share", re.I), _fixed("basic_eps", "eps"), None),
    (re.compile(rf"每股收益|每股盈利|{_L}eps{_R}|earnings per share", re.I), _fixed("eps", "basic_eps"), None),
    (re.compile(rf"每股净资产|{_L}bps{_R}|book value per share", re.I), _fixed("bps"), None),
    (re.compile(rf"净资产收益率|{_L}roe{_R}|return on equity", re.I), _fixed("roe"), None),
    (re.compile(rf"总资产收益率|资产收益率|总资产报酬率|{_L}roa{_R}|return on assets", re.I), _fixed("roa"), None),
    (re.compile(r"毛利率|gross (?:profit )?margin|grossprofit_margin", re.I), _fixed("grossprofit_margin"), None),
    (re.compile(r"销售净利率|净利润率|净利率|net (?:profit )?margin|netprofit_margin", re.I),
     _fixed("netprofit_margin"), None),
    (re.compile(r"资产负债率|负债率|debt[- ]to[- ]assets?|debt ratio|liabilit(?:y|ies)[- ]to[- ]assets?|debt_to_assets",
                re.I), _fixed("debt_to_assets"), None),
    (re.compile(r"流动比率|current[ _]ratio", re.I), _fixed("current_ratio"), None),
    (re.compile(rf"(?:营收|营业总?收入|收入)[^，,。；\d]{{0,4}}?(?:{_GROWTH})|(?:revenue|sales) (?:{_EN_GROWTH})|or_yoy",
                re.I), _fixed("or_yoy"), None),
    (re.compile(rf"(?:归母净利润|净利润|净利|利润)[^，,。；\d]{{0,4}}?(?:{_GROWTH})|"
                rf"(?:net profit|net income|earnings|profit) (?:{_EN_GROWTH})|netprofit_yoy", re.I),
     _fixed("netprofit_yoy"), None),
    (re.compile(rf"同比(?:{_GROWTH})?|{_L}yoy{_R}|y/y|year[- ]over[- ]year", re.I),
     _fixed("or_yoy", "netprofit_yoy", "yoy"), None),  # yoy: a macro series' own column
    # Income statement levels (after their growth words: "净利润同比增长" is a growth rate, not a level).
    (re.compile(r"营业利润|operating profit|operate_profit", re.I), _fixed("operate_profit"), None),
    (re.compile(r"归属于(?:上市公司|母公司)?(?:股东|所有者)的净利润|归母净利润|净利润|净利|net profit|net income|"
                r"n_income_attr_p", re.I), _fixed("n_income_attr_p"), None),
    (re.compile(rf"营业收入|营收|收入|{_L}revenues?{_R}|{_L}sales{_R}", re.I), _fixed("revenue"), None),
    # Balance sheet and cash flow levels (after the ratios that name them: 资产负债率, 总资产收益率).
    (re.compile(r"资产总计|资产总额|总资产|total assets|total_assets", re.I), _fixed("total_assets"), None),
    (re.compile(r"负债合计|负债总额|总负债|total liabilities|total_liab", re.I), _fixed("total_liab"), None),
    (re.compile(r"归属于(?:上市公司|母公司)?(?:股东|所有者)的?(?:权益|净资产)|归母(?:股东|所有者)?(?:权益|净资产)|"
                r"equity attributable to (?:the )?(?:parent|shareholders)|total_hldr_eqy_exc_min_int", re.I),
     _fixed("total_hldr_eqy_exc_min_int"), None),
    (re.compile(r"(?:股东|所有者)权益合计|total (?:shareholders' )?equity|total_hldr_eqy_inc_min_int", re.I),
     _fixed("total_hldr_eqy_inc_min_int"), None),
    (re.compile(r"经营活动(?:产生的)?现金流量?净额|经营(?:性)?现金流(?:量)?(?:净额)?|operating cash flows?|"
                r"cash flows? from operati(?:ons|ng activities)|n_cashflow_act", re.I), _fixed("n_cashflow_act"), None),
    (re.compile(r"投资活动(?:产生的)?现金流量?净额|投资(?:性)?现金流(?:量)?(?:净额)?|investing cash flows?|"
                r"n_cashflow_inv_act", re.I), _fixed("n_cashflow_inv_act"), None),
    (re.compile(r"筹资活动(?:产生的)?现金流量?净额|筹资(?:性)?现金流(?:量)?(?:净额)?|financing cash flows?|"
                r"n_cash_flows_fnc_act", re.I), _fixed("n_cash_flows_fnc_act"), None),
    (re.compile(r"现金及现金等价物净增加额|net (?:increase|change) in cash|n_incr_cash_cash_equ", re.I),
     _fixed("n_incr_cash_cash_equ"), None),
    (re.compile(r"期末现金及现金等价物余额|期末现金(?:余额)?|cash (?:and cash equivalents )?at (?:the )?end of (?:the )?"
                r"period|c_cash_equ_end_period", re.I), _fixed("c_cash_equ_end_period"), None),
    (re.compile(rf"{_L}(?:s?ma|ema)[ _]?(?P<n>\d+)|{_N}\s*日\s*(?:均线|均价|移动平均线?)|(?P<n2>\d+)[- ]day "
                r"(?:moving average|s?ma)|均线|moving average", re.I), _windowed("ma_", "", (5, 10, 20, 60)), None),
    (re.compile(rf"{_N}\s*(?:个)?(?:交易)?日\s*(?:的)?\s*(?:累计)?\s*(?:涨跌幅|涨幅|跌幅|动量|收益率?|回报|表现|上涨|下跌|涨|跌)|(?P<n2>\d+)[- ]day "
                r"(?:momentum|return|change|performance)|momentum(?:_(?P<n>\d+)d)?|动量", re.I),
     _windowed("momentum_", "d", (5, 20)), None),
    (re.compile(rf"波动率|volatility(?:_(?P<n>\d+)d)?|{_L}vol_(?P<n2>\d+)d", re.I), _windowed("volatility_", "d", (20,)),
     None),
    (re.compile(r"复权因子|adj(?:ustment)?[ _]factor(?:_latest)?", re.I), _fixed("adj_factor", "adj_factor_latest"), None),
    (re.compile(r"昨收盘?价?|前收盘价?|前收|昨日收盘价?|(?:上一|前一)(?:个)?(?:交易)?日收盘价?|previous close|prior close|"
                r"prev(?:ious)?\.? close|pre_close", re.I), _pre_close, None),
    (re.compile(rf"收盘价?|收于|报收|收报|{_L}clos(?:e|ed|ing)(?: price)?{_R}|close_(?:raw|qfq|hfq)|股价|价格|现价|最新价|"
                rf"share price|stock price|{_L}price{_R}", re.I), _adjusted("close"), None),
    (re.compile(rf"开盘价?|开于|开报|{_L}open(?:ed|ing)?(?: price)?{_R}|open_raw", re.I), _adjusted("open"), None),
    (re.compile(rf"最高价?|日内高点|{_L}(?:intraday |day'?s )?high{_R}|high_raw", re.I), _adjusted("high"), None),
    (re.compile(rf"最低价?|日内低点|{_L}(?:intraday |day'?s )?low{_R}|low_raw", re.I), _adjusted("low"), None),
    (re.compile(rf"成交量|{_L}volume{_R}|{_L}vol{_R}", re.I), _fixed("volume"), None),
    (re.compile(rf"成交额|成交金额|{_L}turnover{_R}|traded value|trading value|value traded|{_L}amount{_R}", re.I),
     _fixed("amount"), None),
    (re.compile(rf"成交|{_L}traded{_R}|{_L}trading{_R}", re.I), _fixed("volume", "amount"), None),
    (re.compile(rf"合计|总计|共计|加总|合共|总和|{_L}sum{_R}|combined|in total", re.I), _fixed(), "sum"),
    (re.compile(rf"相差|价差|差值|差额|差距|差|高出|低出|高于|低于|多出|溢价|折价|{_L}spread{_R}|difference|{_L}gap{_R}|"
                rf"higher than|lower than|premium|discount", re.I), _fixed("change"), "difference"),
    (re.compile(rf"涨跌幅|涨跌额|涨幅|跌幅|涨跌|上涨|下跌|收涨|收跌|涨|跌|变动|变化|回报|收益率|{_L}return{_R}|{_L}change[ds]?{_R}|"
                rf"{_L}gain(?:ed|s)?{_R}|{_L}rose{_R}|{_L}fell{_R}|{_L}dropped{_R}|{_L}declined{_R}|{_L}up{_R}|{_L}down{_R}|"
                rf"increased?|decreased?|增长|下降|上升|回落|反弹|提高|提升|升高|降低|增加|减少|扩大|收窄|缩小|回升|pct_chg", re.I), _fixed("pct_chg", "change"), "change"),
]  # fmt: skip
_BANDED = {"pe_band_low", "pe_band_mid", "pe_band_high"}


@dataclass(frozen=True, slots=True)
class MetricSpan:
    start: int
    end: int
    index: int  # into _METRICS
    window: int | None


def metric_spans(text: str) -> list[MetricSpan]:
    """Every metric word in `text`, left to right; a match inside a longer or earlier one is dropped."""
    found: list[MetricSpan] = []
    for index, (pattern, _kinds, _derived) in enumerate(_METRICS):
        for match in pattern.finditer(text):
            if match.end() == match.start() or any(s.start < match.end() and match.start() < s.end for s in found):
                continue
            found.append(MetricSpan(match.start(), match.end(), index, _window(match)))
    return sorted(found, key=lambda s: s.start)


def _window(match: re.Match[str]) -> int | None:
    for name in ("n", "n2", "n3"):  # a pattern names its window groups n, n2, n3
        if name in match.re.groupindex and match.group(name):
            text = match.group(name)
            return _CN_WINDOWS[text] if text in _CN_WINDOWS else int(text)
    return None


_AFTER_REACH = 8
_TO_LEVEL = re.compile(r"\s*了?\s*(?:至|到|为|to|at)(?![a-z])", re.I)
_NEUTRAL = re.compile(r"涨跌|增减|变动|变化|change", re.I)


def wording(before: str, after: str = "") -> Wording:
    """The fields the words call for: the metric named nearest before the number, else just after it.

    A change word followed by 至/到/to ("下降至 23.15 倍", "rose to 1,524") states a level, not a
    change, so the metric before it is the one named.
    """
    chosen, text = _nearest(before), before
    if chosen is None:  # "1,500.10 元的收盘价": a field named right after the number; never a change word there
        near = after[:_AFTER_REACH]
        spans = [s for s in metric_spans(near) if _METRICS[s.index][2] is None]
        chosen, text = (spans[0], near) if spans else (None, near)
    if chosen is None:
        return NO_WORDING
    named = text[chosen.start : chosen.end]
    _pattern, kinds, derived = _METRICS[chosen.index]
    context = text[chosen.start :] + " " + after if kinds is _band else before + " " + after
    found = kinds(context, chosen.window)
    if derived is None and found & _BANDED and kinds is not _band:
        found -= _BANDED
    falling = bool(_FALLING.search(named)) and not _NEUTRAL.search(named)
    if derived is None and text is before:
        comparison = _comparison(before, chosen)
        if comparison is not None:
            word = before[comparison.start : comparison.end]
            return Wording(found or None, _METRICS[comparison.index][2], named,
                           bool(_FALLING.search(word)) and not _NEUTRAL.search(word))  # fmt: skip
    return Wording(found or None, derived, named, falling)


def _comparison(before: str, field: MetricSpan) -> MetricSpan | None:
    """'收盘价高于 MA20 约 0.31%', 'PE 较区间中枢折价 15.48%': a field, then a comparison, then a field (or the
    comparison last): the number may be the second field, or how the two compare."""
    spans = metric_spans(before)
    fields = [s for s in spans if _METRICS[s.index][2] is None]
    for word in spans:
        derived = _METRICS[word.index][2]
        if derived not in ("change", "difference") or _TO_LEVEL.match(before, word.end):
            continue
        if any(f.end <= word.start for f in fields) and (field.start >= word.end or field.end <= word.start) and \
                len(fields) >= 2:  # fmt: skip
            return word
    return None


def _nearest(before: str) -> MetricSpan | None:
    spans = sorted(metric_spans(before), key=lambda s: s.end, reverse=True)
    band = [s for s in spans if _METRICS[s.index][1] is _band]
    if band:
        return band[0]
    for span in spans:
        if _METRICS[span.index][2] == "change" and _TO_LEVEL.match(before, span.end):
            continue
        return span
    return None


def is_qualifier_only(text: str) -> bool:
    """Words like '静态' or 'TTM' with no metric: they qualify the metric named just before."""
    return not metric_spans(text) and bool(_TTM.search(text) or _STATIC.search(text) or _QFQ.search(text)
                                           or _HFQ.search(text))  # fmt: skip
