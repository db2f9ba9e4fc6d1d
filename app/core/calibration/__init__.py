"""Quick, torch-free calibration of a model to a site's own ratings (numpy only); whether it helps
is judged by ``app.core.stats`` (the paired bootstrap of SRCC).

Fitted in two parts, each earning its place: a monotone map of the raw score onto the site's MOS
(``monotone``), then optionally a learner of what the map leaves over from the model's embedding
(``residual``: a ridge or a kernel ridge), chosen by nested cross-validation (``fit``). The result
(``fitted``) is plain JSON stored with the model version; calibrations stored in older formats
still load and apply as they were fitted. *Apply* is offered only when the gain's interval lies
above zero, and a map that turns the model's order around only where the model surely ranks the
site's photos against its raters (``fitted.REVERSAL_Z``): ratings of pure noise are not reversed.
"""
from .fit import fit_calibration
from .fitted import Calibration
from .monotone import apply_monotone, fit_monotone

__all__ = ["Calibration", "apply_monotone", "fit_calibration", "fit_monotone"]
