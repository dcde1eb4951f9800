"""The web console and the API docs, served by `orders dev` beside the API (same port).

- `/_console/` is a static page (infra/dev/console_static: HTML, CSS and plain JavaScript,
  no build step) that polls `/_console/api/...`, which is the control API itself: the page
  sees exactly what `orders dlq`, `orders invoke` and the tests see.
- `/_docs/` is Swagger UI for generated/openapi.json, from the assets the swagger-ui-py
  package ships (nothing from a CDN), with the running API as the document's server, so that
  "Try it out" calls it; "Authorize" takes a token from `orders token`.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Response

from infra import topology

CONSOLE_FILES = Path(__file__).with_name("console_static")
DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>orders API — Swagger UI</title>
<link rel="stylesheet" href="assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="assets/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui", persistAuthorization: true});
</script></body></html>
"""


def swagger_assets() -> Path:
    return Path(str(resources.files("swagger_ui") / "static"))


class Console:
    """A WSGI app for /_console and /_docs; everything else is not its business (404)."""

    def __init__(self, control: Callable[..., Any], api_url: str) -> None:
        self.control, self.api_url = control, api_url
        self._map = Map(
            [
                Rule("/_console", redirect_to="/_console/"),
                Rule("/_console/", endpoint=self.page),
                Rule("/_console/api/<path:path>", endpoint=self.through_control_api),
                Rule("/_console/<name>", endpoint=self.console_file),
                Rule("/_docs", redirect_to="/_docs/"),
                Rule("/_docs/", endpoint=self.docs_page),
                Rule("/_docs/openapi.json", endpoint=self.openapi),
                Rule("/_docs/assets/<name>", endpoint=self.docs_asset),
            ]
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        try:
            answer, arguments = self._map.bind_to_environ(environ).match()
            response = answer(environ, **arguments)
        except HTTPException as error:
            response = error
        return response(environ, start_response)

    def page(self, environ: dict[str, Any]) -> Response:
        return self.console_file(environ, "index.html")

    def console_file(self, environ: dict[str, Any], name: str) -> Response:
        return _file(CONSOLE_FILES, name)

    def through_control_api(self, environ: dict[str, Any], path: str) -> Any:
        """/_console/api/orders -> the control API's /local/orders, in this process."""
        forwarded = {**environ, "PATH_INFO": f"/local/{path}", "SCRIPT_NAME": ""}
        return _Wsgi(self.control, forwarded)

    def docs_page(self, environ: dict[str, Any]) -> Response:
        return Response(DOCS_PAGE, mimetype="text/html")

    def openapi(self, environ: dict[str, Any]) -> Response:
        document = {**topology.openapi(), "servers": [{"url": self.api_url, "description": "orders dev"}]}
        return Response(json.dumps(document), mimetype="application/json")

    def docs_asset(self, environ: dict[str, Any], name: str) -> Response:
        return _file(swagger_assets(), name)


class _Wsgi:
    """Another WSGI app's answer, as a response object."""

    def __init__(self, app: Callable[..., Any], environ: dict[str, Any]) -> None:
        self.app, self.environ = app, environ

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.app(self.environ, start_response)


def _file(directory: Path, name: str) -> Response:
    path = directory / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise NotFound(f"no {name}")
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Response(path.read_bytes(), mimetype=kind)


def mounted(gateway: Callable[..., Any], console: Console) -> Callable[..., Any]:
    """The API port's app: /_console and /_docs to the console, everything else to the gateway."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        chosen = console if path.split("/", 2)[1:2] in (["_console"], ["_docs"]) else gateway
        return chosen(environ, start_response)

    return app
