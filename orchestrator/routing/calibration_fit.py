"""The confidence calibration fitted on validation folds of the training split: generated, not edited.

Written by ``python benchmarks/routing_validation.py --fit --write`` (``calibration.render``);
``calibration`` reads it. Run that command again after the routing set or the catalog changes.
"""

FOLD_MESSAGES = 4059
COEFFICIENTS = (1.383, 3.528, -0.406)
INTERCEPT = -1.052
BUDGET = 0.06
OPERATING_POINT = 0.6085
# Per budget of confident wrong answers: the operating point it gives, and the folds' in-domain
# share answered right and share of messages answered confidently and wrongly at that point.
CURVE: tuple[tuple[float, float, float, float], ...] = (
    (0.02, 0.9304, 0.6417, 0.0195),
    (0.03, 0.8871, 0.7249, 0.0298),
    (0.04, 0.8276, 0.7767, 0.0398),
    (0.05, 0.7439, 0.8249, 0.0498),
    (0.06, 0.6085, 0.8556, 0.0598),
    (0.075, 0.4732, 0.8767, 0.0748),
)
