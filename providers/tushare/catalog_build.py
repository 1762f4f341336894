"""Builds `catalog.json`, the catalog of tushare's interfaces, from tushare's own documentation.

    python -m providers.tushare.catalog_build SOURCE_DIR [--out providers/tushare/catalog.json]

SOURCE_DIR is the `tushare_catalog/` folder of the real fixtures: `tushare_docs_20250809/index_N.md`
(tushare.pro's API pages scraped to markdown: each names its api, its points, its row cap, and
tables of input parameters and output fields) and `waditu_skills_api_index.md` (tushare's own
index: api, title, category, description). The PROVENANCE.md beside SOURCE_DIR says which
repository and commit each came from; that goes into the file, so that every answer built on
the catalog can say where its words come from.

The pages are documentation, not a schema: this parser keeps what they state and nothing more
(a unit only where a description names one, points only where a page gives a number).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

DOCS = "tushare_docs_20250809"
INDEX = "waditu_skills_api_index.md"
OUT = Path(__file__).with_name("catalog.json")

_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_API = re.compile(r"^接口[:：]\s*\**\s*([A-Za-z0-9_]+)")
_DOC_ID = re.compile(r"doc_id=(\d+)")
_POINTS = re.compile(r"(\d+)\s*积分")
_CAP = re.compile(r"(?:单次|每次)[^\d，,。]{0,8}(\d+)")
# Units as descriptions write them, longest first; a unit is the whole of a description's last
# parenthesis ("成交额 （千元）"), or what follows 单位 in it ("量，单位：手，下同").
UNITS = ("元/股", "元/克", "元/吨", "百万元", "千万元", "万亿元", "亿元", "万元", "千元", "元", "美元", "港元",
         "亿股", "万股", "股", "万手", "手", "万张", "张", "万笔", "笔", "万户", "户", "万人", "个", "家",
         "次", "倍", "点", "%", "bp", "亿", "万")  # fmt: skip
_UNIT = re.compile(r"[（(]\s*(?:[^（()）]*单位[:：]\s*)?([^（()）]+?)\s*(?:[，,][^（()）]*)?[）)]\s*$")


def plain(text: str) -> str:
    """Markdown as the words it shows: links by their text, no bold, no escapes."""
    text = _LINK.sub(r"\1", text)
    return re.sub(r"\\([_*\[\]()#`|~-])", r"\1", text).replace("**", "").strip()


def unit_of(description: str) -> str | None:
    found = _UNIT.search(description)
    if found is None:
        return None
    word = found.group(1).strip()
    return word if word in UNITS else None


def _cells(line: str) -> list[str]:
    return [plain(c) for c in line.strip().strip("|").split("|")]


def _table(lines: list[str], start: int) -> list[dict[str, str]]:
    """The first markdown table at or after `start`, rows keyed by its header's words."""
    i = start
    while i < len(lines) and not lines[i].lstrip().startswith("|"):
        if i > start and ("参数" in lines[i] and lines[i].startswith("**")):
            return []  # the next section began: this one has no table
        i += 1
    if i + 1 >= len(lines):
        return []
    header = _cells(lines[i])
    rows = []
    for line in lines[i + 2 :]:
        if not line.lstrip().startswith("|"):
            break
        cells = _cells(line)
        rows.append(dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=False)))
    return rows


def _section(lines: list[str], word: str) -> list[dict[str, str]]:
    for i, line in enumerate(lines):
        if word in line and line.lstrip().startswith("**"):
            return _table(lines, i + 1)
    return []


def _line(lines: list[str], *prefixes: str) -> str | None:
    for line in lines:
        for prefix in prefixes:
            if line.startswith(prefix):
                return plain(line[len(prefix) :])
    return None


def page(text: str) -> dict[str, Any] | None:
    """One documentation page as a catalog entry, or None when it documents no api."""
    lines = text.splitlines()
    api = next((m.group(1) for line in lines if (m := _API.match(plain(line)))), None)
    if api is None:
        return None
    source = _line(lines, "**来源**:") or ""
    doc = _DOC_ID.search(source)
    title = next((plain(line[3:]) for line in lines if line.startswith("## ")), "")
    permission = _line(lines, "积分：", "权限：", "积分:", "权限:")
    points = [int(p) for p in _POINTS.findall(permission or "")]
    limit = _line(lines, "限量：", "限量:", "调取说明：")
    cap = _CAP.search(limit or "")
    params = [
        [r.get("名称", ""), r.get("类型", ""), r.get("必选", r.get("必须", "")) == "Y", r.get("描述", "")]
        for r in _section(lines, "输入参数")
        if r.get("名称")
    ]
    fields = [
        [r.get("名称", ""), r.get("类型", ""), r.get("默认显示", r.get("默认输出", "Y")) != "N", r.get("描述", ""),
         unit_of(r.get("描述", ""))]
        for r in _section(lines, "输出参数")
        if r.get("名称")
    ]  # fmt: skip
    return {
        "name": api,
        "crawled": _line(lines, "**爬取时间**:"),
        "doc_id": int(doc.group(1)) if doc else None,
        "title": title,
        "description": _line(lines, "描述：", "描述:") or "",
        "points": points[0] if points else None,
        "permission": permission,
        "row_cap": int(cap.group(1)) if cap else None,
        "limit_note": limit,
        "params": params,
        "fields": fields,
    }


