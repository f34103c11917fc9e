"""Claim my_claim: every check of its spec on every case (`spec_check` is parametrised over
the spec's checks and the claim's cases), and a harness test of its own (`case`)."""


def test_spec(spec_check):
    """One check of the spec on one (scale, data set) case."""
    spec_check.assert_holds()


def test_three_seeds(case):
    """Three seeds in every case of the toy."""
    assert len(case.result.units) == 3
