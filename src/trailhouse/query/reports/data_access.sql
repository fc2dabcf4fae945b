-- description: Who read or wrote what: S3 object reads and writes by principal and bucket, and Lambda invocations.
-- param: bucket = - Only this bucket.
--
-- S3: s3.amazonaws.com data events (eventCategory Data) on objects; a read has readOnly true.
-- Lambda: lambda.amazonaws.com Invoke events; the function is requestParameters.functionName,
-- else the first resource ARN.

-- section: s3_by_principal
SELECT coalesce(userIdentity.arn, userIdentity.invokedBy, userIdentity.userName,
                userIdentity.principalId, userIdentity.type) AS principal,
       json_extract_string(requestParameters, '$.bucketName') AS bucket,
       count(*) FILTER (WHERE readOnly) AS reads,
       count(*) FILTER (WHERE NOT readOnly) AS writes,
       count(errorCode) AS errors,
       count(DISTINCT json_extract_string(requestParameters, '$.key')) AS objects,
       min(eventTime) AS first_seen, max(eventTime) AS last_seen
FROM cloudtrail
WHERE eventSource = 's3.amazonaws.com' AND eventCategory = 'Data' AND {filters}
  AND ($bucket IS NULL OR json_extract_string(requestParameters, '$.bucketName') = $bucket)
GROUP BY principal, bucket
ORDER BY reads + writes DESC, principal, bucket
LIMIT $limit;

-- section: s3_by_bucket
SELECT json_extract_string(requestParameters, '$.bucketName') AS bucket,
       count(*) FILTER (WHERE readOnly) AS reads,
       count(*) FILTER (WHERE NOT readOnly) AS writes,
       count(errorCode) AS errors,
       count(DISTINCT coalesce(userIdentity.arn, userIdentity.invokedBy, userIdentity.userName,
                               userIdentity.principalId, userIdentity.type)) AS principals
FROM cloudtrail
WHERE eventSource = 's3.amazonaws.com' AND eventCategory = 'Data' AND {filters}
  AND ($bucket IS NULL OR json_extract_string(requestParameters, '$.bucketName') = $bucket)
GROUP BY bucket
ORDER BY reads + writes DESC, bucket
LIMIT $limit;

-- section: s3_by_action
SELECT eventName, count(*) AS events, count(errorCode) AS errors,
       count(DISTINCT coalesce(userIdentity.arn, userIdentity.invokedBy, userIdentity.userName,
                               userIdentity.principalId, userIdentity.type)) AS principals
FROM cloudtrail
WHERE eventSource = 's3.amazonaws.com' AND eventCategory = 'Data' AND {filters}
  AND ($bucket IS NULL OR json_extract_string(requestParameters, '$.bucketName') = $bucket)
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
