-- What a `retrying` asset waits for: `provider` while its model's circuit is open (the
-- `waiting_for` of the `asset.retrying` that made it so), else NULL.
ALTER TABLE assets ADD COLUMN waiting_for text;

-- Views projected before this column: the asset's newest applied feed event says it.
UPDATE assets a SET waiting_for = 'provider'
FROM (
    SELECT DISTINCT ON (lecture_id, asset_id) lecture_id, asset_id, data->>'waiting_for' AS waiting_for
    FROM lecture_event_feed
    WHERE applied
    ORDER BY lecture_id, asset_id, seq DESC
) newest
WHERE a.status = 'retrying'
  AND newest.lecture_id = a.lecture_id
  AND newest.asset_id = a.asset_id
  AND newest.waiting_for = 'provider';

CREATE INDEX assets_waiting_by_model ON assets (model) WHERE waiting_for IS NOT NULL;
