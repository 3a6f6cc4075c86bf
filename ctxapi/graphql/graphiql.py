"""GraphiQL, the page a browser gets from ``GET /graphql``, and its assets (no CDN needed)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask import Flask, Response, render_template_string, send_from_directory, url_for

from ctxapi.config import PROJECT_ROOT

STATIC = Path(__file__).parent / "static" / "graphiql"
HEADLINE_QUERY = PROJECT_ROOT / "schema" / "queries" / "customer_context.graphql"
DEFAULT_VARIABLES = '{"email": "sofia.marquez@example.com"}'

_GRAPHIQL_HTML = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>ctxapi · GraphiQL</title>
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
  <link rel="stylesheet" href="{{ static('graphiql.min.css') }}">
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="{{ static('react.production.min.js') }}"></script>
  <script src="{{ static('react-dom.production.min.js') }}"></script>
  <script src="{{ static('graphiql.min.js') }}"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({ url: {{ endpoint | tojson }} });
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, {
        fetcher,
        defaultQuery: {{ default_query | tojson }},
        variables: {{ default_variables | tojson }},
        defaultHeaders: {{ default_headers | tojson }},
        shouldPersistHeaders: false,
      })
    );
  </script>
</body>
</html>
"""


def init_app(app: Flask) -> None:
    """Serve the page's assets at ``/graphiql/<filename>`` (the view serves the page)."""
    app.add_url_rule("/graphiql/<path:filename>", "graphiql_static", graphiql_static)


def graphiql_static(filename: str) -> Response:
    """One of the page's assets; browsers may keep it for a day."""
    return send_from_directory(STATIC, filename, max_age=86400)


@cache
def _default_query() -> str:
    """The headline query, read once per process."""
    return HEADLINE_QUERY.read_text() if HEADLINE_QUERY.exists() else "{ apiVersion }"


def graphiql_page(key: str = "") -> Response:
    """GraphiQL, served from assets shipped in the package (no CDN needed); with ``key``, its
    Headers tab sends it (``make run``'s development key)."""
    headers = '{"Authorization": "Bearer ' + key + '"}' if key else '{"Authorization": "Bearer "}'
    html = render_template_string(
        _GRAPHIQL_HTML,
        static=lambda name: url_for("graphiql_static", filename=name),
        endpoint=url_for("graphql"),
        default_query=_default_query(),
        default_variables=DEFAULT_VARIABLES,
        default_headers=headers,
    )
    return Response(html, mimetype="text/html")
