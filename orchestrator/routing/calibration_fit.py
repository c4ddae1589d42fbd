"""The confidence calibration fitted on validation folds of the training split: generated, not edited.

Written by ``python benchmarks/routing_validation.py --fit --write`` (``calibration.render``);
``calibration`` reads it. Run that command again after the routing set or the catalog changes.
"""

FOLD_MESSAGES = 3906
COEFFICIENTS = (1.719, 3.309, -0.121)
INTERCEPT = -1.398
BUDGET = 0.06
OPERATING_POINT = 0.6306
# Per budget of confident wrong answers: the operating point it gives, and the folds' in-domain
# share answered right and share of messages answered confidently and wrongly at that point.
CURVE: tuple[tuple[float, float, float, float], ...] = (
    (0.02, 0.9303, 0.643, 0.0198),
    (0.03, 0.8786, 0.7227, 0.0299),
    (0.04, 0.8151, 0.7815, 0.0395),
    (0.05, 0.7363, 0.8195, 0.0497),
    (0.06, 0.6306, 0.8432, 0.0596),
    (0.075, 0.5276, 0.8592, 0.0744),
)
