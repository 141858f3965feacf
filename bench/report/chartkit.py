"""Matplotlib plumbing for the charts: figures without pyplot (no global backend state), one colour per
variant across every chart, and PNG bytes that are identical run after run (fixed metadata and salt)."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

DPI = 100
# No "Software" key: the PNG must not change when only matplotlib's version string does.
PNG_METADATA: dict[str, Any] = {"Software": None}
RC: dict[str, Any] = {
    "svg.hashsalt": "llm-concurrency-bench",
    "path.simplify": True,
    "font.size": 9,
    "axes.titlesize": 9,
    "figure.titlesize": 10.5,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
# Twenty colours distinct enough side by side: a run can hold a dozen variants, and a colour means the same
# variant in every chart.
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#393b79", "#e7969c", "#637939", "#ffbb78", "#843c39", "#9edae5", "#7b4173", "#c7c7c7",
           "#8c6d31", "#98df8a")


@dataclass(frozen=True)
class Chart:
    """A drawn chart: `title` states its conclusion (computed from the data) and is also the figure's title."""

    name: str
    title: str
    figure: Figure
    caption: str = ""


@contextmanager
def style() -> Iterator[None]:
    with matplotlib.rc_context(cast(Any, RC)):
        yield


def figure(width: float = 8.0, height: float = 4.2) -> Figure:
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def suptitle(fig: Figure, text: str) -> None:
    """The conclusion as the figure's title, wrapped to the figure's width (about 11 characters an inch)."""
    width = int(fig.get_figwidth() * 11)
    fig.suptitle("\n".join(textwrap.wrap(text, width, break_on_hyphens=False)))


def png_bytes(fig: Figure) -> bytes:
    buf = io.BytesIO()
    with style():
        fig.savefig(buf, format="png", dpi=DPI, metadata=PNG_METADATA)
    return buf.getvalue()


class Colors:
    """Variant -> colour, assigned in the order variants first appear in the results."""

    def __init__(self, variants: list[str]) -> None:
        self._map = {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(variants)}

    def __call__(self, variant: str) -> str:
        if variant not in self._map:
            self._map[variant] = PALETTE[len(self._map) % len(PALETTE)]
        return self._map[variant]


def spans_decades(values: list[float] | np.ndarray) -> bool:
    """Use a log axis when the positive values span more than a factor of 10."""
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr) & (arr > 0)]
    return bool(arr.size >= 2 and arr.max() / arr.min() > 10)


def barh_with_ci(ax: Axes, labels: list[str], medians: list[float], lows: list[float], highs: list[float],
                 colors: list[str]) -> None:
    """Horizontal bars (variant names stay readable) with whiskers (95% CI, or min..max under 5 runs); first label
    on top."""
    y = np.arange(len(labels))[::-1]
    med = np.asarray(medians, dtype=float)
    err = np.vstack([med - np.asarray(lows, dtype=float), np.asarray(highs, dtype=float) - med])
    ax.barh(y, med, color=colors, alpha=0.85, xerr=np.clip(err, 0, None), capsize=3, ecolor="#333333")
    ax.set_yticks(y, labels)
    ax.grid(axis="y", visible=False)


def fmt_seconds(s: float) -> str:
    if s < 1:
        return f"{s * 1000:.0f} ms"
    return f"{s:.3g} s" if s < 100 else f"{s:.0f} s"
