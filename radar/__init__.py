"""radar: keeps CI secrets where they belong."""

__version__ = "0.1.0"
