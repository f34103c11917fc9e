"""linear_early (Nakkiran et al. 2019, Sec. 3, Fig. 4): early in SGD a linear classifier
explains almost all of a CNN's information on the label, and the CNN keeps it later."""

from sgdclaims.claims import Claim
from sgdclaims.claims.linear_early.config import CASES
from sgdclaims.claims.linear_early.experiment import run
from sgdclaims.claims.linear_early.falsify import DEMONSTRATIONS, SABOTAGE
from sgdclaims.claims.linear_early.figures import FIGURES, TABLES, figure_data
from sgdclaims.claims.linear_early.spec import SPEC
from sgdclaims.claims.linear_early.statistics import statistics

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
