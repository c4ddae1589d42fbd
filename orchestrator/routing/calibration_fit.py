"""The confidence calibration fitted on validation folds of the training split: generated, not edited.

Written by ``python benchmarks/routing_validation.py --fit --write`` (``calibration.render``);
``calibration`` reads it. Run that command again after the routing set or the catalog changes.
"""

FOLD_MESSAGES = 4993
COEFFICIENTS = (1.58, 3.29, 0.108)
INTERCEPT = -1.563
BUDGET = 0.06
OPERATING_POINT = 0.702
# Per budget of confident wrong answers: the operating point it gives, and the folds' in-domain
# share answered right and share of messages answered confidently and wrongly at that point.
CURVE: tuple[tuple[float, float, float, float], ...] = (
    (0.02, 0.9223, 0.6161, 0.0199),
    (0.03, 0.8833, 0.6867, 0.0298),
    (0.04, 0.8317, 0.7348, 0.0395),
    (0.05, 0.7598, 0.789, 0.0499),
    (0.06, 0.702, 0.8082, 0.0598),
    (0.075, 0.5703, 0.8525, 0.0746),
)
