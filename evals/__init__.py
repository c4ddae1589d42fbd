"""Evaluation data shipped as package data: scenario suites and the routing message set."""
