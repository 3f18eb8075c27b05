"""End-to-end tests against the production stack (deploy/processes.yaml)."""
