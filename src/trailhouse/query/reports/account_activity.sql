-- description: Per account: root activity, IAM changes (users, access keys, policies, roles, groups) and recurring errors.
-- param: min_days:int = 2 A recurring error occurs on at least this many distinct days.
--
-- Root activity: events whose userIdentity.type is Root. An IAM change: an iam.amazonaws.com event
-- whose eventName does not start with Get, List, Generate or Simulate. Its category comes from
-- the eventName: access_key, policy, role, user, group, login_profile, mfa, other.

-- section: root_by_account
SELECT recipientAccountId, count(*) AS events, count(errorCode) AS errors,
       count(DISTINCT eventName) AS actions, count(DISTINCT sourceIPAddress) AS source_ips,
       min(eventTime) AS first_seen, max(eventTime) AS last_seen
FROM cloudtrail
WHERE userIdentity.type = 'Root' AND {filters}
GROUP BY recipientAccountId
ORDER BY events DESC, recipientAccountId
LIMIT $limit;

-- section: root_activity
SELECT eventTime, recipientAccountId, awsRegion, replace(eventSource, '.amazonaws.com', '') AS service,
       eventName, errorCode, sourceIPAddress, userAgent
FROM cloudtrail
WHERE userIdentity.type = 'Root' AND {filters}
ORDER BY eventTime DESC, eventID
LIMIT $limit;

-- section: iam_changes
SELECT eventTime, recipientAccountId, eventName,
       CASE WHEN eventName LIKE '%AccessKey%' THEN 'access_key'
            WHEN eventName LIKE '%Policy%' THEN 'policy'
            WHEN eventName LIKE '%LoginProfile%' THEN 'login_profile'
            WHEN eventName LIKE '%MFA%' THEN 'mfa'
            WHEN eventName LIKE '%Role%' THEN 'role'
            WHEN eventName LIKE '%Group%' THEN 'group'
            WHEN eventName LIKE '%User%' THEN 'user'
            ELSE 'other' END AS category,
       principal,
       coalesce(json_extract_string(requestParameters, '$.userName'),
                json_extract_string(requestParameters, '$.roleName'),
                json_extract_string(requestParameters, '$.groupName'),
                json_extract_string(requestParameters, '$.policyArn'),
                json_extract_string(requestParameters, '$.policyName')) AS target,
       errorCode
FROM cloudtrail
WHERE eventSource = 'iam.amazonaws.com' AND {filters}
  AND NOT (eventName LIKE 'Get%' OR eventName LIKE 'List%' OR eventName LIKE 'Generate%'
           OR eventName LIKE 'Simulate%')
ORDER BY eventTime DESC, eventID
LIMIT $limit;

-- section: iam_changes_by_account
SELECT recipientAccountId,
       CASE WHEN eventName LIKE '%AccessKey%' THEN 'access_key'
            WHEN eventName LIKE '%Policy%' THEN 'policy'
            WHEN eventName LIKE '%LoginProfile%' THEN 'login_profile'
            WHEN eventName LIKE '%MFA%' THEN 'mfa'
            WHEN eventName LIKE '%Role%' THEN 'role'
            WHEN eventName LIKE '%Group%' THEN 'group'
            WHEN eventName LIKE '%User%' THEN 'user'
            ELSE 'other' END AS category,
       count(*) AS changes, count(errorCode) AS failed
FROM cloudtrail
WHERE eventSource = 'iam.amazonaws.com' AND {filters}
  AND NOT (eventName LIKE 'Get%' OR eventName LIKE 'List%' OR eventName LIKE 'Generate%'
           OR eventName LIKE 'Simulate%')
GROUP BY recipientAccountId, category
ORDER BY recipientAccountId, changes DESC, category
LIMIT $limit;

-- section: recurring_errors
SELECT recipientAccountId, errorCode, replace(eventSource, '.amazonaws.com', '') AS service, eventName,
       count(*) AS errors, count(DISTINCT event_date) AS days,
       min(eventTime) AS first_seen, max(eventTime) AS last_seen
FROM cloudtrail
WHERE errorCode IS NOT NULL AND {filters}
GROUP BY recipientAccountId, errorCode, service, eventName
HAVING count(DISTINCT event_date) >= $min_days
ORDER BY recipientAccountId, days DESC, errors DESC, errorCode, service, eventName
LIMIT $limit;