def _union(rows: list[list[Any]], more: list[list[Any]]) -> list[list[Any]]:
    names = {r[0] for r in rows}
    return rows + [r for r in more if r[0] not in names]


def index(text: str) -> list[dict[str, Any]]:
    """tushare's own index: one row per api (an api may appear twice, under two doc ids)."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("| ["):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        name = re.match(r"\[([^\]]+)\]\(([^)]+)\)", cells[0])
        if name is None:
            continue
        doc = re.search(r"/(\d+)\.md", name.group(2))
        rows.append({"name": name.group(1), "doc_id": int(doc.group(1)) if doc else None, "title": plain(cells[1]),
                     "category": plain(cells[2]), "description": plain(cells[3])})  # fmt: skip
    return rows


def provenance(source: Path) -> list[dict[str, str]]:
    """The rows of PROVENANCE.md (beside the source folder) that name the catalog's two sources."""
    text = (source.parent / "PROVENANCE.md").read_text(encoding="utf-8")
    found = []
    for line in text.splitlines():
        if not line.startswith(f"| `{source.name}/"):
            continue
        cells = [c.replace("`", "").strip() for c in line.strip().strip("|").split("|")]
        found.append({"file": cells[0], "kind": cells[1], "repo": cells[4], "path": cells[5], "commit": cells[6]})
    if len(found) != 2:
        raise SystemExit(f"PROVENANCE.md names {len(found)} rows for {source.name}/, expected 2")
    return found


def build(source: Path) -> dict[str, Any]:
    entries: dict[str, dict[str, Any]] = {}
    pages = sorted((source / DOCS).glob("index_*.md"), key=lambda p: int(p.stem.split("_")[1]))
    for path in pages:
        entry = page(path.read_text(encoding="utf-8"))
        if entry is None:
            continue
        known = entries.get(entry["name"])
        if known is None:
            entries[entry["name"]] = {**entry, "also_doc_ids": []}
            continue
        # One api documented on two pages (trade_cal for stocks and futures): the lower doc id is the
        # main page; the other's parameters and fields are valid too.
        first, second = sorted((known, entry), key=lambda e: e["doc_id"] or 0)
        merged = {**first, "params": _union(first["params"], second["params"]),
                  "fields": _union(first["fields"], second["fields"])}  # fmt: skip
        merged["also_doc_ids"] = sorted({*known.get("also_doc_ids", []), second["doc_id"]} - {None})
        entries[entry["name"]] = merged
    for row in index((source / INDEX).read_text(encoding="utf-8")):
        entry = entries.get(row["name"])
        if entry is None:
            entries[row["name"]] = {"name": row["name"], "doc_id": row["doc_id"], "title": row["title"],
                                    "category": row["category"], "description": row["description"], "points": None,
                                    "permission": None, "row_cap": None, "limit_note": None, "params": None,
                                    "fields": None, "also_doc_ids": []}  # fmt: skip
        elif "category" not in entry or entry["doc_id"] == row["doc_id"]:
            entry.update(category=row["category"], title=row["title"] or entry["title"],
                         description=row["description"] or entry["description"])  # fmt: skip
        cap = _CAP.search(row["description"])
        if entries[row["name"]]["row_cap"] is None and cap:  # the newer index states some caps the pages do not
            entries[row["name"]]["row_cap"] = int(cap.group(1))
    crawled = sorted(c for e in entries.values() if (c := e.pop("crawled", None)))
    for entry in entries.values():
        entry.setdefault("category", "")
    return {
        "about": "tushare's interfaces as their documentation states them; built by providers.tushare.catalog_build",
        "crawled": crawled[-1] if crawled else None,  # Asia/Shanghai, when the newest page was scraped
        "sources": provenance(source),
        "interfaces": [entries[name] for name in sorted(entries)],
    }


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("source", type=Path, help="the tushare_catalog/ folder of the real fixtures")
    cli.add_argument("--out", type=Path, default=OUT)
    args = cli.parse_args(argv)
    catalog = build(args.source)
    args.out.write_text(json.dumps(catalog, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    documented = sum(1 for e in catalog["interfaces"] if e["params"] is not None)
    print(f"{args.out}: {len(catalog['interfaces'])} interfaces, {documented} with parameters and fields")
    return 0


if __name__ == "__main__":
    sys.exit(main())
