"""The confidence calibration fitted on validation folds of the training split: generated, not edited.

Written by ``python benchmarks/routing_validation.py --fit --write`` (``calibration.render``);
``calibration`` reads it. Run that command again after the routing set or the catalog changes.
"""

FOLD_MESSAGES = 4591
COEFFICIENTS = (1.665, 2.729, -0.6)
INTERCEPT = -0.614
BUDGET = 0.06
OPERATING_POINT = 0.7464
# Per budget of confident wrong answers: the operating point it gives, and the folds' in-domain
# share answered right and share of messages answered confidently and wrongly at that point.
CURVE: tuple[tuple[float, float, float, float], ...] = (
    (0.02, 0.9238, 0.6051, 0.0199),
    (0.03, 0.8965, 0.6659, 0.0298),
    (0.04, 0.8488, 0.7178, 0.04),
    (0.05, 0.8006, 0.7553, 0.0497),
    (0.06, 0.7464, 0.7898, 0.0596),
    (0.075, 0.6556, 0.8268, 0.0748),
)
