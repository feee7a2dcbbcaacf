"""The API's series that the 5xx alert and the dashboard read exist at zero from start-up."""

from __future__ import annotations

from api.app import create_app
from api.settings import ApiSettings


def test_every_route_has_its_answered_and_failed_series_at_zero_before_any_request() -> None:
    registry = create_app(ApiSettings(tokens="t")).state.metrics.registry
    value = registry.get_sample_value

    for route in ("/v1/lectures", "/v1/assets/{asset_id}/regenerate"):
        for status_class in ("2xx", "5xx"):
            labels = {"method": "POST", "route": route, "status_class": status_class}
            assert value("lecturegen_api_requests_total", labels) == 0.0
    assert value("lecturegen_api_events_appended_total", {"type": "lecture.created"}) == 0.0
