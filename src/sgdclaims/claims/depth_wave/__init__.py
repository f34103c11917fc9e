"""depth_wave (Pinson et al., Sec. 2-3, App. A): layers become effectively nonlinear from deep
to shallow; partly-linear variants diverge from the main model earlier the more layers are
linear, and mean preactivations turn negative deep layers first."""

from sgdclaims.claims import Claim
from sgdclaims.claims.depth_wave.config import CASES
from sgdclaims.claims.depth_wave.experiment import run
from sgdclaims.claims.depth_wave.falsify import DEMONSTRATIONS, SABOTAGE
from sgdclaims.claims.depth_wave.figures import FIGURES, TABLES, figure_data
from sgdclaims.claims.depth_wave.spec import SPEC
from sgdclaims.claims.depth_wave.statistics import statistics

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
