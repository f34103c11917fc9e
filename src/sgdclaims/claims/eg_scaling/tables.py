"""eg_scaling's tables: the certification of every eps_g* per K and start (shared/CLAIMS.md),
for the soft committee machine (Goldt et al. 2020, Fig. 2a) and both layers trained (Fig. 3c)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sgdclaims.figure import Table

#: the columns of a certified part that the certification tables show
CERTIFICATION = (
    "k",
    "start",
    "eps_star",
    "certified",
    "source",
    "cpu",
    "start_eps",
    "start_alpha",
    "start_status",
    "start_drift",
    "start_eps_newton",
    "start_max_eig",
    "restart_eps",
    "restart_alpha",
    "restart_drift",
    "restart_eps_newton",
    "restart_max_eig",
    "restart_status",
)
COLUMNS = (
    "K",
    "start",
    "eps*/s2",
    "certified by",
    "start's status",
    "start's end value",
    "integrated",
    "Newton",
    "drift (decade)",
    "alpha",
    "top eigenvalue",
    "CPU s",
)


def certification_row(get: dict[str, Any], s2: float) -> list[Any]:
    """One start: its eps_g*, its own integration's status and end value, and the attempt
    (start or restart) that certified it."""
    att = "restart" if get["source"] == "restart" else "start"
    return [
        get["k"],
        get["start"],
        f"{get['eps_star'] / s2:.5f}",
        get["source"],
        get["start_status"],
        f"{get['start_eps'] / s2:.5f}",
        f"{get[f'{att}_eps'] / s2:.5f}",
        f"{get[f'{att}_eps_newton'] / s2:.5f}",
        f"{get[f'{att}_drift']:.1e}",
        f"{get[f'{att}_alpha']:.3g}",
        f"{get[f'{att}_max_eig']:.2e}",
        f"{get['cpu']:.1f}",
    ]


def certification(key: str) -> Callable[[dict[str, Any]], tuple[list[str], list[list[Any]]]]:
    """The table builder of the certified part `key` ('ode' or 'both')."""

    def build(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
        s2, table = data["sigma"] ** 2, data[key]
        rows = [
            certification_row({c: v[i] for c, v in table.items()}, s2)
            for i in range(len(table["k"]))
        ]
        return list(COLUMNS), rows

    return build


TABLES = (
    Table(
        "certification",
        "Every start of the soft committee machine (Fig. 2a): its own integration's end value "
        "and status, and the attempt that certified eps_g* (integrated and Newton value, drift "
        "over the last decade, alpha, top eigenvalue).",
        certification("ode"),
    ),
    Table(
        "certification_both",
        "The same with both layers trained (Fig. 3c).",
        certification("both"),
    ),
)
