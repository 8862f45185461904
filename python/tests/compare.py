"""compare.py: the comparison every Python test of results uses, with the tolerance of
`nncl test` and the ONNX backend tests (rtol 1e-3, atol 1e-5: float32 kernels that sum in
another order than the reference differ by a few ulps per term, well inside it)."""

import numpy as np

RTOL, ATOL = 1e-3, 1e-5


def assert_close(got, want, what, rtol=RTOL, atol=ATOL):
    """Same shape and dtype, and |got - want| <= atol + rtol * |want| for every element (NaN
    where the reference has NaN); the message names the worst element."""
    assert got.shape == want.shape, "%s: shape %s, expected %s" % (what, got.shape, want.shape)
    assert got.dtype == want.dtype, "%s: dtype %s, expected %s" % (what, got.dtype, want.dtype)
    if got.dtype == np.bool_ or np.issubdtype(got.dtype, np.integer):
        bad = np.flatnonzero(got.reshape(-1) != want.reshape(-1))
        assert bad.size == 0, "%s: %d elements differ; first [%d] is %s, expected %s" % (
            what, bad.size, bad[0], got.reshape(-1)[bad[0]], want.reshape(-1)[bad[0]])
        return
    g = got.astype(np.float64).reshape(-1)
    w = want.astype(np.float64).reshape(-1)
    both_nan = np.isnan(g) & np.isnan(w)
    err = np.where(both_nan, 0.0, np.abs(g - w))
    err = np.where(np.isnan(err), np.inf, err)
    excess = err - (atol + rtol * np.abs(np.nan_to_num(w)))
    if g.size == 0:
        return
    worst = int(np.argmax(excess))
    assert excess[worst] <= 0, "%s: worst [%d] is %.9g, expected %.9g (rtol %g, atol %g)" % (
        what, worst, g[worst], w[worst], rtol, atol)
