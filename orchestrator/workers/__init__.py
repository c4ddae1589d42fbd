"""``switchboard up --workers N``: the embedded default spread over several processes.

The parent prepares the data directory once, binds every service's socket, and starts one
child process per group of services (``plan``); each child serves its services on the
sockets it inherited. See ``parent`` for the lifecycle and ``child`` for one process.
"""

from orchestrator.workers.parent import ProcessStack
from orchestrator.workers.plan import Group, plan

__all__ = ["Group", "ProcessStack", "plan"]
