"""The confidence calibration fitted on validation folds of the training split: generated, not edited.

Written by ``python benchmarks/routing_validation.py --fit --write`` (``calibration.render``);
``calibration`` reads it. Run that command again after the routing set or the catalog changes.
"""

FOLD_MESSAGES = 4591
COEFFICIENTS = (2.021, 2.878, -0.069)
INTERCEPT = -1.542
BUDGET = 0.06
OPERATING_POINT = 0.7218
# Per budget of confident wrong answers: the operating point it gives, and the folds' in-domain
# share answered right and share of messages answered confidently and wrongly at that point.
CURVE: tuple[tuple[float, float, float, float], ...] = (
    (0.02, 0.9184, 0.6311, 0.0196),
    (0.03, 0.8836, 0.6884, 0.0298),
    (0.04, 0.8366, 0.7317, 0.04),
    (0.05, 0.7694, 0.7719, 0.0499),
    (0.06, 0.7218, 0.7923, 0.0598),
    (0.075, 0.6087, 0.8302, 0.0748),
)
