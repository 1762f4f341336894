"""Upstream data providers: one module per provider x dataset, all answering standard models.

The upstream libraries and pandas/numpy under them are imported inside the functions that use
them (annotations import them under TYPE_CHECKING), never at module level: they are most of a
server's memory (akshare, yfinance, tushare and pytdx pull in pandas, bs4, lxml, curl_cffi,
py_mini_racer, protobuf, ...), a server loads every provider's modules at start to know what each
can answer, and a given server may never ask most of them. So a library is loaded by the first
question it answers, and a process-wide setting it needs is made where it is first used (yahoo's
`YahooClient._yfinance`) or before anything can import it (akshare's tqdm switch, at package
import). tests/test_lazy_imports.py holds the server's start path to this.
"""
