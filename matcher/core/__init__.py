"""The pure core: scoring and learning maths (numpy, scipy, scikit-learn; no web, no database)."""
