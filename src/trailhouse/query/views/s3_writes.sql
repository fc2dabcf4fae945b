WITH writes AS (
    SELECT eventTime, event_date, recipientAccountId, awsRegion, eventName, eventID,
           CASE WHEN eventName = 'CopyObject' THEN 'copy'
                WHEN eventName IN ('DeleteObject', 'DeleteObjects') THEN 'delete'
                ELSE 'write' END AS action,
           principal,
           -- derived columns (query/derived.py): requestParameters and additionalEventData are
           -- not read where compaction stored them
           s3_bucket AS bucket, s3_key AS key, s3_prefix AS prefix, s3_bytes_in AS bytes_in
    FROM cloudtrail
    WHERE eventSource = 's3.amazonaws.com' AND errorCode IS NULL
      AND eventName IN ('PutObject', 'CopyObject', 'CompleteMultipartUpload', 'DeleteObject', 'DeleteObjects')
      -- implied by the list, but unlike it evaluated inside the scan: the rows of the commonest
      -- other S3 calls are dropped before their JSON columns are decoded (GetObject: -8% CPU at
      -- 10M; HeadObject and ListBuckets too: ~-15% of the scan)
      AND eventName <> 'GetObject' AND eventName <> 'HeadObject' AND eventName <> 'ListObjects'
      AND eventName <> 'ListBuckets'
)
SELECT eventTime, event_date, recipientAccountId, awsRegion, eventName, eventID, action, principal,
       bucket, key, prefix,
       regexp_replace(prefix, '/?[^/=]+=.*$', '') AS table_path,
       array_to_string(regexp_extract_all(prefix, '(?:^|/)([^/=]+=[^/]*)', 1), '/') AS partition,
       CAST(bytes_in AS BIGINT) AS bytes
FROM writes
