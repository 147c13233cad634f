"""v1 metrics: the stored figures, a recompute on request, and the runs to follow it."""

from __future__ import annotations

from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.base import OrganizationViewSet
from accounts.api.schema import ERRORS, READ_ERRORS
from accounts.permissions import Perm
from metrics import filters, selectors, services
from metrics.api import serializers as s
from metrics.models import MetricResult, MetricRun


@extend_schema_view(
    list=extend_schema(
        tags=["metrics"],
        summary="Stored metric figures",
        description=(
            "Rows of `{key, dimension, dimension_value, period, value, numerator, denominator, "
            "n, computed_at}` (plus `provisional`), oldest month first within a series. "
            "Filter with `key`, `dimension`, `dimension_value`, `from` and `to` (YYYY-MM)."
        ),
        responses={200: s.MetricOut(many=True), **ERRORS},
    )
)
class MetricViewSet(mixins.ListModelMixin, OrganizationViewSet):
    serializer_class = s.MetricOut
    filterset_class = filters.MetricFilter
    filter_backends = [DjangoFilterBackend]
    write_perms = {"recompute": Perm.METRICS_RECOMPUTE}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MetricResult.objects.none()
        return selectors.metric_list(organization=self.organization)

    @extend_schema(
        tags=["metrics"],
        request=None,
        summary="Queue a recompute of your organization's metrics",
        description=(
            "Answers 202 with the Celery task id and the run; follow it at `status_url` "
            "until `status` is `succeeded` or `failed`. Asking again while a run is queued "
            "answers that run."
        ),
        responses={202: s.RecomputeOut, **{k: ERRORS[k] for k in (401, 403)}},
    )
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def recompute(self, request):
        run = services.metrics_recompute_request(actor=self.actor)
        url = request.build_absolute_uri(reverse("api:metric-run-detail", args=[run.pk]))
        body = {"task_id": run.task_id, "run": s.MetricRunOut(run).data, "status_url": url}
        return Response(body, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(
        tags=["metrics"],
        summary="Recompute runs, newest first",
        responses={200: s.MetricRunOut(many=True), **ERRORS},
    ),
    retrieve=extend_schema(
        tags=["metrics"],
        summary="One recompute run (poll it after POST /metrics/recompute/)",
        responses={200: s.MetricRunOut, **READ_ERRORS},
    ),
)
class MetricRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganizationViewSet):
    serializer_class = s.MetricRunOut
    filterset_class = filters.MetricRunFilter
    filter_backends = [DjangoFilterBackend]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MetricRun.objects.none()
        return (
            MetricRun.objects.for_organization(self.organization)
            .select_related("requested_by")
            .order_by("-created_at", "-id")
        )

    def lookup(self, pk):
        return selectors.metric_run_get(organization=self.organization, run_id=pk)
