-- description: Every principal observed: type, first and last seen, event and error counts, accounts and services touched.
-- param: type = - Only principals of this userIdentity.type (IAMUser, AssumedRole, Root, AWSService...).
--
-- principal: the caller's ARN, else the AWS service (invokedBy), else the user name, principal id
-- or identity type. The identities view answers the same over the whole lake.

-- section: _ids
-- One row per principal, identity type, account and service: plain keys, no lists per event.
SELECT principal,
       userIdentity.type AS principal_type, recipientAccountId, eventSource,
       min(eventTime) AS first_seen, max(eventTime) AS last_seen,
       count(*) AS events, count(errorCode) AS errors
FROM cloudtrail
WHERE {filters} AND ($type IS NULL OR userIdentity.type = $type)
GROUP BY ALL;

-- section: principals
SELECT principal, string_agg(DISTINCT principal_type, ', ' ORDER BY principal_type) AS principal_type,
       min(first_seen) AS first_seen, max(last_seen) AS last_seen,
       sum(events)::BIGINT AS events, sum(errors)::BIGINT AS errors,
       list_sort(list_distinct(list(recipientAccountId))) AS accounts,
       count(DISTINCT replace(eventSource, '.amazonaws.com', '')) AS services,
       list_sort(list_distinct(list(replace(eventSource, '.amazonaws.com', '')))) AS service_names
FROM {ids}
GROUP BY principal
ORDER BY events DESC, principal
LIMIT $limit;

-- section: by_type
SELECT principal_type, count(DISTINCT principal) AS principals,
       sum(events)::BIGINT AS events, sum(errors)::BIGINT AS errors
FROM {ids}
GROUP BY principal_type
ORDER BY events DESC, principal_type
LIMIT $limit;
