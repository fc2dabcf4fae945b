-- description: S3 objects and partitions (key=value path segments) written, copied or deleted, per bucket and prefix.
-- param: bucket = - Only this bucket.
-- param: prefix = - Only keys starting with this prefix.
--
-- From S3 data events (the s3_writes view): successful PutObject, CompleteMultipartUpload (write),
-- CopyObject (copy), DeleteObject and DeleteObjects (delete). prefix: the key up to its last "/".
-- partition: the prefix's key=value segments joined by "/"; table_path: the prefix before them.

-- section: _writes
-- One statement reads the writes in scope once and answers every section. Distinct objects are
-- counted once, per (bucket, prefix): a key has one prefix, so a bucket's (or a partition's)
-- objects are the sum of its prefixes' and the bucket and partition rows add up prefix rows
-- (~120K at 10M events) instead of grouping the ~950K objects again. table_path and partition
-- are the s3_writes view's, computed once per distinct prefix.
WITH writes AS MATERIALIZED (
    SELECT bucket, prefix, key, action, principal, bytes, eventTime
    FROM s3_writes
    WHERE {filters} AND ($bucket IS NULL OR bucket = $bucket) AND ($prefix IS NULL OR starts_with(key, $prefix))
), prefixes AS (
    SELECT bucket, prefix, count(*) AS events,
           count(*) FILTER (WHERE action = 'write') AS writes,
           count(*) FILTER (WHERE action = 'copy') AS copies,
           count(*) FILTER (WHERE action = 'delete') AS deletes,
           count(DISTINCT key) AS objects, sum(bytes) AS bytes, min(eventTime) AS first_seen,
           max(eventTime) AS last_seen
    FROM writes
    GROUP BY bucket, prefix
), paths AS (
    SELECT prefix, regexp_replace(prefix, '/?[^/=]+=.*$', '') AS table_path,
           array_to_string(regexp_extract_all(prefix, '(?:^|/)([^/=]+=[^/]*)', 1), '/') AS partition
    FROM (SELECT DISTINCT prefix FROM prefixes)
)
SELECT 'bucket' AS grain, bucket, NULL AS prefix, NULL AS table_path, NULL AS partition, NULL AS principal,
       sum(events) AS events, sum(writes) AS writes, sum(copies) AS copies, sum(deletes) AS deletes,
       sum(objects)::BIGINT AS objects, sum(bytes) AS bytes, min(first_seen) AS first_seen,
       max(last_seen) AS last_seen
FROM prefixes GROUP BY bucket
UNION ALL
SELECT 'prefix', bucket, prefix, NULL, NULL, NULL, events, writes, copies, deletes, objects, bytes, first_seen,
       last_seen
FROM prefixes
UNION ALL
SELECT 'partition', bucket, NULL, table_path, partition, NULL, sum(events), sum(writes), sum(copies),
       sum(deletes), sum(objects)::BIGINT, NULL, min(first_seen), max(last_seen)
FROM prefixes JOIN paths USING (prefix)
GROUP BY bucket, table_path, partition
UNION ALL
SELECT 'principal', bucket, NULL, NULL, NULL, principal, count(*), count(*) FILTER (WHERE action = 'write'),
       count(*) FILTER (WHERE action = 'copy'), count(*) FILTER (WHERE action = 'delete'), NULL, NULL,
       NULL, NULL
FROM writes GROUP BY principal, bucket;

-- section: by_bucket
SELECT b.bucket, b.events::BIGINT AS events, b.writes::BIGINT AS writes, b.copies::BIGINT AS copies,
       b.deletes::BIGINT AS deletes, b.objects, b.bytes,
       (SELECT count(p.principal) FROM {writes} p
        WHERE p.grain = 'principal' AND p.bucket IS NOT DISTINCT FROM b.bucket) AS principals,
       b.first_seen, b.last_seen
FROM {writes} b
WHERE b.grain = 'bucket'
ORDER BY events DESC, bucket
LIMIT $limit;

-- section: by_prefix
SELECT bucket, prefix, events::BIGINT AS events, writes::BIGINT AS writes, copies::BIGINT AS copies,
       deletes::BIGINT AS deletes, objects, bytes, first_seen, last_seen
FROM {writes}
WHERE grain = 'prefix'
ORDER BY events DESC, bucket, prefix
LIMIT $limit;

-- section: partitions
SELECT bucket, table_path, partition, events::BIGINT AS events, writes::BIGINT AS writes,
       copies::BIGINT AS copies, deletes::BIGINT AS deletes, objects, first_seen, last_seen
FROM {writes}
WHERE grain = 'partition' AND partition <> ''  -- here, not above: DuckDB would test every object
ORDER BY bucket, table_path, partition
LIMIT $limit;

-- section: by_principal
SELECT principal, bucket, events::BIGINT AS events, writes::BIGINT AS writes, copies::BIGINT AS copies,
       deletes::BIGINT AS deletes
FROM {writes}
WHERE grain = 'principal'
ORDER BY events DESC, principal, bucket
LIMIT $limit;
