-- description: Events over time by service, region, account and principal, and the top resources (Looker "General Operations").
-- param: interval = day {hour,day,week,month} Time bucket of the over_time section.
--
-- principal: the caller's ARN, else the AWS service that called (invokedBy), else its user name,
-- principal id or identity type. service: eventSource without ".amazonaws.com".

-- section: _counts
-- One scan answers every section but top_resources: one grouping set per section, so no group
-- holds all seven keys at once. Time is grouped by day (event_date, the UTC date of eventTime)
-- and, for --interval hour, by hour: each group's period comes from its keys, so no time
-- function runs per event (an aggregate of eventTime per group cost ~0.1 s at 10M events).
SELECT GROUPING(event_date, hour_start, recipientAccountId) = 0 AS by_time,
       GROUPING(eventSource, eventName) = 0 AS by_event,
       GROUPING(awsRegion) = 0 AS by_region,
       GROUPING(principal, principal_type) = 0 AS by_principal,
       coalesce(make_timestamp(hour_start), date_trunc($interval, event_date)) AS period,
       recipientAccountId, awsRegion, replace(eventSource, '.amazonaws.com', '') AS service, eventName,
       principal, principal_type, count(*) AS events, count(errorCode) AS errors
FROM (
    SELECT event_date,
           CASE WHEN $interval = 'hour'
                THEN epoch_us(eventTime) - (epoch_us(eventTime) % 3600000000 + 3600000000) % 3600000000
           END AS hour_start,
           recipientAccountId, awsRegion, eventSource, eventName,
           principal,
           userIdentity.type AS principal_type, errorCode
    FROM cloudtrail
    WHERE {filters}
)
GROUP BY GROUPING SETS ((event_date, hour_start, recipientAccountId), (eventSource, eventName), (awsRegion),
                        (principal, principal_type));

-- section: over_time
SELECT period, sum(events)::BIGINT AS events, sum(errors)::BIGINT AS errors,
       count(DISTINCT recipientAccountId) AS accounts
FROM {counts}
WHERE by_time
GROUP BY period
ORDER BY period;

-- section: by_service
SELECT service, sum(events)::BIGINT AS events, sum(errors)::BIGINT AS errors,
       count(DISTINCT eventName) AS actions
FROM {counts}
WHERE by_event
GROUP BY service
ORDER BY events DESC, service
LIMIT $limit;

-- section: by_region
SELECT awsRegion, sum(events)::BIGINT AS events, sum(errors)::BIGINT AS errors
FROM {counts}
WHERE by_region
GROUP BY awsRegion
ORDER BY events DESC, awsRegion
LIMIT $limit;

-- section: by_account
SELECT recipientAccountId, sum(events)::BIGINT AS events, sum(errors)::BIGINT AS errors
FROM {counts}
WHERE by_time
GROUP BY recipientAccountId
ORDER BY events DESC, recipientAccountId
LIMIT $limit;

-- section: by_principal
SELECT principal, string_agg(DISTINCT principal_type, ', ' ORDER BY principal_type) AS principal_type,
       sum(events)::BIGINT AS events, sum(errors)::BIGINT AS errors
FROM {counts}
WHERE by_principal
GROUP BY principal
ORDER BY events DESC, principal
LIMIT $limit;

-- section: top_events
SELECT service, eventName, sum(events)::BIGINT AS events
FROM {counts}
WHERE by_event
GROUP BY service, eventName
ORDER BY events DESC, service, eventName
LIMIT $limit;

-- section: _resources
-- Every resource ARN is counted exactly except S3 object ARNs (arn:aws:s3:::bucket/key):
-- millions of nearly unique keys, whose grouping was most of this report's time (3M groups over
-- 9.5M entries at 10M events). Those are counted per hash slot (4,096 of them, as in
-- query/derived.py) instead; a slot's count bounds each of its objects' counts. Where compaction
-- stored them, the derived resource_arn, resource_type and object_slot are read, and the rare
-- more_resources; elsewhere `resources` is unnested. An ARN (or a slot) can have several rows;
-- top_resources adds them up.
SELECT resource_arn AS resource, NULL::USMALLINT AS slot, min(resource_type) AS resource_type, count(*) AS events
FROM cloudtrail WHERE {filters} AND derived_stored AND resource_arn IS NOT NULL
GROUP BY resource_arn
UNION ALL
SELECT NULL, object_slot, NULL, count(*)
FROM cloudtrail WHERE {filters} AND derived_stored AND object_slot IS NOT NULL
GROUP BY object_slot
UNION ALL
SELECT CASE WHEN NOT is_object THEN arn END, CASE WHEN is_object THEN (hash(arn) % 4096)::USMALLINT END,
       min(resource_type), count(*)
FROM (SELECT resource.ARN AS arn, resource.type AS resource_type,
             starts_with(resource.ARN, 'arn:aws:s3:::') AND contains(resource.ARN, '/') AS is_object
      FROM (SELECT unnest(resources) AS resource
            FROM cloudtrail WHERE {filters} AND NOT derived_stored AND len(resources) > 0
            UNION ALL
            SELECT unnest(more_resources)
            FROM cloudtrail WHERE {filters} AND derived_stored AND more_resource_count > 0)
      WHERE resource.ARN IS NOT NULL)
GROUP BY ALL;

-- section: top_resources
-- The listed rows come from the exact counts when no object was counted, or when the last of
-- them has more events than any object slot (so no object can reach or tie it). Else (small
-- lakes, or objects among the top) every ARN is counted exactly: a scan joined to a table that
-- is empty in the first cases, so that DuckDB skips it entirely (an EXISTS gate did not when no
-- event had resources: the scan read everything looking for a first row).
WITH arns AS (
    SELECT resource, min(resource_type) AS resource_type, sum(events)::BIGINT AS events
    FROM {resources} WHERE resource IS NOT NULL GROUP BY resource
), slots AS (
    SELECT slot, sum(events)::BIGINT AS events FROM {resources} WHERE resource IS NULL GROUP BY slot
), exact AS (
    SELECT resource, resource_type, events FROM arns
    ORDER BY events DESC, resource
    LIMIT $limit
), unsettled AS (
    SELECT true AS unsettled
    WHERE EXISTS (SELECT 1 FROM slots)
      AND ((SELECT count(*) FROM exact) < $limit
           OR (SELECT min(events) FROM exact) <= (SELECT max(events) FROM slots))
)
SELECT resource, resource_type, events FROM exact WHERE NOT EXISTS (SELECT 1 FROM unsettled)
UNION ALL
(SELECT resource.ARN AS resource, min(resource.type) AS resource_type, count(*) AS events
 FROM (SELECT unnest(resources) AS resource
       FROM cloudtrail JOIN unsettled ON unsettled.unsettled = (len(resources) > 0)
       WHERE {filters})
 WHERE resource.ARN IS NOT NULL
 GROUP BY resource.ARN
 ORDER BY events DESC, resource
 LIMIT $limit)
ORDER BY events DESC, resource;
