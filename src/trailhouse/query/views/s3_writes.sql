WITH writes AS (
    SELECT eventTime, event_date, recipientAccountId, awsRegion, eventName, eventID,
           CASE WHEN eventName = 'CopyObject' THEN 'copy'
                WHEN eventName IN ('DeleteObject', 'DeleteObjects') THEN 'delete'
                ELSE 'write' END AS action,
           coalesce(userIdentity.arn, userIdentity.invokedBy, userIdentity.userName,
                    userIdentity.principalId, userIdentity.type) AS principal,
           -- one parse of requestParameters for both fields (json_transform: 1.1x faster than
           -- json_extract_string with a list of paths, same values)
           json_transform(requestParameters, '{"bucketName": "VARCHAR", "key": "VARCHAR"}') AS target,
           TRY_CAST(json_extract_string(additionalEventData, '$.bytesTransferredIn') AS DOUBLE) AS bytes_in
    FROM cloudtrail
    WHERE eventSource = 's3.amazonaws.com' AND errorCode IS NULL
      AND eventName IN ('PutObject', 'CopyObject', 'CompleteMultipartUpload', 'DeleteObject', 'DeleteObjects')
      -- implied by the list, but unlike it evaluated inside the scan: the rows of the commonest
      -- other S3 calls are dropped before their JSON columns are decoded (GetObject: -8% CPU at
      -- 10M; HeadObject and ListBuckets too: ~-15% of the scan)
      AND eventName <> 'GetObject' AND eventName <> 'HeadObject' AND eventName <> 'ListObjects'
      AND eventName <> 'ListBuckets'
), split AS (
    SELECT * EXCLUDE (target), target.bucketName AS bucket, target.key,
           -- the key up to its last "/": regexp_extract(key, '^(.*)/', 1), which costs ~1 us a
           -- key; parse_dirpath gives the same for keys without a newline or backslash (both
           -- change what it splits on) that do not start with "/"
           CASE WHEN contains(target.key, chr(10)) OR contains(target.key, chr(92)) OR starts_with(target.key, '/')
                THEN coalesce(regexp_extract(target.key, '^(.*)/', 1), '')
                ELSE coalesce(parse_dirpath(target.key, '/'), '') END AS prefix
    FROM writes
)
SELECT eventTime, event_date, recipientAccountId, awsRegion, eventName, eventID, action, principal,
       bucket, key, prefix,
       regexp_replace(prefix, '/?[^/=]+=.*$', '') AS table_path,
       array_to_string(regexp_extract_all(prefix, '(?:^|/)([^/=]+=[^/]*)', 1), '/') AS partition,
       CAST(bytes_in AS BIGINT) AS bytes
FROM split
