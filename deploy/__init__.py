"""Deployment: the production topology's declaration and its one-machine runner (deploy/stack.py)."""
