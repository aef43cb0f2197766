"""Admin accounts, JWT sessions and login throttling."""
