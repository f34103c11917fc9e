"""my_claim (Author et al. YEAR, Sec. N, Fig. M): the claim in one line.

Made from the template by `sgdclaims new-claim my_claim` (docs/new_claim.md is the guide).
This face names the claim's parts; the registry (sgdclaims.claims.CLAIMS) lists its id.
"""

from sgdclaims.claims import Claim
from sgdclaims.claims.my_claim.config import CASES
from sgdclaims.claims.my_claim.experiment import run
from sgdclaims.claims.my_claim.falsify import DEMONSTRATIONS, SABOTAGE
from sgdclaims.claims.my_claim.figures import FIGURES, TABLES, figure_data
from sgdclaims.claims.my_claim.spec import SPEC
from sgdclaims.claims.my_claim.statistics import statistics

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
