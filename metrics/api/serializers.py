from __future__ import annotations

from rest_framework import serializers

from metrics.models import MetricResult, MetricRun


class MetricOut(serializers.ModelSerializer):
    value = serializers.FloatField()
    numerator = serializers.FloatField(allow_null=True)
    denominator = serializers.FloatField(allow_null=True)

    class Meta:
        model = MetricResult
        fields = [
            "key",
            "dimension",
            "dimension_value",
            "period",
            "value",
            "numerator",
            "denominator",
            "n",
            "provisional",
            "computed_at",
        ]


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
