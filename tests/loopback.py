"""What every loopback stand-in shares: a threaded server on 127.0.0.1, its lifecycle, its replies.

Each stand-in speaks one upstream's wire format in `handle`; this module owns the rest, so
that the stand-ins differ only in what they answer.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, Self


class _Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: a burst of connections past it has its SYNs dropped
    # and retried a second later, a wait no real upstream imposes (theirs are hundreds deep).
    request_queue_size = 128


class LoopbackHTTP:
    """Start with `start()`; `url` is the base URL to point the client at."""

    methods: tuple[str, ...] = ("GET",)  # others get the standard library's 501
    base_path = ""
    protocol_version = "HTTP/1.0"  # "HTTP/1.1" keeps connections open, as real upstreams do

    def __init__(self, port: int) -> None:
        self._lock = threading.Lock()
        fake = self

        def serve(request: BaseHTTPRequestHandler) -> None:
            fake.handle(request)

        def quiet(request: BaseHTTPRequestHandler, format: str, *args: Any) -> None:
            pass

        handler = type(
            "Handler", (BaseHTTPRequestHandler,), {"log_message": quiet, "protocol_version": self.protocol_version}
        )
        for method in self.methods:
            setattr(handler, f"do_{method}", serve)
        self._server = _Server(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}{self.base_path}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError


def respond(request: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]) -> None:
    request.send_response(status)
    for name, value in headers.items():
        request.send_header(name, value)
    request.send_header("Content-Length", str(len(body)))
    try:
        request.end_headers()
        request.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up waiting (timeout tests)


class Stoppable(Protocol):
    def stop(self) -> None: ...


def run_until_interrupted(server: Stoppable, banner: str) -> None:
    """For `python -m tests.fake_*`: serve until Ctrl-C."""
    print(f"{banner}; Ctrl-C to stop", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
