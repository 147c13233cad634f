"""Template helpers of the browser app: the role's navigation and number formatting."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from accounts.models import Role
from journey.models import Modality

register = template.Library()

ICONS = {
    "home": '<path d="M3 10.5 12 3l9 7.5V20a1 1 0 0 1-1 1h-5v-6H9v6H4a1 1 0 0 1-1-1z"/>',
    "dashboard": '<path d="M4 20V10M10 20V4M16 20v-7M22 20H2"/>',
    "clients": '<path d="M16 19v-1a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v1M9 10a3 3 0 1 0 0-6 3 3 0 0 0 0 6M22 19v-1a4 4 0 0 0-3-3.9M16 4.1a3 3 0 0 1 0 5.8"/>',
    "projects": '<path d="M3 7h18M3 12h18M3 17h12"/>',
    "board": '<path d="M4 4h4v16H4zM10 4h4v10h-4zM16 4h4v13h-4z"/>',
    "mine": '<path d="M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8M4 21a8 8 0 0 1 16 0"/>',
    "alerts": '<path d="M6 8a6 6 0 1 1 12 0c0 7 3 9 3 9H3s3-2 3-9M10.3 21a1.94 1.94 0 0 0 3.4 0"/>',
    "settings": '<path d="M4 6h10M18 6h2M4 12h4M12 12h8M4 18h12M20 18h0M14 4v4M8 10v4M16 16v4"/>',
    "audit": '<path d="M9 11l3 3 8-8M20 12v7a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h9"/>',
    "members": '<path d="M15 19v-1a4 4 0 0 0-4-4H7a4 4 0 0 0-4 4v1M9 10a3 3 0 1 0 0-6 3 3 0 0 0 0 6M19 8v6M22 11h-6"/>',
    "import": '<path d="M12 3v12M7 10l5 5 5-5M4 17v3h16v-3"/>',
    "api_keys": '<path d="M15 7a4 4 0 1 1-3.87 5H9v2H7v2H4v-3l5.13-5.13A4 4 0 0 1 15 7zM16 9h.01"/>',
}

# (key, label, url name, query) per role, in the order that role works in.
_ITEMS = {
    "home": ("Overview", "home", ""),
    "dashboard": ("Dashboard", "dashboard", ""),
    "clients": ("Clients", "clients", ""),
    "projects": ("Projects", "projects", ""),
    "board": ("Phase board", "board", ""),
    "mine": ("My projects", "my_projects", ""),
    "alerts": ("Alerts", "alerts", ""),
    "settings": ("Engagement settings", "engagement_settings", ""),
    "audit": ("Audit log", "accounts:audit_log", ""),
    "members": ("Members", "accounts:members", ""),
    "api_keys": ("API keys", "accounts:api_keys", ""),
    "import": ("Import", "import_start", ""),
}
_ORDER = {
    Role.EXECUTIVE: ["dashboard", "home", "alerts", "board", "projects", "clients", "audit"],
    Role.ACCOUNT_MANAGER: ["home", "alerts", "clients", "projects", "board", "dashboard", "import"],
    Role.PROJECT_MANAGER: ["mine", "board", "home", "alerts", "projects", "clients", "dashboard"],
    Role.ADMIN: [
        "home",
        "alerts",
        "dashboard",
        "clients",
        "projects",
        "board",
        "mine",
        "settings",
        "import",
        "audit",
        "members",
        "api_keys",
    ],
    Role.VIEWER: ["home", "clients", "projects", "board", "dashboard"],
}


@register.simple_tag(takes_context=True)
def nav_items(context) -> list[dict]:
    request = context["request"]
    membership = getattr(request, "membership", None)
    if membership is None:
        return []
    current = getattr(request.resolver_match, "url_name", "")
    order = _ORDER.get(membership.role, _ORDER[Role.VIEWER])
    # The badge: the user's open alerts, counted by the engagement app's context processor
    # (one count query per page, only when the navigation shows it).
    badge = context.get("nav_alert_badge")
    alerts_open = badge() if "alerts" in order and callable(badge) else 0
    out = []
    for key in order:
        label, name, _ = _ITEMS[key]
        out.append(
            {
                "key": key,
                "label": label,
                "url": reverse(name),
                "count": alerts_open if key == "alerts" else None,
                "active": current == name
                or (key == "clients" and current.startswith("client"))
                or (key == "alerts" and current.startswith("alert"))
                or (key == "audit" and current == "audit_log")
                or (key == "members" and current.startswith("member"))
                or (key == "api_keys" and current.startswith("api_key"))
                or (key == "import" and current.startswith("import_")),
                "icon": mark_safe(  # noqa: S308 - constant markup above
                    '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" '
                    f'stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">{ICONS[key]}</svg>'
                ),
            }
        )
    return out


@register.filter
def days(value) -> str:
    """A duration in days, as people say it: '12.5 d', '3 h' under a day."""
    if value is None or value == "":
        return "—"
    value = float(value)
    if value < 1:
        return f"{value * 24:.0f} h"
    return f"{value:.1f} d" if value < 100 else f"{value:.0f} d"


@register.filter
def duration_between(start, end) -> str:
    if not start:
        return "—"
    end = end or timezone.now()
    return days((end - start).total_seconds() / 86400)


@register.filter
def is_overdue(milestone) -> bool:
    return milestone.completed_at is None and milestone.due_date < timezone.now().date()


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def modality_label(code: str) -> str:
    try:
        return Modality(code).label
    except ValueError:
        return code


@register.filter
def ago(value) -> str:
    """'3 days ago': the largest unit only."""
    if not value:
        return ""
    from django.utils.timesince import timesince

    return f"{timesince(value, depth=1)} ago"
