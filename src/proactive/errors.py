"""Exceptions. One base class; each subclass's docstring is its message."""


class ProactiveError(Exception):
    """Something went wrong in proactive."""

    def __init__(self, detail: str = "") -> None:
        message = (self.__doc__ or "").strip()
        super().__init__(f"{message}: {detail}" if detail else message)


class ExtractFileError(ProactiveError):
    """The extract file cannot be read"""

    def __init__(self, file: str, problem: str) -> None:
        self.file = file
        self.problem = problem
        super().__init__(f"{file}: {problem}")


class ExtractMissingError(ProactiveError):
    """The extract directory is not usable"""
