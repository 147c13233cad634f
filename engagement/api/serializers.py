"""Output serializers the engagement services render with too (a webhook's `data` is the
object as the API renders it), so they live apart from the views, which import the
services."""

from __future__ import annotations

from rest_framework import serializers

from engagement import selectors as es
from engagement.models import Alert


def _email_of():
    return serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)


class AlertOut(serializers.ModelSerializer):
    assignee = _email_of()
    resolved_by = _email_of()
    state = serializers.SerializerMethodField(help_text="open, snoozed or resolved")

    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "state",
            "title",
            "message",
            "assignee",
            "client",
            "project",
            "milestone",
            "feedback",
            "raised_at",
            "snoozed_until",
            "resolved_at",
            "resolved_by",
            "resolution_note",
        ]

    def get_state(self, obj) -> str:
        return es.alert_state(obj)
