"""The keep-alive server of moto, the gateway and the control endpoint (http_server.py)."""

from __future__ import annotations

import socket
from typing import Any

import httpx
from werkzeug.wrappers import Request, Response

from infra.emulator.http_server import HttpServer


def client_port(environ: dict[str, Any], start_response: Any) -> Any:
    return Response(environ["REMOTE_PORT"])(environ, start_response)


def test_each_client_s_requests_share_one_connection_with_dozens_of_clients_open():
    server = HttpServer(client_port, "127.0.0.1", 0, threads=2, timeout=5).start()
    clients = [httpx.Client(base_url=f"http://127.0.0.1:{server.port}") for _ in range(40)]
    try:
        for http in clients:  # each opens a connection, then leaves it idle
            http.get("/")
        for http in clients:
            answers = [http.get("/") for _ in range(3)]
            assert len({answer.text for answer in answers}) == 1, [answer.text for answer in answers]
            assert all("close" not in answer.headers.get("connection", "") for answer in answers)
    finally:
        for http in clients:
            http.close()
        server.stop()


def read_or_408(environ: dict[str, Any], start_response: Any) -> Any:
    try:
        Request(environ).get_data()
    except TimeoutError:
        return Response("the body stopped coming", status=408)(environ, start_response)
    return Response("read")(environ, start_response)


def test_a_408_for_a_body_that_stopped_coming_is_sent_and_the_connection_closed():
    server = HttpServer(read_or_408, "127.0.0.1", 0, threads=2, timeout=0.5).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
            conn.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            answer = b""
            while chunk := conn.recv(65536):  # the server closes after its answer
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert b"Connection: close" in answer
    finally:
        server.stop()
