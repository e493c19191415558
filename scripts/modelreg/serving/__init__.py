"""`modelreg serve`: serve the production models and follow the registry as it changes."""
