"""What every page of the shell needs from engagement: the navigation's alert badge."""

from __future__ import annotations

from engagement.selectors import alert_list


def open_alert_count(request) -> int:
    organization = getattr(request, "organization", None)
    if organization is None or not request.user.is_authenticated:
        return 0
    return alert_list(organization=organization, assignee=request.user).count()


def alert_badge(request) -> dict:
    """A callable, so the count query runs only on pages whose navigation shows the badge."""
    return {"nav_alert_badge": lambda: open_alert_count(request)}
