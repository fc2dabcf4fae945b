-- description: Who read or wrote what: S3 object reads and writes by principal and bucket, and Lambda invocations.
-- param: bucket = - Only this bucket.
--
-- S3: s3.amazonaws.com data events (eventCategory Data) on objects; a read has readOnly true.
-- Lambda: lambda.amazonaws.com Invoke events; the function is requestParameters.functionName,
-- else the first resource ARN (the derived lambda_function).

-- section: _s3
-- The S3 data events in scope by principal, bucket, action and readOnly (a few thousand rows that
-- the sections aggregate further), and, for the principal-bucket pairs s3_by_principal lists,
-- their distinct objects (rows with is_pair). Keys are nearly unique, so counting them only for
-- the listed pairs spares most of that work. Two scans of the derived s3_bucket and s3_key: on a
-- compacted lake that costs less than materialising millions of keys for both (0.81x at 10M
-- events); where the view computes them from requestParameters, it parses it twice (1.26x).
WITH counts AS (
    SELECT principal, s3_bucket AS bucket, eventName, readOnly, count(*) AS events, count(errorCode) AS errors,
           min(eventTime) AS first_seen, max(eventTime) AS last_seen
    FROM cloudtrail
    WHERE eventSource = 's3.amazonaws.com' AND eventCategory = 'Data' AND {filters}
      AND ($bucket IS NULL OR s3_bucket = $bucket)
    GROUP BY ALL
), pairs AS (
    SELECT principal, bucket
    FROM counts
    GROUP BY principal, bucket
    ORDER BY coalesce(sum(events) FILTER (WHERE readOnly IS NOT NULL), 0) DESC, principal, bucket
    LIMIT $limit
)
SELECT false AS is_pair, *, NULL::BIGINT AS objects FROM counts
UNION ALL
SELECT true, principal, s3_bucket, NULL, NULL, NULL, NULL, NULL, NULL, count(DISTINCT s3_key)
FROM cloudtrail SEMI JOIN pairs ON pairs.principal = cloudtrail.principal AND pairs.bucket = cloudtrail.s3_bucket
WHERE eventSource = 's3.amazonaws.com' AND eventCategory = 'Data' AND {filters}
  AND ($bucket IS NULL OR s3_bucket = $bucket)
GROUP BY principal, s3_bucket;

-- section: s3_by_principal
WITH pairs AS (
    SELECT principal, bucket,
           coalesce(sum(events) FILTER (WHERE readOnly), 0)::BIGINT AS reads,
           coalesce(sum(events) FILTER (WHERE NOT readOnly), 0)::BIGINT AS writes,
           sum(errors)::BIGINT AS errors, min(first_seen) AS first_seen, max(last_seen) AS last_seen
    FROM {s3}
    WHERE NOT is_pair
    GROUP BY principal, bucket
    ORDER BY reads + writes DESC, principal, bucket
    LIMIT $limit
)
SELECT principal, bucket, reads, writes, errors, coalesce(o.objects, 0) AS objects, first_seen, last_seen
FROM pairs LEFT JOIN (SELECT principal, bucket, objects FROM {s3} WHERE is_pair) o USING (principal, bucket)
ORDER BY reads + writes DESC, principal, bucket;

-- section: s3_by_bucket
SELECT bucket, coalesce(sum(events) FILTER (WHERE readOnly), 0)::BIGINT AS reads,
       coalesce(sum(events) FILTER (WHERE NOT readOnly), 0)::BIGINT AS writes,
       sum(errors)::BIGINT AS errors, count(DISTINCT principal) AS principals
FROM {s3}
WHERE NOT is_pair
GROUP BY bucket
ORDER BY reads + writes DESC, bucket
LIMIT $limit;

-- section: s3_by_action
SELECT eventName, sum(events)::BIGINT AS events, sum(errors)::BIGINT AS errors,
       count(DISTINCT principal) AS principals
FROM {s3}
WHERE NOT is_pair
GROUP BY eventName
ORDER BY events DESC, eventName
LIMIT $limit;

-- section: lambda_invocations
SELECT lambda_function AS function,
       principal,
       count(*) AS invocations, count(errorCode) AS errors,
       min(eventTime) AS first_seen, max(eventTime) AS last_seen
FROM cloudtrail
WHERE eventSource = 'lambda.amazonaws.com' AND eventName = 'Invoke' AND {filters}
GROUP BY function, principal
ORDER BY invocations DESC, function, principal
LIMIT $limit;
