"""The shared limiter's rule: a moving window of N permits per W whole seconds, from the seed's rate and bucket size.

What a burst does, against the seed's InMemoryRateLimiter (a token bucket: starts empty, refills at `rps`, holds at
most `max_bucket_size` tokens):

    token bucket (rps r, bucket B)   after an idle spell B go at once, then one every 1/r s.
                                     Any interval of T s admits at most B + r*T.
    moving window (N per W s)        after an idle spell N go at once; the next permit frees when the oldest of
                                     those leaves the window, so under saturation the N come again W s later
                                     (in a burst, not spread). Any interval of W s admits at most N, any T s at
                                     most N * ceil(T / W), which is <= N + r*T when N / W = r.

So with N = B and W = B / r both admit the same burst and the same long-run rate; the window repeats its burst
where the bucket spreads it. limits counts windows in whole seconds, so W is rounded (below) and N follows from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerSecond


@dataclass(frozen=True)
class Window:
    """N permits per W seconds; `rate` = N / W never exceeds the requested rate."""

    permits: int
    seconds: int

    @property
    def rate(self) -> float:
        return self.permits / self.seconds

    def item(self) -> RateLimitItem:
        return RateLimitItemPerSecond(self.permits, self.seconds)


def moving_window(requests_per_second: float, max_bucket_size: float) -> Window:
    """The window whose rate is closest to `requests_per_second` from below, with a burst near `max_bucket_size`.

    W is B / r rounded down or up (at least 1 s), N = floor(r * W): 10 rps, bucket 10 -> 10 per 1 s; 0.05 rps
    (OpenAI tier 1's 3 RPM), bucket 10 -> 10 per 200 s; 1.5 rps, bucket 10 -> 9 per 6 s. A rate above the bucket
    cannot have W under 1 s, so its burst is the rate itself: 100000 rps -> 100000 per 1 s.
    """
    if requests_per_second <= 0 or max_bucket_size <= 0:
        raise ValueError("rate and bucket size must be positive")
    ideal = max_bucket_size / requests_per_second
    candidates = []
    for seconds in {max(1, math.floor(ideal)), max(1, math.ceil(ideal))}:
        permits = math.floor(requests_per_second * seconds + 1e-9)
        if permits >= 1:
            candidates.append(Window(permits, seconds))
    if not candidates:  # a rate so low that even the longer window holds less than one permit
        return Window(1, math.ceil(1 / requests_per_second - 1e-9))
    return max(candidates, key=lambda w: (w.rate, -abs(w.permits - max_bucket_size)))
