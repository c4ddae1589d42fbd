"""The confidence calibration fitted on validation folds of the training split: generated, not edited.

Written by ``python benchmarks/routing_validation.py --fit --write`` (``calibration.render``);
``calibration`` reads it. Run that command again after the routing set or the catalog changes.
"""

FOLD_MESSAGES = 4502
COEFFICIENTS = (1.288, 3.407, -0.321)
INTERCEPT = -1.083
BUDGET = 0.06
OPERATING_POINT = 0.7141
# Per budget of confident wrong answers: the operating point it gives, and the folds' in-domain
# share answered right and share of messages answered confidently and wrongly at that point.
CURVE: tuple[tuple[float, float, float, float], ...] = (
    (0.02, 0.9273, 0.6259, 0.0198),
    (0.03, 0.8855, 0.7086, 0.0299),
    (0.04, 0.8329, 0.7557, 0.0396),
    (0.05, 0.7873, 0.788, 0.05),
    (0.06, 0.7141, 0.8226, 0.0599),
    (0.075, 0.5977, 0.8519, 0.075),
)
