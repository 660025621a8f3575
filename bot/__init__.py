"""Paperboy: the day's trending machine-learning papers, delivered to team chat."""

__version__ = "0.1.0"
