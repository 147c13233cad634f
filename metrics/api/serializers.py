from __future__ import annotations

from rest_framework import serializers

from metrics.models import RESULT_FIELDS, MetricResult, MetricRun


class MetricOut(serializers.ModelSerializer):
    value = serializers.FloatField()
    numerator = serializers.FloatField(allow_null=True)
    denominator = serializers.FloatField(allow_null=True)

    class Meta:
        model = MetricResult
        fields = [*RESULT_FIELDS, "computed_at"]


class MetricRunOut(serializers.ModelSerializer):
    requested_by = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)

    class Meta:
        model = MetricRun
        fields = [
            "id",
            "status",
            "trigger",
            "task_id",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "rows_written",
            "duration_ms",
            "error",
        ]


class RecomputeOut(serializers.Serializer):
    task_id = serializers.CharField()
    run = MetricRunOut()
    status_url = serializers.CharField()
