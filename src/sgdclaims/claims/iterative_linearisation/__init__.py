"""iterative_linearisation (Goldwaser & Ge, Sec. 3-4, Alg. 1, Fig. 1-2): refreshing the
features (the Jacobian) only every K steps barely changes the result for K up to ~100, fixed
features (K = inf) are clearly worse, and with a large step large K diverges."""

from sgdclaims.claims import Claim
from sgdclaims.claims.iterative_linearisation.config import CASES
from sgdclaims.claims.iterative_linearisation.experiment import run
from sgdclaims.claims.iterative_linearisation.falsify import DEMONSTRATIONS, SABOTAGE
from sgdclaims.claims.iterative_linearisation.figures import FIGURES, TABLES, figure_data
from sgdclaims.claims.iterative_linearisation.spec import SPEC
from sgdclaims.claims.iterative_linearisation.statistics import statistics

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
