"""The confidence calibration fitted on validation folds of the training split: generated, not edited.

Written by ``python benchmarks/routing_validation.py --fit --write`` (``calibration.render``);
``calibration`` reads it. Run that command again after the routing set or the catalog changes.
"""

FOLD_MESSAGES = 5433
COEFFICIENTS = (1.581, 2.958, 0.063)
INTERCEPT = -1.318
BUDGET = 0.06
OPERATING_POINT = 0.7232
# Per budget of confident wrong answers: the operating point it gives, and the folds' in-domain
# share answered right and share of messages answered confidently and wrongly at that point.
CURVE: tuple[tuple[float, float, float, float], ...] = (
    (0.02, 0.9252, 0.6099, 0.0199),
    (0.03, 0.8962, 0.673, 0.03),
    (0.04, 0.8379, 0.7522, 0.0398),
    (0.05, 0.7826, 0.7954, 0.0499),
    (0.06, 0.7232, 0.8283, 0.0599),
    (0.075, 0.5903, 0.8634, 0.0748),
)
