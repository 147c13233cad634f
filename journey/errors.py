from accounts.errors import DomainError


class JourneyError(DomainError):
    """A journey rule refused the request; `field` names the input at fault."""
