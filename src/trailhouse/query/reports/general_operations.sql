-- description: Events over time by service, region, account and principal, and the top resources (Looker "General Operations").
-- param: interval = day {hour,day,week,month} Time bucket of the over_time section.
--
-- principal: the caller's ARN, else the AWS service that called (invokedBy), else its user name,
-- principal id or identity type. service: eventSource without ".amazonaws.com".

-- section: _counts
SELECT date_trunc($interval, timezone('UTC', eventTime)) AS period, recipientAccountId, awsRegion,
       replace(eventSource, '.amazonaws.com', '') AS service, eventName,
       coalesce(userIdentity.arn, userIdentity.invokedBy, userIdentity.userName,
                userIdentity.principalId, userIdentity.type) AS principal,
       userIdentity.type AS principal_type,
       count(*) AS events, count(errorCode) AS errors
FROM cloudtrail
WHERE {filters}
GROUP BY ALL;

-- section: over_time
SELECT period, sum(events)::BIGINT AS events, sum(errors)::BIGINT AS errors,
       count(DISTINCT recipientAccountId) AS accounts
FROM {counts}
GROUP BY period
ORDER BY period;

-- section: by_service
SELECT service, sum(events)::BIGINT AS events, sum(errors)::BIGINT AS errors,
       count(DISTINCT eventName) AS actions
FROM {counts}
GROUP BY service
ORDER BY events DESC, service
LIMIT $limit;

-- section: by_region
SELECT awsRegion, sum(events)::BIGINT AS events, sum(errors)::BIGINT AS errors
FROM {counts}
GROUP BY awsRegion
ORDER BY events DESC, awsRegion
LIMIT $limit;

-- section: by_account
SELECT recipientAccountId, sum(events)::BIGINT AS events, sum(errors)::BIGINT AS errors
FROM {counts}
GROUP BY recipientAccountId
ORDER BY events DESC, recipientAccountId
LIMIT $limit;

-- section: by_principal
SELECT principal, any_value(principal_type) AS principal_type,
       sum(events)::BIGINT AS events, sum(errors)::BIGINT AS errors
FROM {counts}
GROUP BY principal
ORDER BY events DESC, principal
LIMIT $limit;

-- section: top_events
SELECT service, eventName, sum(events)::BIGINT AS events
FROM {counts}
GROUP BY service, eventName
ORDER BY events DESC, service, eventName
LIMIT $limit;

-- section: top_resources
SELECT resource.ARN AS resource, any_value(resource.type) AS resource_type, count(*) AS events
FROM (SELECT unnest(resources) AS resource FROM cloudtrail WHERE {filters} AND len(resources) > 0)
WHERE resource.ARN IS NOT NULL
GROUP BY resource
ORDER BY events DESC, resource
LIMIT $limit;
