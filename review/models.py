"""Planners, their areas and review cases (see issue 4)."""
