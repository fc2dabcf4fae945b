"""The OpenAPI 3.1 document of the JSON API (served at /api/openapi.json; docs/api.md explains it)."""

from __future__ import annotations

from typing import Any

from trailhouse import __version__

_ERROR = {"$ref": "#/components/responses/Error"}
_FILTERS = [
    {
        "name": "since",
        "in": "query",
        "schema": {"type": "string"},
        "description": "Date, ISO time or age (7d).",
    },
    {
        "name": "until",
        "in": "query",
        "schema": {"type": "string"},
        "description": "Exclusive end, same forms.",
    },
    {"name": "account", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{12}$"}},
    {"name": "region", "in": "query", "schema": {"type": "string"}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
]
_TABLE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "columns": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "type": {"type": "string"}},
            },
        },
        "rows": {"type": "array", "items": {"type": "array"}},
    },
}


def _ok(description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["ok"],
                    "properties": {"ok": {"const": True}, **properties},
                }
            }
        },
    }


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _ERROR for code in (401, 429, *codes)}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Trailhouse API",
            "version": __version__,
            "description": "Governed, audited access to a CloudTrail lake. Every request needs a token "
            "(Authorization: Bearer th_...) or a signed-in session; every request is audited.",
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/query": {
                "post": {
                    "summary": "Run one read-only SQL statement over the tables and accounts granted to you.",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["sql"],
                                    "properties": {"sql": {"type": "string"}},
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _ok(
                            "The result (at most query_row_limit rows; truncated says whether more existed).",
                            {
                                **_TABLE["properties"],
                                "row_count": {"type": "integer"},
                                "truncated": {"type": "boolean"},
                                "seconds": {"type": "number"},
                            },
                        ),
                        **_errors(400, 403),
                    },
                }
            },
            "/api/reports": {
                "get": {
                    "summary": "The reports, with their parameters and sections.",
                    "responses": {"200": _ok("Reports.", {"reports": {"type": "array"}}), **_errors()},
                }
            },
            "/api/reports/{name}": {
                "get": {
                    "summary": "Run a report on your granted accounts (extra parameters: the report's own).",
                    "parameters": [
                        {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
                        *_FILTERS,
                    ],
                    "responses": {
                        "200": _ok(
                            "Sections by name, each a table.",
                            {
                                "report": {"type": "string"},
                                "params": {"type": "object"},
                                "sections": {"type": "object", "additionalProperties": _TABLE},
                            },
                        ),
                        **_errors(400, 403, 404),
                    },
                }
            },
            "/api/events": {
                "get": {
                    "summary": "Events behind a number (drill-down): filters are cloudtrail columns.",
                    "parameters": [
                        *_FILTERS,
                        *(
                            {"name": n, "in": "query", "schema": {"type": "string"}}
                            for n in (
                                "eventName",
                                "eventSource",
                                "errorCode",
                                "sourceIPAddress",
                                "arn",
                                "userName",
                            )
                        ),
                    ],
                    "responses": {
                        "200": _ok("Matching events, newest first.", _TABLE["properties"]),
                        **_errors(400, 403),
                    },
                }
            },
            "/api/events/{id}": {
                "get": {
                    "summary": "The full original CloudTrail record of one event.",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": _ok("The record.", {"event": {"type": "object"}}),
                        **_errors(403, 404),
                    },
                }
            },
            "/api/status": {
                "get": {
                    "summary": "Ledger reconciliation, lag, backlog and last ingest.",
                    "responses": {"200": _ok("Status.", {"status": {"type": "object"}}), **_errors()},
                }
            },
            "/api/tables": {
                "get": {
                    "summary": "Tables and views you may query.",
                    "responses": {"200": _ok("Names.", {"tables": {"type": "array"}}), **_errors()},
                }
            },
            "/api/me": {
                "get": {
                    "summary": "Who you are and what you were granted.",
                    "responses": {"200": _ok("The caller.", {"user": {"type": "string"}}), **_errors()},
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics (requests, latencies, ingest lag and backlog).",
                    "responses": {"200": {"description": "Prometheus text format."}, **_errors()},
                }
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Error": {
                    "description": "Every error has this shape.",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["ok", "error", "status"],
                                "properties": {
                                    "ok": {"const": False},
                                    "error": {"type": "string"},
                                    "status": {"type": "integer"},
                                },
                            }
                        }
                    },
                }
            },
        },
    }
