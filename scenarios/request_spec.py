"""How to call a user's app: `--request 'POST /chat {"message": "hi"}'` (method, path, JSON body) with `--header
'Name: value'`, or one derived from the app's OpenAPI schema: its POST routes with a JSON body, the body an example
built from the schema. More than one candidate is ambiguous: one line listing them and the flag that chooses."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any

from bench.errors import UsageError

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MESSAGE = "Hello! Please answer in one sentence."
# String fields that carry the user's text in chat APIs: they get the message, other strings a placeholder.
_TEXT_FIELDS = re.compile(r"(message|prompt|query|question|content|text|input|msg)s?$", re.IGNORECASE)
_MAX_DEPTH = 8


@dataclass(frozen=True)
class RequestSpec:
    method: str
    path: str
    body: str = ""  # JSON text; "" sends no body
    headers: tuple[tuple[str, str], ...] = ()
    source: str = "--request"  # or "openapi"

    def text(self) -> str:
        return f"{self.method} {self.path}" + (f" {self.body}" if self.body else "")

    def json_body(self) -> Any:
        return json.loads(self.body) if self.body else None

    def locust_options(self, prefix: str = "chat") -> dict[str, str]:
        """The Locust scenario options (scenarios/options.py) that make every user send this request."""
        return {f"{prefix}_path": self.path, f"{prefix}_method": self.method, f"{prefix}_body": self.body or "null",
                f"{prefix}_headers": json.dumps(dict(self.headers)) if self.headers else ""}

    def describe(self) -> dict[str, Any]:
        """For results.json: header names only (a header may carry a token)."""
        return {"method": self.method, "path": self.path, "body": self.json_body(),
                "headers": [k for k, _ in self.headers], "source": self.source}


def parse_headers(values: list[str] | tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    out = []
    for value in values:
        name, sep, rest = value.partition(":")
        if not sep or not name.strip() or " " in name.strip():
            raise UsageError(f"--header {value!r}: expected 'Name: value'")
        out.append((name.strip(), rest.strip()))
    return tuple(out)


def parse_request(text: str, headers: tuple[tuple[str, str], ...] = (), flag: str = "--request") -> RequestSpec:
    """`METHOD /path [JSON]`, e.g. `POST /chat {"message": "hi"}`."""
    parts = text.strip().split(None, 2)
    if len(parts) < 2 or parts[0].upper() not in METHODS or not parts[1].startswith("/"):
        raise UsageError(f"{flag} {text!r}: expected 'METHOD /path [JSON body]', e.g. "
                         f"'POST /chat {{\"message\": \"hi\"}}' (methods: {', '.join(METHODS)})")
    body = parts[2].strip() if len(parts) > 2 else ""
    if body:
        try:
            body = json.dumps(json.loads(body))
        except ValueError as exc:
            raise UsageError(f"{flag} {text!r}: the body is not JSON ({exc})") from None
    return RequestSpec(parts[0].upper(), parts[1], body, headers, flag)


@dataclass(frozen=True)
class Candidate:
    method: str
    path: str
    schema: dict[str, Any]


def candidates(openapi: dict[str, Any]) -> list[Candidate]:
    """The POST operations whose request body is JSON, in the schema's order."""
    out = []
    for path, ops in (openapi.get("paths") or {}).items():
        op = (ops or {}).get("post") if isinstance(ops, dict) else None
        if not isinstance(op, dict):
            continue
        content = ((op.get("requestBody") or {}).get("content") or {})
        media = content.get("application/json")
        if isinstance(media, dict):
            out.append(Candidate("POST", path, media.get("schema") or {}))
    return out


