"""Kafka header names lecturegen adds next to the CloudEvents attributes (DESIGN §4)."""

from __future__ import annotations

ATTEMPT = "lg_attempt"
"""1-based number of the attempt the message is for."""
DUE_AT = "lg_due_at"
"""ISO time before which a retry must not run."""
TIER_MS = "lg_tier_ms"
"""The retry tier the message was written to."""
ORIGINAL_TOPIC = "lg_original_topic"
ORIGINAL_PARTITION = "lg_original_partition"
ORIGINAL_OFFSET = "lg_original_offset"
ERROR_CODE = "lg_error_code"
"""Code of the last error (retry and DLT records)."""
ERROR_MESSAGE = "lg_error_message"
DLT_REASON = "lg_dlt_reason"
"""Why a record is in the dead-letter topic: `poison`, `exhausted` or `failed`."""
CORRELATION_ID = "ce_correlationid"
PREDICTION_ID = "lg_prediction_id"
"""The provider prediction of the failed attempt, so a retry can poll instead of re-create."""
WAITING_SINCE = "lg_waiting_since"
"""ISO time the asset began waiting for its provider in the current outage (a retry of an
attempt that waited and failed while its circuit was open): `MEDIA_GENERATION_MAX_OUTAGE_S`
counts from there, across retries and worker restarts (decision 0019)."""
WEBHOOK_ID = "lg_webhook_id"
"""The `webhook-id` of the delivery a provider completion record came from."""
