"""One door to the TDX hq servers: pytdx's `TdxHq_API` over one kept TCP connection, with failover.

TDX speaks a binary protocol over a long-lived socket, and every connection costs three setup
round trips, so the connection is kept and reused; a lock serialises calls because the composer
calls from worker threads and one socket carries one request at a time. Public servers come and
go and close idle connections (pytdx's docs: "由于长时间不与服务器交互，服务器将关闭连接"), so a
request whose reused connection turns out closed is tried once more on a fresh one (a timeout is
not retried here: the guard owns retries), and connecting walks the configured servers in order
until one answers.

pytdx is built with `raise_exception=True`; it then wraps a failed call in `TdxFunctionCallError`
and keeps the cause in `original_exception`. The client re-raises that cause, so `classify`
decides by the class of what actually went wrong (a socket error or a frame it could not decode).
"""

from __future__ import annotations

import contextlib
import functools
import socket
import struct
import threading
import zlib
from typing import Any

from providers.errors import BadPayload, ProviderError, UpstreamUnavailable

NAME = "pytdx"
DEFAULT_PORT = 7709

# Public TDX hq endpoints run by brokers and exchanges' cloud hosts (from pytdx.config.hosts.hq_hosts);
# no account or token is needed. Any of them may be gone on a given day: settings should list the
# servers that answer from the deployment's network, these are only where to start.
DEFAULT_SERVERS: list[tuple[str, int]] = [
    ("180.153.18.170", 7709),  # 上海电信主站Z1
    ("202.108.253.130", 7709),  # 北京联通主站Z1
    ("60.191.117.167", 7709),  # 杭州电信主站J1
    ("115.238.56.198", 7709),  # 杭州电信主站J2
    ("218.75.126.9", 7709),  # 杭州电信主站J3
]


@functools.cache
def _unreachable() -> tuple[type[BaseException], ...]:
    """The connection dropped, timed out or never came up: another try (or server) may well answer."""
    from pytdx.errors import TdxConnectionError
    from pytdx.parser.base import (
        ResponseHeaderRecvFails,
        ResponseRecvFails,
        SendPkgNotReady,
        SendRequestPkgFails,
        SocketClientNotReady,
    )

    return (
        OSError,  # ConnectionRefusedError, ConnectionResetError, BrokenPipeError, TimeoutError (socket.timeout)
        TdxConnectionError,
        SocketClientNotReady,
        SendPkgNotReady,
        SendRequestPkgFails,
        ResponseHeaderRecvFails,  # pytdx's name for "the server closed before a full header came"
        ResponseRecvFails,
    )


# The server answered, with a frame pytdx cannot decode (bad zlib stream, fewer bytes than announced).
_GARBLED: tuple[type[BaseException], ...] = (
    zlib.error,
    struct.error,
    IndexError,
    ValueError,
    KeyError,
    TypeError,
    OverflowError,
)


def parse_servers(text: list[str]) -> list[tuple[str, int]]:
    """`["host:port", "host"]` from settings as (host, port) pairs; the port defaults to 7709."""
    servers: list[tuple[str, int]] = []
    for entry in text:
        item = entry.strip()
        host, colon, port = item.rpartition(":")
        if not colon:
            host, port = item, str(DEFAULT_PORT)
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"TDX server {entry!r} is not host:port (e.g. 180.153.18.170:7709)")
        servers.append((host, int(port)))
    return servers


def _cause(exc: BaseException) -> BaseException:
    from pytdx.errors import TdxFunctionCallError

    if isinstance(exc, TdxFunctionCallError) and isinstance(exc.original_exception, BaseException):
        return exc.original_exception
    return exc


def classify(dataset: str, exc: Exception) -> ProviderError:
    """Turn what pytdx (or the socket under it) raised into a typed error, by class alone."""
    if isinstance(exc, ProviderError):
        return exc
    cause = _cause(exc)
    kind = type(cause).__name__
    if isinstance(cause, _unreachable()):
        return UpstreamUnavailable(f"TDX hq server unreachable ({kind})", provider=NAME, dataset=dataset)
    if isinstance(cause, _GARBLED):
        return BadPayload(f"TDX hq server sent a frame pytdx cannot decode ({kind})", provider=NAME, dataset=dataset)
    return UpstreamUnavailable(f"TDX hq request failed ({kind})", provider=NAME, dataset=dataset)


def _close(api: Any) -> None:
    """Close pytdx's socket ourselves: its `disconnect` skips `close` when `shutdown` fails."""
    sock = getattr(api, "client", None)
    api.client = None
    if sock is not None:
        with contextlib.suppress(OSError):  # never connected, or the peer is gone already
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


class TdxClient:
    def __init__(self, servers: list[tuple[str, int]], timeout: float) -> None:
        if not servers:
            raise ValueError("TdxClient needs at least one TDX hq server")
        self.servers = list(servers)
        self.timeout = timeout
        self._api: Any = None
        self._server: tuple[str, int] | None = None
        self._lock = threading.Lock()

    @property
    def server(self) -> tuple[str, int] | None:
        """The server of the kept connection, if one is open."""
        return self._server

    def bars(self, category: int, market: int, code: str, start: int, count: int) -> list[dict[str, Any]]:
        """`get_security_bars`: `count` bars ending `start` bars before the newest, oldest first."""
        with self._lock:
            reused = self._api is not None
            try:
                return self._bars(category, market, code, start, count)
            except _unreachable() as exc:
                self._drop()
                if not reused or isinstance(exc, TimeoutError):  # a slow server is the guard's to retry
                    raise
            except BaseException:
                self._drop()  # the stream may be out of step with the frames: never reuse it
                raise
            try:  # the kept connection had gone stale: once more, on a fresh one
                return self._bars(category, market, code, start, count)
            except BaseException:
                self._drop()
                raise

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _bars(self, category: int, market: int, code: str, start: int, count: int) -> list[dict[str, Any]]:
        from pytdx.errors import TdxFunctionCallError

        api = self._api if self._api is not None else self._connect()
        try:
            answer = api.get_security_bars(category, market, code, start, count)
        except TdxFunctionCallError as exc:
            raise _cause(exc) from exc
        if not isinstance(answer, list):
            raise TypeError(f"get_security_bars returned {type(answer).__name__}")
        return answer

    def _connect(self) -> Any:
        from pytdx.hq import TdxHq_API

        tried: list[str] = []
        last: BaseException | None = None
        for host, port in self.servers:
            api = TdxHq_API(raise_exception=True)
            try:
                api.connect(host, port, time_out=self.timeout)
            except Exception as exc:  # refused, timed out, or dropped during pytdx's setup commands
                _close(api)
                tried.append(f"{host}:{port} ({type(exc).__name__})")
                last = exc
                continue
            self._api, self._server = api, (host, port)
            return api
        raise ConnectionError(f"no TDX hq server answered: {', '.join(tried)}") from last

    def _drop(self) -> None:
        if self._api is not None:
            _close(self._api)
        self._api, self._server = None, None
