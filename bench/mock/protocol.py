"""OpenAI's wire format, shared by the server and the in-process twin: request validation with OpenAI's
error messages, chat completion bodies, SSE chunks and error bodies. Bodies are assembled from
precomputed byte fragments because this is the answer path.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

ROLES = ("system", "assistant", "user", "function", "tool", "developer")
# gpt-4o-mini's output cap, which OpenAI enforces with a 400 (a bigger ask would make the mock build it).
MAX_COMPLETION_TOKENS = 16_384
# The longest latency an `x-mock-*-ms` header may ask for: the default hang fault's 10 minutes.
MAX_OVERRIDE_MS = 600_000.0

# A fixed vocabulary: token k of every answer is _VOCAB[k % len(_VOCAB)] (leading spaces, as in BPE).
_WORDS = ("Lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et "
          "dolore magna aliqua Ut enim ad minim veniam quis nostrud exercitation ullamco laboris nisi ut aliquip "
          "ex ea commodo consequat")
_VOCAB = tuple(("" if i == 0 else " ") + w for i, w in enumerate(_WORDS.split(" ")))
_VOCAB_JSON = tuple(json.dumps(t).encode() for t in _VOCAB)
DONE = b"data: [DONE]\n\n"


@dataclass(frozen=True, slots=True)
class ApiError:
    """An OpenAI error answer: `{"error": {"message", "type", "param", "code"}}`."""

    status: int
    message: str
    type: str = "invalid_request_error"
    param: str | None = None
    code: str | None = None

    def body(self) -> bytes:
        return json.dumps({"error": {"message": self.message, "type": self.type, "param": self.param,
                                     "code": self.code}}).encode()


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    stream: bool
    include_usage: bool
    max_tokens: int | None
    prompt_tokens: int


_BAD_JSON = ApiError(400, (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP "
    "library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you "
    "have trouble figuring out how to fix this, please contact us through our help center at "
    "help.openai.com.)"))


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _wrong_type(param: str, expected: str, value: object) -> ApiError:
    return ApiError(400, f"Invalid type for '{param}': expected {expected}, but got {_kind(value)} instead.",
                    param=param, code="invalid_type")


def _missing(param: str) -> ApiError:
    return ApiError(400, f"Missing required parameter: '{param}'.", param=param,
                    code="missing_required_parameter")


def _text_len(content: object) -> int:
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):
        return sum(len(p.get("text") or "") for p in content)
    return 0


def _content_error(where: str, content: list[Any]) -> ApiError | None:
    for j, part in enumerate(content):
        if not isinstance(part, dict):
            return _wrong_type(f"{where}.content[{j}]", "an object", part)
        if "text" in part and not isinstance(part["text"], str):
            return _wrong_type(f"{where}.content[{j}].text", "a string", part["text"])
    return None


def parse_chat_request(body: bytes) -> ChatRequest | ApiError:
    """Validate a chat completions body as OpenAI does (the checks apps actually trip over)."""
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: arrays nested thousands deep
        return _BAD_JSON
    if not isinstance(data, dict):
        return _BAD_JSON
    model = data.get("model")
    if model is None:
        return ApiError(400, "you must provide a model parameter")
    if not isinstance(model, str):
        return _wrong_type("model", "a string", model)
    if "messages" not in data:
        return _missing("messages")
    messages = data["messages"]
    if not isinstance(messages, list):
        return _wrong_type("messages", "an array", messages)
    if not messages:
        return ApiError(400, "Invalid 'messages': empty array. Expected an array with minimum length 1, but "
                             "got an empty array instead.", param="messages", code="empty_array")
    chars = 0
    for i, msg in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(msg, dict):
            return _wrong_type(where, "an object", msg)
        role = msg.get("role")
        if role is None:
            return _missing(f"{where}.role")
        if role not in ROLES:
            valid = ", ".join(f"'{r}'" for r in ROLES[:-1]) + f", and '{ROLES[-1]}'"
            return ApiError(400, f"Invalid value: '{role}'. Supported values are: {valid}.",
                            param=f"{where}.role", code="invalid_value")
        content = msg.get("content")
        if content is None and role not in ("assistant", "function"):
            return _missing(f"{where}.content")
        if content is not None and not isinstance(content, str | list):
            return _wrong_type(f"{where}.content", "one of a string or array of objects", content)
        if isinstance(content, list) and (err := _content_error(where, content)):
            return err
        chars += _text_len(content)
    max_tokens: int | None = None
    for name in ("max_tokens", "max_completion_tokens"):  # the newer name wins when both are given
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON has one number type: 16.0 is the integer 16 (as JSON Schema reads it)
        if not isinstance(value, int) or isinstance(value, bool):
            return _wrong_type(name, "an integer", value)
        if value < 1:
            return ApiError(400, f"Invalid '{name}': integer below minimum value. Expected a value >= 1, but "
                                 f"got {value} instead.", param=name, code="integer_below_min_value")
        if value > MAX_COMPLETION_TOKENS:
            return ApiError(400, f"{name} is too large: {value}. This model supports at most "
                                 f"{MAX_COMPLETION_TOKENS} completion tokens, whereas you provided {value}.",
                            param=name, code="invalid_value")
        max_tokens = value
    stream = data.get("stream", False)
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        return _wrong_type("stream", "a boolean", stream)
    options = data.get("stream_options")
    include_usage = False
    if options is not None:
        if not isinstance(options, dict):
            return _wrong_type("stream_options", "an object", options)
        if not stream:
            return ApiError(400, "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                            param="stream_options")
        include_usage = options.get("include_usage", False)
        if not isinstance(include_usage, bool):
            return _wrong_type("stream_options.include_usage", "a boolean", include_usage)
    temperature = data.get("temperature")
    if temperature is not None and (not isinstance(temperature, int | float) or isinstance(temperature, bool)):
        return _wrong_type("temperature", "a number", temperature)
    # OpenAI's own count is ~4 characters a token plus a few per message; close enough for TPM budgets.
    prompt_tokens = 3 + 4 * len(messages) + (chars + 3) // 4
    return ChatRequest(model, stream, include_usage, max_tokens, prompt_tokens)


def auth_error(present: bool) -> ApiError:
    """401 for a missing or wrong key. Unlike OpenAI this never echoes the key, not even masked."""
    if not present:
        return ApiError(401, (
            "You didn't provide an API key. You need to provide your API key in an Authorization header using "
            "Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) "
            "if you're accessing the API from your browser and are prompted for a username. You can obtain an "
            "API key from https://platform.openai.com/account/api-keys."))
    return ApiError(401, "Incorrect API key provided. You can find your API key at "
                         "https://platform.openai.com/account/api-keys.", code="invalid_api_key")


def not_found(method: str, path: str) -> ApiError:
    return ApiError(404, f"Invalid URL ({method} {path})")


def server_error(status: int) -> ApiError:
    if status == 503:
        return ApiError(503, "The server is overloaded or not ready yet.", type="server_error")
    return ApiError(status, "The server had an error while processing your request. Sorry about that!",
                    type="server_error")


def rate_limit_error(message: str, unit: str) -> ApiError:
    # OpenAI puts the budget's unit ("requests" or "tokens") in `type`.
    return ApiError(429, message, type=unit, code="rate_limit_exceeded")


@functools.lru_cache(maxsize=4096)
def content_json(tokens: int) -> bytes:
    """The answer text of `tokens` tokens, already JSON-encoded."""
    return json.dumps("".join(_VOCAB[k % len(_VOCAB)] for k in range(tokens))).encode()


def usage_json(prompt: int, completion: int) -> bytes:
    return (b'{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,'
            b'"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},'
            b'"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,'
            b'"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}') % (prompt, completion,
                                                                                 prompt + completion)


def completion_body(req_id: bytes, created: int, model_json: bytes, prompt: int, completion: int) -> bytes:
    return (b'{"id":"%s","object":"chat.completion","created":%d,"model":%s,"choices":[{"index":0,'
            b'"message":{"role":"assistant","content":%s,"refusal":null,"annotations":[]},"logprobs":null,'
            b'"finish_reason":"stop"}],"usage":%s,"service_tier":"default","system_fingerprint":"fp_mock"}'
            ) % (req_id, created, model_json, content_json(completion), usage_json(prompt, completion))


def stream_events(req_id: bytes, created: int, model_json: bytes, prompt: int, completion: int,
                  include_usage: bool) -> list[bytes]:
    """SSE events: the role delta, one per content token, the finish chunk, then [usage] and [DONE].

    Index 0 is the role delta, 1..n the tokens, n+1 the finish chunk (with usage and DONE appended).
    """
    head = (b'data: {"id":"%s","object":"chat.completion.chunk","created":%d,"model":%s,'
            b'"service_tier":"default","system_fingerprint":"fp_mock","choices":[') % (req_id, created,
                                                                                      model_json)
    tail = b',"usage":null}\n\n' if include_usage else b"}\n\n"
    out = [head + b'{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,'
                  b'"finish_reason":null}]' + tail]
    n_vocab = len(_VOCAB_JSON)
    for k in range(completion):
        out.append(head + b'{"index":0,"delta":{"content":' + _VOCAB_JSON[k % n_vocab]
                   + b'},"logprobs":null,"finish_reason":null}]' + tail)
    last = head + b'{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]' + tail
    if include_usage:
        last += head + b'],"usage":' + usage_json(prompt, completion) + b"}\n\n"
    out.append(last + DONE)
    return out


def malformed_event(req_id: bytes) -> bytes:
    """An SSE event whose JSON is cut short, as a broken proxy would deliver it."""
    return b'data: {"id":"%s","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":\n\n' % (
        req_id)


def models_body(model: str) -> bytes:
    return json.dumps({"object": "list", "data": [model_object(model)]}).encode()


def model_object(model: str) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": 1_700_000_000, "owned_by": "mock"}