def _resolve(schema: dict[str, Any], openapi: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < _MAX_DEPTH:
        ref = str(schema["$ref"])
        node: Any = openapi
        for part in ref.removeprefix("#/").split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        schema, seen = node, seen + 1
    return schema if isinstance(schema, dict) else {}


def example(schema: dict[str, Any], openapi: dict[str, Any], name: str = "", depth: int = 0) -> Any:
    """An example value for `schema`: its own example or default, else one built from its type."""
    schema = _resolve(schema, openapi)
    for key in ("example", "default", "const"):
        if key in schema and schema[key] is not None:
            return schema[key]
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(key) or [] if _resolve(o, openapi).get("type") != "null"]
        if options:
            if key == "allOf" and len(options) > 1:
                merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
                for o in options:
                    r = _resolve(o, openapi)
                    merged["properties"].update(r.get("properties") or {})
                    merged["required"] += r.get("required") or []
                return example(merged, openapi, name, depth + 1)
            return example(options[0], openapi, name, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if depth > _MAX_DEPTH:
        return None
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        required = [p for p in schema.get("required") or [] if p in props] or list(props)
        return {p: example(props[p], openapi, p, depth + 1) for p in required}
    if kind == "array":
        return [example(schema.get("items") or {}, openapi, name.rstrip("s"), depth + 1)]
    if kind == "string":
        if name.lower() == "role":
            return "user"
        return MESSAGE if _TEXT_FIELDS.search(name or "message") else "bench"
    if kind == "integer":
        return max(1, int(schema.get("minimum") or 1))
    if kind == "number":
        return float(schema.get("minimum") or 1.0)
    if kind == "boolean":
        return False
    return MESSAGE if _TEXT_FIELDS.search(name or "") else None


def derive(openapi: dict[str, Any] | None, app: str, headers: tuple[tuple[str, str], ...] = (),
           exclude: tuple[str, ...] = ()) -> RequestSpec:
    """The one POST route with a JSON body (but the paths in `exclude`: the SSE route given with --stream-request)
    and an example body; UsageError (one line) when there is none or more than one."""
    if openapi is None:
        raise UsageError(f"{app} serves no OpenAPI schema at /openapi.json to find its route from; give the "
                         "request with --request 'POST /path {\"field\": \"value\"}'")
    found = [c for c in candidates(openapi) if c.path not in exclude]
    if not found:
        raise UsageError(f"{app} has no POST route with a JSON body in its OpenAPI schema; give the request with "
                         "--request 'METHOD /path [JSON body]'")
    if len(found) > 1:
        listed = ", ".join(f"{c.method} {c.path}" for c in found)
        raise UsageError(f"{app} has {len(found)} POST routes with a JSON body ({listed}); choose one with "
                         f"--request '{found[0].method} {found[0].path} {{...}}'")
    c = found[0]
    body = example(c.schema, openapi)
    return RequestSpec(c.method, c.path, json.dumps(body) if body is not None else "", headers, "openapi")


@functools.lru_cache(maxsize=16)
def wire_request(body: str, message: str, headers: str, accept: str | None) -> tuple[str | None, dict[str, str]]:
    """The body a Locust user sends, its JSON text made once a run, and its headers.

    `body`: the JSON a user gave for their own app ("null": no body), or "" for the reference app's chat body with
    `message`; `headers`: a JSON object of extra headers ("" for none); `accept`: the Accept header the request asks
    for (None: JSON's). Encoded as Locust encodes `json=` (`json.dumps`; Content-Type and Accept added unless the
    user's headers set them, in any case), but once rather than per request: at a Locust process's ceiling that
    encoding was ~2.5% of its time. Locust copies the headers before adding its own, so the cached dict is only
    read."""
    obj = json.loads(body) if body else {"message": message, "conversation_id": None}
    extra = {str(k): str(v) for k, v in json.loads(headers).items()} if headers else {}
    base = {"Accept": accept} if accept is not None else {}
    if obj is not None:
        base.setdefault("Accept", "application/json")
        base["Content-Type"] = "application/json"
    given = {k.lower() for k in extra}
    merged = {**{k: v for k, v in base.items() if k.lower() not in given}, **extra}
    return (json.dumps(obj) if obj is not None else None), merged
