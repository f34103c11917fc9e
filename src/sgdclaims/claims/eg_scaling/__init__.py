"""eg_scaling (Goldt et al. 2020, Sec. 1-3): training only the first layer of a teacher-student
two-layer network, eps_g* grows linearly with L = K - M (eps_branch, the eq. 10 fixed point,
and eps_reached, where random starts get to, named apart); the ODEs match SGD; training both
layers it falls with K."""

from sgdclaims.claims import Claim
from sgdclaims.claims.eg_scaling.config import CASES
from sgdclaims.claims.eg_scaling.experiment import run
from sgdclaims.claims.eg_scaling.falsify import DEMONSTRATIONS, SABOTAGE
from sgdclaims.claims.eg_scaling.figures import FIGURES, figure_data
from sgdclaims.claims.eg_scaling.spec import SPEC
from sgdclaims.claims.eg_scaling.statistics import statistics
from sgdclaims.claims.eg_scaling.tables import TABLES

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
