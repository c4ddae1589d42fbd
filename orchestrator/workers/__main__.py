"""``python -m orchestrator.workers <spec JSON>``: one child process of ``switchboard up --workers``."""

import sys

from shared.http_stack import use_one_http_stack

use_one_http_stack()  # before the services it starts import an HTTP client (shared.http_stack)

from orchestrator.workers.child import main  # noqa: E402

sys.exit(main(sys.argv))
