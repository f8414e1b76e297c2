"""The one exception type every user-facing failure of linclass raises."""


class LinclassError(ValueError):
    """A problem the user can fix: the message says what was wrong and what to do."""
