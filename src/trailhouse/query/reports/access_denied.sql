-- description: Denied calls: AccessDenied and Unauthorized errors over time, by principal and by action.
-- param: interval = day {hour,day,week,month} Time bucket of the over_time section.
--
-- A denied call has an errorCode containing "AccessDenied" or "Unauthorized" (any case):
-- AccessDenied, AccessDeniedException, Client.UnauthorizedOperation, UnauthorizedAccess...

-- section: _denied
-- The denied calls grouped by what the sections report on; time by day (and, for --interval
-- hour, by hour), so each group's period comes from its first eventTime.
SELECT date_trunc($interval, make_timestamp(epoch_us(min(eventTime)))) AS period,
       principal,
       userIdentity.type AS principal_type,
       replace(eventSource, '.amazonaws.com', '') AS service, eventName, errorCode,
       count(*) AS denied, min(eventTime) AS first_seen, max(eventTime) AS last_seen
FROM cloudtrail
WHERE {filters} AND (errorCode ILIKE '%AccessDenied%' OR errorCode ILIKE '%Unauthorized%')
GROUP BY event_date,
         CASE WHEN $interval = 'hour'
              THEN epoch_us(eventTime) - (epoch_us(eventTime) % 3600000000 + 3600000000) % 3600000000 END,
         principal, principal_type, eventSource, eventName, errorCode;

-- section: over_time
SELECT period, sum(denied)::BIGINT AS denied, count(DISTINCT principal) AS principals
FROM {denied}
GROUP BY period
ORDER BY period;

-- section: by_principal
SELECT principal, string_agg(DISTINCT principal_type, ', ' ORDER BY principal_type) AS principal_type,
       sum(denied)::BIGINT AS denied, count(DISTINCT eventName) AS actions,
       count(DISTINCT service) AS services,
       min(first_seen) AS first_seen, max(last_seen) AS last_seen
FROM {denied}
GROUP BY principal
ORDER BY denied DESC, principal
LIMIT $limit;

-- section: by_action
SELECT service, eventName, errorCode, sum(denied)::BIGINT AS denied, count(DISTINCT principal) AS principals
FROM {denied}
GROUP BY service, eventName, errorCode
ORDER BY denied DESC, service, eventName, errorCode
LIMIT $limit;

-- section: recent
SELECT eventTime, recipientAccountId, awsRegion,
       principal,
       replace(eventSource, '.amazonaws.com', '') AS service, eventName, errorCode, errorMessage,
       sourceIPAddress
FROM cloudtrail
WHERE {filters} AND (errorCode ILIKE '%AccessDenied%' OR errorCode ILIKE '%Unauthorized%')
ORDER BY eventTime DESC, eventID
LIMIT $limit;
