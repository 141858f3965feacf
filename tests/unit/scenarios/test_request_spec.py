"""How to call a user's app (scenarios/request_spec.py): `--request 'METHOD /path JSON'` parsed or refused in one
line, and the request derived from an OpenAPI schema: its one POST route with a JSON body and an example body; none
or several is one line listing what there is and the flag that chooses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench.errors import UsageError
from scenarios.request_spec import MESSAGE, derive, example, parse_headers, parse_request, wire_request


def test_a_request_is_method_path_and_json() -> None:
    r = parse_request('post /chat {"message": "hi", "n": 2}', parse_headers(["X-Api-Key: k1"]))
    assert (r.method, r.path, r.json_body(), r.headers) == ("POST", "/chat", {"message": "hi", "n": 2},
                                                            (("X-Api-Key", "k1"),))
    assert r.locust_options() == {"chat_path": "/chat", "chat_method": "POST",
                                  "chat_body": '{"message": "hi", "n": 2}', "chat_headers": '{"X-Api-Key": "k1"}'}
    bare = parse_request("GET /health")
    assert bare.body == "" and bare.locust_options("stream")["stream_body"] == "null"
    assert r.describe()["headers"] == ["X-Api-Key"]  # names only: a header may carry a token


@pytest.mark.parametrize(("text", "message"), [
    ("/chat {}", "expected 'METHOD /path"),
    ("POST chat {}", "expected 'METHOD /path"),
    ("FETCH /chat", "expected 'METHOD /path"),
    ("POST /chat {message: hi}", "the body is not JSON"),
])
def test_a_bad_request_is_one_line(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        parse_request(text)
    assert "\n" not in str(info.value)


def test_a_bad_header_is_one_line() -> None:
    with pytest.raises(UsageError, match="expected 'Name: value'"):
        parse_headers(["no colon here"])


def _schema(paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"openapi": "3.1.0", "paths": paths, "components": {"schemas": schemas or {}}}


def _post(ref_or_schema: dict[str, Any]) -> dict[str, Any]:
    return {"post": {"requestBody": {"content": {"application/json": {"schema": ref_or_schema}}}}}


def test_the_one_post_route_with_a_json_body_is_derived_with_an_example_body() -> None:
    schema = _schema({"/chat": _post({"$ref": "#/components/schemas/ChatIn"}), "/health": {"get": {}},
                      "/upload": {"post": {"requestBody": {"content": {"multipart/form-data": {}}}}}},
                     {"ChatIn": {"type": "object", "required": ["message"],
                                 "properties": {"message": {"type": "string"},
                                                "thread_id": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}})
    r = derive(schema, "myapp:app")
    assert (r.method, r.path, r.source) == ("POST", "/chat", "openapi")
    assert r.json_body() == {"message": MESSAGE}  # required fields only


def test_example_bodies_follow_the_schema() -> None:
    components = {"Msg": {"type": "object", "required": ["role", "content"],
                          "properties": {"role": {"type": "string"}, "content": {"type": "string"}}}}
    openapi = {"components": {"schemas": components}}
    body = example({"type": "object", "required": ["messages", "temperature", "stream", "model", "top"],
                    "properties": {"messages": {"type": "array", "items": {"$ref": "#/components/schemas/Msg"}},
                                   "temperature": {"type": "number", "default": 0.2},
                                   "stream": {"type": "boolean"}, "model": {"enum": ["small", "large"]},
                                   "top": {"type": "integer", "minimum": 3}}}, openapi)
    assert body == {"messages": [{"role": "user", "content": MESSAGE}], "temperature": 0.2, "stream": False,
                    "model": "small", "top": 3}
    assert example({"type": "object", "properties": {"q": {"type": "string", "example": "why?"}}}, {}) == {"q": "why?"}
    json.dumps(example({"$ref": "#/components/schemas/Loop"},
                       {"components": {"schemas": {"Loop": {"$ref": "#/components/schemas/Loop"}}}}))


def test_no_post_route_is_one_line_naming_the_flag() -> None:
    with pytest.raises(UsageError, match=r"has no POST route with a JSON body.*--request") as info:
        derive(_schema({"/health": {"get": {}}}), "myapp:app")
    assert "\n" not in str(info.value)
    with pytest.raises(UsageError, match="serves no OpenAPI schema"):
        derive(None, "myapp:app")


def test_several_routes_are_one_line_listing_them() -> None:
    schema = _schema({"/chat": _post({"type": "object"}), "/chat/stream": _post({"type": "object"}),
                      "/feedback": _post({"type": "object"})})
    with pytest.raises(UsageError) as info:
        derive(schema, "myapp:app")
    text = str(info.value)
    assert "3 POST routes" in text and "POST /chat, POST /chat/stream, POST /feedback" in text
    assert "--request 'POST /chat {...}'" in text and "\n" not in text


def test_the_stream_route_given_apart_is_not_a_candidate() -> None:
    schema = _schema({"/chat": _post({"type": "object"}), "/chat/stream": _post({"type": "object"})})
    assert derive(schema, "myapp:app", exclude=("/chat/stream",)).path == "/chat"


def test_the_wire_body_is_what_locusts_json_argument_sent() -> None:
    # The reference app's body, and a user's, as Locust's `json=` would encode them, with its two headers.
    body, headers = wire_request("", "hi", "", None)
    assert body == json.dumps({"message": "hi", "conversation_id": None})
    assert headers == {"Accept": "application/json", "Content-Type": "application/json"}
    body, headers = wire_request('{"q":  [1, 2]}', "hi", '{"X-Api-Key": "k1"}', None)
    assert body == json.dumps({"q": [1, 2]}) and headers["X-Api-Key"] == "k1" and len(headers) == 3


def test_the_users_headers_win_in_any_case_and_a_null_body_sends_none() -> None:
    body, headers = wire_request('{"m": 1}', "hi", '{"content-type": "application/vnd.x+json", "ACCEPT": "*/*"}',
                                 "text/event-stream")
    assert headers == {"content-type": "application/vnd.x+json", "ACCEPT": "*/*"}
    _, stream_headers = wire_request("", "hi", "", "text/event-stream")
    assert stream_headers == {"Accept": "text/event-stream", "Content-Type": "application/json"}
    body, headers = wire_request("null", "hi", "", None)
    assert body is None and headers == {}
    assert wire_request("null", "hi", "", "text/event-stream") == (None, {"Accept": "text/event-stream"})
