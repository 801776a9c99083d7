"""Typed errors that carry a message a user can act on; the CLI turns them into one line and exit 2."""


class RadarError(Exception):
    """A failure caused by input or environment; its message names what is wrong and how to fix it.

    Messages must never contain a secret value.
    """

    exit_status = 2


class SecretSourceError(RadarError):
    """A secret source (file, variable) could not be read."""


class CommandError(RadarError):
    """The command to run could not be started.

    The exit status follows the shells' convention, so scripts can tell the cases apart:
    127 when the command is not found, 126 when it is found but cannot be executed.
    """

    def __init__(self, message: str, exit_status: int) -> None:
        super().__init__(message)
        self.exit_status = exit_status
