"""Storage: table models, migrations and the queries the services run."""
