"""Deterministic inline SVG from matplotlib figures (fixed hash salt, no date metadata)."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def figure_to_svg(fig: Any) -> str:
    """Render `fig` to an SVG string that is byte-identical for identical figures, and close it."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "sgdclaims", "svg.fonttype": "path"}):
        fig.savefig(
            buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight"
        )
    plt.close(fig)
    text = buf.getvalue()
    start = text.find("<svg")
    return text[start:] if start >= 0 else text
