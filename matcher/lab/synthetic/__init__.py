"""Fictional therapist profiles for the demo directory and benchmarks: realistic, never real."""

from matcher.lab.synthetic.generate import FIELDS, generate_profiles, main, write_ndjson
from matcher.lab.synthetic.tables import DEFAULT_COUNT, DEFAULT_SEED, REGIONS, Metro, Region

__all__ = [
    "DEFAULT_COUNT",
    "DEFAULT_SEED",
    "FIELDS",
    "REGIONS",
    "Metro",
    "Region",
    "generate_profiles",
    "main",
    "write_ndjson",
]
