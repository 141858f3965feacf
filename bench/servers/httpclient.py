"""The harness's own HTTP clients (to its mock, the app under test, probes): httpx with one shared TLS context.

httpx builds a new SSLContext for every Client, loading the CA bundle: ~40 ms of CPU each, and its module-level
get/post/request make a Client per call. A quick run makes about a thousand such calls (readiness polls, stats
reads, resets), all but a few to plain-http loopback servers: that was about a third of the harness's CPU, taken
from the app under test on a 2-core machine. One context, built once per process, serves them all (an SSLContext
is safe to share between threads and connections); it verifies exactly as httpx's default does.
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import httpx


@functools.cache
def tls() -> ssl.SSLContext:
    """httpx's default verifying context (certifi's bundle, SSL_CERT_FILE/SSL_CERT_DIR honoured), built once."""
    return httpx.create_ssl_context()


def client(**kwargs: Any) -> httpx.Client:
    return httpx.Client(verify=tls(), **kwargs)


def async_client(**kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=tls(), **kwargs)


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, url, verify=tls(), **kwargs)


def get(url: str, **kwargs: Any) -> httpx.Response:
    return request("GET", url, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    return request("POST", url, **kwargs)
