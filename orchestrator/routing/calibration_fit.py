"""The confidence calibration fitted on validation folds of the training split: generated, not edited.

Written by ``python benchmarks/routing_validation.py --fit --write`` (``calibration.render``);
``calibration`` reads it. Run that command again after the routing set or the catalog changes.
"""

FOLD_MESSAGES = 4949
COEFFICIENTS = (1.777, 3.137, 0.083)
INTERCEPT = -1.619
BUDGET = 0.06
OPERATING_POINT = 0.703
# Per budget of confident wrong answers: the operating point it gives, and the folds' in-domain
# share answered right and share of messages answered confidently and wrongly at that point.
CURVE: tuple[tuple[float, float, float, float], ...] = (
    (0.02, 0.925, 0.6086, 0.0198),
    (0.03, 0.8892, 0.6774, 0.0299),
    (0.04, 0.8348, 0.7309, 0.0397),
    (0.05, 0.76, 0.7798, 0.0497),
    (0.06, 0.703, 0.8069, 0.0599),
    (0.075, 0.5799, 0.8453, 0.0749),
)
