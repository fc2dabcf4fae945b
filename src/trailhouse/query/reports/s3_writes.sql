-- description: S3 objects and partitions (key=value path segments) written, copied or deleted, per bucket and prefix.
-- param: bucket = - Only this bucket.
-- param: prefix = - Only keys starting with this prefix.
--
-- From S3 data events (the s3_writes view): successful PutObject, CompleteMultipartUpload (write),
-- CopyObject (copy), DeleteObject and DeleteObjects (delete). prefix: the key up to its last "/".
-- partition: the prefix's key=value segments joined by "/"; table_path: the prefix before them.

-- section: by_bucket
SELECT bucket, count(*) AS events,
       count(*) FILTER (WHERE action = 'write') AS writes,
       count(*) FILTER (WHERE action = 'copy') AS copies,
       count(*) FILTER (WHERE action = 'delete') AS deletes,
       count(DISTINCT key) AS objects, sum(bytes) AS bytes,
       count(DISTINCT principal) AS principals,
       min(eventTime) AS first_seen, max(eventTime) AS last_seen
FROM s3_writes
WHERE {filters} AND ($bucket IS NULL OR bucket = $bucket) AND ($prefix IS NULL OR starts_with(key, $prefix))
GROUP BY bucket
ORDER BY events DESC, bucket
LIMIT $limit;

-- section: by_prefix
SELECT bucket, prefix, count(*) AS events,
       count(*) FILTER (WHERE action = 'write') AS writes,
       count(*) FILTER (WHERE action = 'copy') AS copies,
       count(*) FILTER (WHERE action = 'delete') AS deletes,
       count(DISTINCT key) AS objects, sum(bytes) AS bytes,
       min(eventTime) AS first_seen, max(eventTime) AS last_seen
FROM s3_writes
WHERE {filters} AND ($bucket IS NULL OR bucket = $bucket) AND ($prefix IS NULL OR starts_with(key, $prefix))
GROUP BY bucket, prefix
ORDER BY events DESC, bucket, prefix
LIMIT $limit;

-- section: partitions
SELECT bucket, table_path, partition, count(*) AS events,
       count(*) FILTER (WHERE action = 'write') AS writes,
       count(*) FILTER (WHERE action = 'copy') AS copies,
       count(*) FILTER (WHERE action = 'delete') AS deletes,
       count(DISTINCT key) AS objects,
       min(eventTime) AS first_seen, max(eventTime) AS last_seen
FROM s3_writes
WHERE {filters} AND partition <> ''
  AND ($bucket IS NULL OR bucket = $bucket) AND ($prefix IS NULL OR starts_with(key, $prefix))
GROUP BY bucket, table_path, partition
ORDER BY bucket, table_path, partition
LIMIT $limit;

-- section: by_principal
SELECT principal, bucket, count(*) AS events,
       count(*) FILTER (WHERE action = 'write') AS writes,
       count(*) FILTER (WHERE action = 'copy') AS copies,
       count(*) FILTER (WHERE action = 'delete') AS deletes
FROM s3_writes
WHERE {filters} AND ($bucket IS NULL OR bucket = $bucket) AND ($prefix IS NULL OR starts_with(key, $prefix))
GROUP BY principal, bucket
ORDER BY events DESC, principal, bucket
LIMIT $limit;
