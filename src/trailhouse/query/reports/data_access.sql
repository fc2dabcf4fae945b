-- description: Who read or wrote what: S3 object reads and writes by principal and bucket, and Lambda invocations.
-- param: bucket = - Only this bucket.
--
-- S3: s3.amazonaws.com data events (eventCategory Data) on objects; a read has readOnly true.
-- Lambda: lambda.amazonaws.com Invoke events; the function is requestParameters.functionName,
-- else the first resource ARN.

-- section: _s3
-- The S3 data events in scope by principal, bucket, action and readOnly: a few thousand rows
-- that the sections aggregate further (distinct counts over them, not over the events).
SELECT coalesce(userIdentity.arn, userIdentity.invokedBy, userIdentity.userName,
                userIdentity.principalId, userIdentity.type) AS principal,
       json_extract_string(requestParameters, '$.bucketName') AS bucket, eventName, readOnly,
       count(*) AS events, count(errorCode) AS errors, min(eventTime) AS first_seen, max(eventTime) AS last_seen
FROM cloudtrail
WHERE eventSource = 's3.amazonaws.com' AND eventCategory = 'Data' AND {filters}
  AND ($bucket IS NULL OR json_extract_string(requestParameters, '$.bucketName') = $bucket)
GROUP BY ALL;

-- section: s3_by_principal
-- Distinct objects (keys are nearly unique, so counting them is the costly part) only for the
-- principal-bucket pairs listed, and requestParameters parsed only for the events of their
-- principals, filtered before the parse (at 10M events a quarter of the S3 data events).
WITH pairs AS (
    SELECT principal, bucket,
           coalesce(sum(events) FILTER (WHERE readOnly), 0)::BIGINT AS reads,
           coalesce(sum(events) FILTER (WHERE NOT readOnly), 0)::BIGINT AS writes,
           sum(errors)::BIGINT AS errors, min(first_seen) AS first_seen, max(last_seen) AS last_seen
    FROM {s3}
    GROUP BY principal, bucket
    ORDER BY reads + writes DESC, principal, bucket
    LIMIT $limit
), objects AS (
    SELECT principal, bucket, count(DISTINCT key) AS objects
    FROM (SELECT principal, target[1] AS bucket, target[2] AS key
          FROM (SELECT principal, json_extract_string(requestParameters, ['$.bucketName', '$.key']) AS target
                FROM (SELECT coalesce(userIdentity.arn, userIdentity.invokedBy, userIdentity.userName,
                                      userIdentity.principalId, userIdentity.type) AS principal,
                             requestParameters
                      FROM cloudtrail
                      WHERE eventSource = 's3.amazonaws.com' AND eventCategory = 'Data' AND {filters})
                WHERE principal IN (SELECT principal FROM pairs)))
    SEMI JOIN pairs USING (principal, bucket)
    GROUP BY principal, bucket
)
SELECT principal, bucket, reads, writes, errors, coalesce(objects, 0) AS objects, first_seen, last_seen
FROM pairs LEFT JOIN objects USING (principal, bucket)
ORDER BY reads + writes DESC, principal, bucket;

-- section: s3_by_bucket
SELECT bucket, coalesce(sum(events) FILTER (WHERE readOnly), 0)::BIGINT AS reads,
       coalesce(sum(events) FILTER (WHERE NOT readOnly), 0)::BIGINT AS writes,
       sum(errors)::BIGINT AS errors, count(DISTINCT principal) AS principals
FROM {s3}
GROUP BY bucket
ORDER BY reads + writes DESC, bucket
LIMIT $limit;

-- section: s3_by_action
SELECT eventName, sum(events)::BIGINT AS events, sum(errors)::BIGINT AS errors,
       count(DISTINCT principal) AS principals
FROM {s3}
GROUP BY eventName
ORDER BY events DESC, eventName
LIMIT $limit;

-- section: lambda_invocations
SELECT coalesce(json_extract_string(requestParameters, '$.functionName'), resources[1].ARN) AS function,
       coalesce(userIdentity.arn, userIdentity.invokedBy, userIdentity.userName,
                userIdentity.principalId, userIdentity.type) AS principal,
       count(*) AS invocations, count(errorCode) AS errors,
       min(eventTime) AS first_seen, max(eventTime) AS last_seen
FROM cloudtrail
WHERE eventSource = 'lambda.amazonaws.com' AND eventName = 'Invoke' AND {filters}
GROUP BY function, principal
ORDER BY invocations DESC, function, principal
LIMIT $limit;
