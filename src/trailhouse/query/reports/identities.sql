-- description: Every principal observed: type, first and last seen, event and error counts, accounts and services touched.
-- param: type = - Only principals of this userIdentity.type (IAMUser, AssumedRole, Root, AWSService...).
--
-- principal: the caller's ARN, else the AWS service (invokedBy), else the user name, principal id
-- or identity type. The identities view answers the same over the whole lake.

-- section: principals
SELECT coalesce(userIdentity.arn, userIdentity.invokedBy, userIdentity.userName,
                userIdentity.principalId, userIdentity.type) AS principal,
       any_value(userIdentity.type) AS principal_type,
       min(eventTime) AS first_seen,
       max(eventTime) AS last_seen,
       count(*) AS events,
       count(errorCode) AS errors,
       list_sort(list(DISTINCT recipientAccountId)) AS accounts,
       count(DISTINCT eventSource) AS services,
       list_sort(list(DISTINCT replace(eventSource, '.amazonaws.com', ''))) AS service_names
FROM cloudtrail
WHERE {filters} AND ($type IS NULL OR userIdentity.type = $type)
GROUP BY principal
ORDER BY events DESC, principal
LIMIT $limit;

-- section: by_type
SELECT userIdentity.type AS principal_type,
       count(DISTINCT coalesce(userIdentity.arn, userIdentity.invokedBy, userIdentity.userName,
                               userIdentity.principalId, userIdentity.type)) AS principals,
       count(*) AS events, count(errorCode) AS errors
FROM cloudtrail
WHERE {filters} AND ($type IS NULL OR userIdentity.type = $type)
GROUP BY principal_type
ORDER BY events DESC, principal_type
LIMIT $limit;
