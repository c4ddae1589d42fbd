"""``python -m orchestrator.workers <spec JSON>``: one child process of ``switchboard up --workers``."""

import sys

from orchestrator.workers.child import main

sys.exit(main(sys.argv))
