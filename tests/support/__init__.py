"""Shared test support: databases, users, and the domain helpers several areas use."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
