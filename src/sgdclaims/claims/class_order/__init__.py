"""class_order (Schouten & Toonen 2023, Sec. 3.2-4.3): classes are learned in a consistent
order, and a ViT learns them in the CNN's order, but sooner and without a warm-up."""

from sgdclaims.claims import Claim
from sgdclaims.claims.class_order.config import CASES
from sgdclaims.claims.class_order.experiment import run
from sgdclaims.claims.class_order.falsify import DEMONSTRATIONS, SABOTAGE
from sgdclaims.claims.class_order.figures import FIGURES, figure_data
from sgdclaims.claims.class_order.spec import SPEC
from sgdclaims.claims.class_order.statistics import statistics
from sgdclaims.claims.class_order.tables import TABLES

CLAIM = Claim(
    cases=CASES,
    run=run,
    statistics=statistics,
    spec=SPEC,
    figure_data=figure_data,
    figures=FIGURES,
    tables=TABLES,
    demonstrations=DEMONSTRATIONS,
    sabotage=SABOTAGE,
)
