"""What the orchestrator's A2A front is built from: the front's maker and its durable task store.

``orchestrator.front_later.LateFront`` builds the front in the background after start-up; the
app (``orchestrator.api``) hands it ``front_parts``, which is called only then, so a2a-sdk's
server and the task store's drivers are imported there and not when the app is.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from shared.database import DatabaseURL

if TYPE_CHECKING:
    from a2a.server.tasks import TaskStore

    from orchestrator.a2a_front import A2AFront
    from orchestrator.admission import Admission
    from orchestrator.api import OrchestratorConfig
    from orchestrator.front_later import FrontParts, TaskStoreParts
    from orchestrator.supervisor import Supervisor


def front_task_store(config: OrchestratorConfig) -> TaskStoreParts | None:
    """The A2A front's durable task store (PostgreSQL, or ``a2a_tasks_db``) with its start and
    stop; None keeps the tasks in memory."""
    if config.a2a_tasks_db is None and not DatabaseURL.parse(config.database_url, default_sqlite=Path()).is_postgres:
        return None
    from shared.a2a_tasks import task_store_for

    return task_store_for(config.database_url, config.a2a_tasks_db or config.conversations_db.with_name("a2a_tasks.db"))


def front_parts(config: OrchestratorConfig, supervisor: Callable[[], Supervisor], admission: Admission) -> FrontParts:
    """The A2A front's maker and durable task store; imports a2a-sdk's server (``orchestrator.front_later``)."""
    from orchestrator.a2a_front import A2AFront

    auth, public_url = config.auth, config.public_url
    assert auth is not None and public_url is not None

    def make(store: TaskStore | None) -> A2AFront:
        return A2AFront(supervisor, auth, admission, public_url, config.on_refused, task_store=store)

    return make, front_task_store(config)
