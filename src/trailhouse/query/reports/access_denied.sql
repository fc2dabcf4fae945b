-- description: Denied calls: AccessDenied and Unauthorized errors over time, by principal and by action.
-- param: interval = day {hour,day,week,month} Time bucket of the over_time section.
--
-- A denied call has an errorCode containing "AccessDenied" or "Unauthorized" (any case):
-- AccessDenied, AccessDeniedException, Client.UnauthorizedOperation, UnauthorizedAccess...

-- section: _denied
SELECT eventTime, eventID, recipientAccountId, awsRegion,
       coalesce(userIdentity.arn, userIdentity.invokedBy, userIdentity.userName,
                userIdentity.principalId, userIdentity.type) AS principal,
       userIdentity.type AS principal_type,
       replace(eventSource, '.amazonaws.com', '') AS service, eventName, errorCode, errorMessage,
       sourceIPAddress
FROM cloudtrail
WHERE {filters} AND (errorCode ILIKE '%AccessDenied%' OR errorCode ILIKE '%Unauthorized%');

-- section: over_time
SELECT date_trunc($interval, timezone('UTC', eventTime)) AS period, count(*) AS denied,
       count(DISTINCT principal) AS principals
FROM {denied}
GROUP BY period
ORDER BY period;

-- section: by_principal
SELECT principal, any_value(principal_type) AS principal_type,
       count(*) AS denied, count(DISTINCT eventName) AS actions,
       count(DISTINCT service) AS services,
       min(eventTime) AS first_seen, max(eventTime) AS last_seen
FROM {denied}
GROUP BY principal
ORDER BY denied DESC, principal
LIMIT $limit;

-- section: by_action
SELECT service, eventName, errorCode, count(*) AS denied, count(DISTINCT principal) AS principals
FROM {denied}
GROUP BY service, eventName, errorCode
ORDER BY denied DESC, service, eventName, errorCode
LIMIT $limit;

-- section: recent
SELECT eventTime, recipientAccountId, awsRegion, principal, service, eventName, errorCode, errorMessage,
       sourceIPAddress
FROM {denied}
ORDER BY eventTime DESC, eventID
LIMIT $limit;
