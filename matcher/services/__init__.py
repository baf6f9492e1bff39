"""Use cases: each takes a Session (one request, one transaction) and raises domain errors."""
