"""`/api/v1/webhooks/`: an organization's webhook endpoints, their test and their delivery
log. Admins (session) and API keys of scope `admin` only, reads included: the list shows
where the organization's data goes."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.base import OrganizationViewSet
from accounts.api.permissions import OrganizationPermission
from accounts.api.schema import ERRORS, READ_ERRORS, crud_schema
from accounts.models import WEBHOOK_EVENTS, Webhook, WebhookDelivery
from accounts.permissions import Perm
from accounts.webhooks import (
    webhook_create,
    webhook_delete,
    webhook_deliveries,
    webhook_get,
    webhook_list,
    webhook_test,
    webhook_update,
)


class WebhookOut(serializers.ModelSerializer):
    class Meta:
        model = Webhook
        fields = [
            "id",
            "url",
            "events",
            "active",
            "description",
            "disabled_at",
            "disabled_reason",
            "consecutive_failures",
            "created_at",
            "updated_at",
        ]


class WebhookCreatedOut(WebhookOut):
    secret = serializers.CharField(
        read_only=True, help_text="Shown once, now: keep it to verify the signatures."
    )

    class Meta(WebhookOut.Meta):
        fields = [*WebhookOut.Meta.fields, "secret"]


class WebhookIn(serializers.Serializer):
    url = serializers.CharField(max_length=500, help_text="https:// (or http://), public host.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WEBHOOK_EVENTS), allow_empty=False
    )
    active = serializers.BooleanField(required=False, default=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)


class WebhookPatchIn(WebhookIn):
    active = serializers.BooleanField(
        required=False, help_text="true also re-enables an endpoint the failures disabled."
    )


class WebhookDeliveryOut(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "attempt",
            "status_code",
            "error",
            "duration_ms",
            "at",
            "payload",
        ]


class WebhookTestOut(serializers.Serializer):
    id = serializers.CharField(help_text="The test event's webhook-id.")
    type = serializers.CharField()
    timestamp = serializers.CharField()


class WebhookPermission(OrganizationPermission):
    """Every operation, reads included, needs `webhooks.manage`: admins, admin keys."""

    def _perm_for(self, request, view) -> Perm:
        return Perm.WEBHOOKS_MANAGE

    def _check(self, actor, request, view) -> bool:
        if actor.may(Perm.WEBHOOKS_MANAGE):
            return True
        self.message = (
            "Webhooks are managed by admins and API keys of scope 'admin'."
            if actor.api_key_id is not None
            else "Only admins manage webhooks."
        )
        return False


@crud_schema(WebhookOut, WebhookIn, WebhookPatchIn, tag="webhooks")
class WebhookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganizationViewSet):
    permission_classes = [WebhookPermission]
    serializer_class = WebhookOut
    lookup_value_regex = r"[0-9]+"
    csv_actions = {"list", "deliveries"}  # both answer ?format=csv (accounts/api/csv_export.py)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Webhook.objects.none()
        return webhook_list(organization=self.organization)

    def lookup(self, pk):
        return webhook_get(organization=self.organization, webhook_id=pk)

    def get_serializer_class(self):
        return {
            "create": WebhookIn,
            "partial_update": WebhookPatchIn,
            "deliveries": WebhookDeliveryOut,
        }.get(self.action, WebhookOut)

    def _input(self, *, partial: bool) -> dict:
        serializer = self.get_serializer(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    @extend_schema(
        tags=["webhooks"],
        request=WebhookIn,
        responses={201: WebhookCreatedOut, **{k: ERRORS[k] for k in (400, 401, 403)}},
    )
    def create(self, request, *args, **kwargs):
        webhook, secret = webhook_create(actor=self.actor, **self._input(partial=False))
        data = WebhookOut(webhook).data
        response = Response({**data, "secret": secret}, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response

    def partial_update(self, request, *args, **kwargs):
        webhook = self.get_object()
        webhook = webhook_update(
            actor=self.actor, webhook_id=webhook.pk, **self._input(partial=True)
        )
        return Response(WebhookOut(webhook).data)

    def destroy(self, request, *args, **kwargs):
        webhook = self.get_object()
        webhook_delete(actor=self.actor, webhook_id=webhook.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=["webhooks"],
        request=None,
        responses={
            202: OpenApiResponse(
                WebhookTestOut, description="A webhook.test event is on its way (once)."
            ),
            **READ_ERRORS,
        },
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        webhook = self.get_object()
        event = webhook_test(actor=self.actor, webhook_id=webhook.pk)
        body = {k: event[k] for k in ("id", "type", "timestamp")}
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(tags=["webhooks"], responses={200: WebhookDeliveryOut(many=True), **READ_ERRORS})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        page = self.paginate_queryset(self.csv_objects())
        return self.get_paginated_response(WebhookDeliveryOut(page, many=True).data)

    def csv_objects(self):
        if self.action == "deliveries":
            webhook = self.get_object()
            return webhook_deliveries(organization=self.organization, webhook=webhook)
        return super().csv_objects()
