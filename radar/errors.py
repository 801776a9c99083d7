"""Typed errors that carry a message a user can act on; the CLI turns them into one line and exit 2."""


class RadarError(Exception):
    """A failure caused by input or environment; its message names what is wrong and how to fix it.

    Messages must never contain a secret value.
    """

    exit_status = 2


class SecretSourceError(RadarError):
    """A secret source (file, variable) could not be read."""
