"""A keep-alive HTTP/1.1 server for a WSGI app, in a thread of its own: cheroot's.

werkzeug's development server, which served moto and the API gateway before, answers each
request in a thread of its own and closes the connection after it: every request paid a TCP
handshake and a thread start, on both sides. cheroot (CherryPy's server, pure Python) keeps a
connection open between requests, parks an idle one in a selector and answers from a fixed
pool of threads. Chosen over waitress by a measurement (docs/benchmarks.md), and because it
reads a request's body as the app asks for it, with the socket's timeout: a client that stops
sending its body times out inside the app, which answers 408 (infra/emulator/gateway.py).
"""

from __future__ import annotations

import threading
from typing import Any

from cheroot.server import HTTPConnection, HTTPRequest
from cheroot.wsgi import Server

LISTEN_BACKLOG = 128  # connections waiting to be accepted (a benchmark opens dozens at once)
# Idle connections kept open (cheroot's default, 10, closes the rest after their answer): every
# pump, container and benchmark client keeps a few.
KEEP_ALIVE_CONNECTIONS = 1000


class _Request(HTTPRequest):
    """cheroot reads what is left of a request's body before it answers, to keep the connection:
    after a 408 (the body stopped coming) it would wait on the silent client and drop the
    answer. A 408 closes the connection instead, as a 413 already does."""

    def send_headers(self) -> None:
        if int(self.status[:3]) == 408:
            self.close_connection = True
        super().send_headers()


class _Connection(HTTPConnection):
    RequestHandlerClass = _Request


class HttpServer:
    """`app` on host:port (0: any free port, then `port` is the real one); `threads` requests are
    answered at once, more wait for a thread; a client silent `timeout` seconds is cut off."""

    def __init__(self, app: Any, host: str, port: int, *, threads: int, timeout: float) -> None:
        self._server = Server(
            (host, port),
            app,
            numthreads=threads,
            timeout=timeout,
            request_queue_size=LISTEN_BACKLOG,
            shutdown_timeout=1,
        )
        self._server.ConnectionClass = _Connection
        self._server.keep_alive_conn_limit = KEEP_ALIVE_CONNECTIONS
        self._server.prepare()  # binds: the port is known from here on
        self.port: int = self._server.bind_addr[1]
        self._thread = threading.Thread(target=self._server.serve, daemon=True, name=f"http-{self.port}")

    def start(self) -> HttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        self._thread.join(timeout=10)
