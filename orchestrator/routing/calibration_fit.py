"""The confidence calibration fitted on validation folds of the training split: generated, not edited.

Written by ``python benchmarks/routing_validation.py --fit --write`` (``calibration.render``);
``calibration`` reads it. Run that command again after the routing set or the catalog changes.
"""

FOLD_MESSAGES = 5433
COEFFICIENTS = (1.334, 3.125, -0.315)
INTERCEPT = -0.855
BUDGET = 0.06
OPERATING_POINT = 0.7123
# Per budget of confident wrong answers: the operating point it gives, and the folds' in-domain
# share answered right and share of messages answered confidently and wrongly at that point.
CURVE: tuple[tuple[float, float, float, float], ...] = (
    (0.02, 0.9256, 0.6095, 0.0199),
    (0.03, 0.8961, 0.6747, 0.03),
    (0.04, 0.8358, 0.7524, 0.0397),
    (0.05, 0.7823, 0.7937, 0.0499),
    (0.06, 0.7123, 0.8309, 0.0599),
    (0.075, 0.5942, 0.8617, 0.0748),
)
