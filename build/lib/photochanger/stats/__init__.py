"""Statistics over jobs: SQL aggregates for the dashboard and charts."""
