"""Data-subject rights on the embedded data directory: subject access and erasure everywhere."""

from orchestrator.privacy.access import collect, write_archive
from orchestrator.privacy.erasure import ErasureReport, erase_everywhere
from orchestrator.privacy.stores import Customer, find_customer

__all__ = ["Customer", "ErasureReport", "collect", "erase_everywhere", "find_customer", "write_archive"]
