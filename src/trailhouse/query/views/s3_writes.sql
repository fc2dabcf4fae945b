WITH writes AS (
    SELECT eventTime, event_date, recipientAccountId, awsRegion, eventName, eventID,
           CASE WHEN eventName = 'CopyObject' THEN 'copy'
                WHEN eventName IN ('DeleteObject', 'DeleteObjects') THEN 'delete'
                ELSE 'write' END AS action,
           coalesce(userIdentity.arn, userIdentity.invokedBy, userIdentity.userName,
                    userIdentity.principalId, userIdentity.type) AS principal,
           json_extract_string(requestParameters, '$.bucketName') AS bucket,
           json_extract_string(requestParameters, '$.key') AS key,
           TRY_CAST(json_extract_string(additionalEventData, '$.bytesTransferredIn') AS DOUBLE) AS bytes_in
    FROM cloudtrail
    WHERE eventSource = 's3.amazonaws.com' AND errorCode IS NULL
      AND eventName IN ('PutObject', 'CopyObject', 'CompleteMultipartUpload', 'DeleteObject', 'DeleteObjects')
), split AS (
    SELECT *, coalesce(regexp_extract(key, '^(.*)/', 1), '') AS prefix FROM writes
)
SELECT eventTime, event_date, recipientAccountId, awsRegion, eventName, eventID, action, principal,
       bucket, key, prefix,
       regexp_replace(prefix, '/?[^/=]+=.*$', '') AS table_path,
       array_to_string(regexp_extract_all(prefix, '(?:^|/)([^/=]+=[^/]*)', 1), '/') AS partition,
       CAST(bytes_in AS BIGINT) AS bytes
FROM split
