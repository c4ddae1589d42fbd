"""Importing the IETF vCon library without its import-time side effects.

vcon 0.10 imports a helper package that reconfigures the root logger (a stdout handler at
INFO) and authlib's deprecated ``jose`` module, which adds an "always" warnings filter.
Both would leak into every Switchboard process that exports, so they are undone here, once.
"""

from __future__ import annotations

import logging
import warnings

_root = logging.getLogger()
_handlers, _level = list(_root.handlers), _root.level
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import authlib.deprecate  # noqa: F401  (its global filter lands inside this block and is discarded)

    warnings.simplefilter("ignore")
    from vcon import Vcon
    from vcon.dialog import Dialog
    from vcon.party import Party
_root.handlers[:] = _handlers
_root.setLevel(_level)
logging.getLogger("vcon").setLevel(logging.WARNING)

__all__ = ["Dialog", "Party", "Vcon"]
