"""moto's server on 127.0.0.1 in this process, every request counted (request_counter.py).

What moto's ThreadedMotoServer does (a threaded werkzeug server with moto's own request
handler), with the counter around moto's app.
"""

from __future__ import annotations

import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from infra.emulator.request_counter import RequestCounter


class MotoServer:
    def __init__(self, host: str, port: int = 0) -> None:
        self.requests = RequestCounter(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            host, port, self.requests, threaded=True, request_handler=MotoRequestHandler
        )
        self.url = "http://{}:{}".format(*self._server.server_address[:2])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="moto")

    def start(self) -> MotoServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
