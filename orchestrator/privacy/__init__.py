"""Data-subject rights: subject access and erasure everywhere (data directory and PostgreSQL)."""

from orchestrator.privacy.access import collect, write_archive
from orchestrator.privacy.erasure import ErasureReport, erase_everywhere
from orchestrator.privacy.everywhere import collect_everywhere, erase_all, locate
from orchestrator.privacy.stores import Customer, find_customer

__all__ = [
    "Customer",
    "ErasureReport",
    "collect",
    "collect_everywhere",
    "erase_all",
    "erase_everywhere",
    "find_customer",
    "locate",
    "write_archive",
]
