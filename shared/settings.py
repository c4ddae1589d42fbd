"""Settings from the environment (``SWITCHBOARD_*``) and the service topology.

The embedded default lays every service out on consecutive ports from ``base_port``;
scale-out deployments pass explicit URLs instead.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, Field, NonNegativeFloat, PositiveFloat, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict

AGENTS: tuple[str, ...] = ("identity", "billing", "payment", "support", "escalation")
SYSTEMS: tuple[str, ...] = ("crm", "billing", "payments", "support", "identity", "network", "consent")

MCP_PATH = "/mcp"
A2A_JSONRPC_PATH = "/a2a/jsonrpc"
A2A_REST_PATH = "/a2a/rest"


class Settings(BaseSettings):
    """Everything an operator may set. Each field is also ``SWITCHBOARD_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    data_dir: Path = Path("data")
    cache_dir: Path | None = None
    """The offline router's trained weights: unset is ``<data_dir>/cache``. Fresh data directories
    that share one (tests, ``switchboard skill test``) train once per set of skills, not each time."""
    host: str = "127.0.0.1"
    base_port: int = 8700
    agent_urls: list[str] | None = None
    extra_agent_urls: list[str] = []
    max_message_chars: int = 2000
    route_threshold: float = 0.45
    route_wrong_budget: float = 0.06
    """The share of messages the offline router may answer confidently and wrongly: 0.02, 0.03,
    0.04, 0.05, 0.06 or 0.075 (the budgets its calibration is fitted for). Lower asks the customer
    a clarifying question more often and guesses wrong less (docs/routing.md)."""
    a2a_timeout_seconds: float = 20.0
    turn_deadline_seconds: float | None = None
    """Each customer turn's deadline, carried to every hop; None: 20 s offline, 90 s with a model."""
    mcp_timeout_seconds: float = 10.0
    max_turns_in_flight: PositiveInt = 32
    """Admission: conversations being started plus turns being answered at once per orchestrator
    process (with a latency target, the most the adaptive limit rises to); past the limit new ones
    get 503 with ``Retry-After`` at once instead of queueing."""
    min_turns_in_flight: PositiveInt = 16
    """Admission: the least the adaptive limit falls to, however slow turns are."""
    admission_target_seconds: NonNegativeFloat | None = None
    """Admission: the latency (90th percentile) the limit holds admitted turns to, between the
    minimum and the maximum; None: 0.3 s offline, a fixed maximum with a model; 0: a fixed maximum."""
    retry_after_seconds: PositiveInt = 1
    ready_timeout_seconds: PositiveFloat = 120.0
    """How long each server may take to start (its app built, its start-up done) before start-up
    fails naming it. The first start for a set of skills trains the router inside the
    orchestrator's start-up (``benchmarks/startup.py`` prints how long a first start takes), which
    on a busy 2-core machine passed 60 s. A heavily loaded machine may need more."""
    audit_write_budget_seconds: PositiveFloat = 2.0
    """How long a governed call may wait for its audit record (queue and commit) before the gateway
    refuses it unrecorded (503, fail closed): long enough for a saturated machine, well inside the
    agents' call timeout, so a locked audit store fails calls in seconds instead of holding them."""
    customers: int = 240
    dataset_seed: int = 7
    auth_context_ttl_seconds: int = 1800
    bus_url: str | None = None
    """Event bus: unset is in-process (embedded); ``nats://host:4222`` is NATS JetStream."""
    deployment: str = "switchboard"
    """Names this deployment's NATS stream and subjects, so deployments sharing a server never mix."""
    event_retention_seconds: float = 24 * 3600.0
    """How long the NATS stream keeps an event (a consumer down longer resumes from the systems)."""
    signal_secret: str | None = None
    """HMAC key for network-signal ingestion; unset uses ``<data_dir>/signal-secret`` (created on first start)."""
    signal_max_age_seconds: float = 300.0
    """A network signal dated longer ago than this is refused (422) and audited."""
    signal_max_ahead_seconds: float = 60.0
    """A network signal dated further ahead of our clock than this is refused (422) and audited."""
    database_url: str | None = None
    db_pool_size: PositiveInt = 2
    """PostgreSQL: the most connections one pool holds. A process opens one pool per store; the
    sum over every service is in docs/deploy.md (the default compose deployment needs 70 of 100)."""
    """Conversations and A2A tasks: unset is SQLite under ``data_dir``; ``postgresql://...`` scales out."""
    # One service per process (``switchboard serve``): where the others are, when not the embedded layout.
    orchestrator_url: str | None = None
    gateway_url: str | None = None
    token_url: str | None = None
    """The token service (``switchboard serve tokens``); every service gets and checks its tokens there."""
    token_ttl_seconds: int = 300
    """Lifetime of a service token; a rotated key stays published this long after it stops signing."""
    system_urls: dict[str, str] = {}
    daily_refund_limit: Decimal = Decimal("100.00")
    """Pounds: past this per-customer total of refunds in a UTC day (every channel), a human approves."""
    sim_swap_window_hours: int = Field(default=24, ge=1, le=2400)
    """A SIM change on the customer's line within this many hours (the network system's record) pauses
    every money-moving write: the change may be an account takeover."""
    projection_max_lag_seconds: NonNegativeFloat = 1.0
    """How far behind the systems of record a copy of their facts may be before it is not used:
    past it the gateway reads consent and open tickets live (and denies if that read fails)."""
    audit_witness_dir: Path | None = None
    audit_witness_url: str | None = None
    """An HTTP witness that also keeps every signed checkpoint (``switchboard audit witness`` runs one)."""
    audit_witness_token: str | None = None
    audit_witness_database_url: str | None = None
    """A PostgreSQL witness with its own login (not the gateway's ``database_url``): every checkpoint too."""
    retention_transcripts_days: float | None = None
    """Days each data class is kept (None: for ever); ``switchboard retention`` and ``up`` purge."""
    retention_raw_arguments_days: float | None = None
    retention_audit_days: float | None = None
    retention_outbox_days: float | None = None
    retention_signals_days: float | None = None
    retention_interval_seconds: float = 3600.0
    staff: str = ""
    """Named staff accounts ``switchboard prepare`` creates when missing, ``NAME:ROLE`` separated by
    commas (``maria:compliance,tom:compliance,ann:approver``); each gets its own sign-in token in the
    data directory's secrets (``switchboard staff`` lists them). The compose deployment uses these."""
    demo_staff: bool = True
    """Demo mode: shared staff accounts named after their roles (agent, approver, compliance …) exist
    and may sign in; their decisions are chained as a shared account's. Set false for real staff:
    then only named people (``switchboard staff --add NAME --role ROLE``) may sign in."""
    """Where signed audit checkpoints are also kept, outside the data directory (unset: a sibling
    ``<data_dir>-audit-witness``). Point it at storage the gateway's host cannot rewrite."""
    public_url: str | None = None
    """The URL others reach this service at (an agent's AgentCard), when it differs from host:port."""

    @property
    def router_cache_dir(self) -> Path:
        return self.cache_dir or self.data_dir / "cache"


class Topology(BaseModel):
    """Where each service listens. Built once at start-up and handed to every service."""

    orchestrator: str
    gateway: str
    agents: dict[str, str]
    systems: dict[str, str]
    tokens: str

    @classmethod
    def embedded(cls, host: str, base_port: int) -> Topology:
        def url(offset: int) -> str:
            return f"http://{host}:{base_port + offset}"

        return cls(
            orchestrator=url(0),
            gateway=url(10),
            tokens=url(5),
            agents={name: url(21 + i) for i, name in enumerate(AGENTS)},
            systems={name: url(31 + i) for i, name in enumerate(SYSTEMS)},
        )

    def gateway_mcp_url(self) -> str:
        return self.gateway + MCP_PATH

    def system_mcp_url(self, system: str) -> str:
        return self.systems[system] + MCP_PATH
