"""Settings per environment; every value that differs between machines comes from the environment."""
