"""What the catalog raises when a caller asks for something it cannot answer, each naming the parameter at fault.

These are the caller's mistakes; any other exception out of the catalog is a
bug. The API answers these with a 4xx naming the parameter (api/errors.py) and
everything else with a 500; the CLI prints their message.
"""


class CatalogError(Exception):
    """A request the catalog cannot answer, and why; `parameter` names the input at fault."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class NotFoundError(CatalogError, LookupError):
    """Nothing in the catalog has that name or index."""


class InvalidParameterError(CatalogError, ValueError):
    """A filter or option the catalog cannot apply: an unknown name, a text with no words, a format it lacks."""


class InvalidFieldError(CatalogError, ValueError):
    """A field of something sent to be stored that the catalog rejects."""
