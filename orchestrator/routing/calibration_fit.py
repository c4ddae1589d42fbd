"""The confidence calibration fitted on validation folds of the training split: generated, not edited.

Written by ``python benchmarks/routing_validation.py --fit --write`` (``calibration.render``);
``calibration`` reads it. Run that command again after the routing set or the catalog changes.
"""

FOLD_MESSAGES = 5433
COEFFICIENTS = (1.725, 2.913, -0.663)
INTERCEPT = -0.668
BUDGET = 0.06
OPERATING_POINT = 0.7189
# Per budget of confident wrong answers: the operating point it gives, and the folds' in-domain
# share answered right and share of messages answered confidently and wrongly at that point.
CURVE: tuple[tuple[float, float, float, float], ...] = (
    (0.02, 0.9246, 0.6147, 0.0199),
    (0.03, 0.8936, 0.6794, 0.03),
    (0.04, 0.8401, 0.7489, 0.0398),
    (0.05, 0.7753, 0.7993, 0.0497),
    (0.06, 0.7189, 0.8275, 0.0599),
    (0.075, 0.5766, 0.866, 0.0748),
)
