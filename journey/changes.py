"""What a journey write touched, told to the apps above it: the one call every journey
service makes in its transaction after it wrote. The metrics recompute (after commit, once
per transaction and organization) and the engagement app's refresh of the touched clients'
health (after commit) go through their doors (`metrics.services`, `engagement.entry`)."""

from __future__ import annotations

from collections.abc import Iterable

from accounts.models import Organization
from engagement.entry import journey_clients_changed
from metrics.services import metrics_request_recompute


def journey_changed(*, organization: Organization, client_ids: Iterable[int | None]) -> None:
    metrics_request_recompute(organization=organization)
    journey_clients_changed(organization=organization, client_ids=client_ids)
