"""The error a sub-command raises while its system is not built yet."""


class NotBuiltError(RuntimeError):
    """Raised by a `keras-suite` sub-command whose system is not built yet.

    Args:
        command: the sub-command's name, e.g. `"tf3d"`.
        issue: the number of the issue that builds it.
    """

    def __init__(self, command, issue):
        super().__init__(
            f"`keras-suite {command}` is not built yet (issue {issue} builds it). Nothing was run."
        )
        self.command = command
        self.issue = issue
