-- description: Error counts and rates over time, top error codes by principal and service, and recurring errors.
-- param: interval = day {hour,day,week,month} Time bucket of the over_time section.
-- param: min_days:int = 2 A recurring error occurs on at least this many distinct days.
--
-- An error is an event with an errorCode. error_rate = errors / events.

-- section: over_time
SELECT date_trunc($interval, timezone('UTC', eventTime)) AS period,
       count(*) AS events,
       count(errorCode) AS errors,
       round(count(errorCode) / count(*), 6) AS error_rate
FROM cloudtrail
WHERE {filters}
GROUP BY period
ORDER BY period;

-- section: top_error_codes
SELECT errorCode, count(*) AS errors,
       count(DISTINCT coalesce(userIdentity.arn, userIdentity.invokedBy, userIdentity.userName,
                               userIdentity.principalId, userIdentity.type)) AS principals,
       count(DISTINCT eventSource) AS services
FROM cloudtrail
WHERE {filters} AND errorCode IS NOT NULL
GROUP BY errorCode
ORDER BY errors DESC, errorCode
LIMIT $limit;

-- section: by_principal
SELECT coalesce(userIdentity.arn, userIdentity.invokedBy, userIdentity.userName,
                userIdentity.principalId, userIdentity.type) AS principal,
       errorCode, count(*) AS errors
FROM cloudtrail
WHERE {filters} AND errorCode IS NOT NULL
GROUP BY principal, errorCode
ORDER BY errors DESC, principal, errorCode
LIMIT $limit;

-- section: by_service
SELECT replace(eventSource, '.amazonaws.com', '') AS service,
       count(*) AS events,
       count(errorCode) AS errors,
       round(count(errorCode) / count(*), 6) AS error_rate,
       count(DISTINCT errorCode) AS error_codes
FROM cloudtrail
WHERE {filters}
GROUP BY service
HAVING count(errorCode) > 0
ORDER BY errors DESC, service
LIMIT $limit;

-- section: recurring
SELECT errorCode, replace(eventSource, '.amazonaws.com', '') AS service, eventName,
       coalesce(userIdentity.arn, userIdentity.invokedBy, userIdentity.userName,
                userIdentity.principalId, userIdentity.type) AS principal,
       count(*) AS errors,
       count(DISTINCT event_date) AS days,
       min(eventTime) AS first_seen,
       max(eventTime) AS last_seen
FROM cloudtrail
WHERE {filters} AND errorCode IS NOT NULL
GROUP BY errorCode, service, eventName, principal
HAVING count(DISTINCT event_date) >= $min_days
ORDER BY days DESC, errors DESC, errorCode, service, eventName, principal
LIMIT $limit;
