"""The confidence calibration fitted on validation folds of the training split: generated, not edited.

Written by ``python benchmarks/routing_validation.py --fit --write`` (``calibration.render``);
``calibration`` reads it. Run that command again after the routing set or the catalog changes.
"""

FOLD_MESSAGES = 4092
COEFFICIENTS = (1.72, 3.251, -0.008)
INTERCEPT = -1.451
BUDGET = 0.06
OPERATING_POINT = 0.6152
# Per budget of confident wrong answers: the operating point it gives, and the folds' in-domain
# share answered right and share of messages answered confidently and wrongly at that point.
CURVE: tuple[tuple[float, float, float, float], ...] = (
    (0.02, 0.9331, 0.6484, 0.0198),
    (0.03, 0.8952, 0.7275, 0.0295),
    (0.04, 0.8385, 0.783, 0.0394),
    (0.05, 0.757, 0.828, 0.0499),
    (0.06, 0.6152, 0.8626, 0.0598),
    (0.075, 0.469, 0.8838, 0.0749),
)
