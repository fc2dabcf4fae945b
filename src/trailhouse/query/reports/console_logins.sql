-- description: Console sign-ins: successes and failures by user, without MFA, root, source IP with country/city/ASN, and logins from a location new for that user.
--
-- A login is a signin.amazonaws.com ConsoleLogin event; its result is responseElements.ConsoleLogin
-- (Success or Failure), its MFA use additionalEventData.MFAUsed (Yes or No).
-- user: the principal (ARN, else user name, principal id or identity type).
-- location: the country of the source address (GeoIP), else its label (private, aws-service...).
-- A new location is a login from a location the user had not logged in from before (over all the
-- user's earlier logins in the lake, not just the period), when the user had logged in before.
-- The logins section lists the most notable first: by the number of flags (failure, root, no-mfa,
-- new-location, first-login), then newest first.

-- section: _geoip_ips
SELECT DISTINCT sourceIPAddress
FROM cloudtrail
WHERE eventName = 'ConsoleLogin' AND eventSource = 'signin.amazonaws.com' AND {scope};

-- section: logins
WITH logins AS (
    SELECT eventTime, event_date, recipientAccountId, awsRegion,
           coalesce(userIdentity.arn, userIdentity.userName, userIdentity.principalId,
                    userIdentity.type) AS user,
           userIdentity.type AS identity_type, sourceIPAddress,
           coalesce(json_extract_string(responseElements, '$.ConsoleLogin'), 'Unknown') AS result,
           json_extract_string(additionalEventData, '$.MFAUsed') AS mfa_used,
           errorMessage, userAgent, eventID
    FROM cloudtrail
    WHERE eventName = 'ConsoleLogin' AND eventSource = 'signin.amazonaws.com' AND {scope}
), located AS (
    SELECT l.*, g.label AS ip_label, g.country, g.city, g.asn, g.org,
           coalesce(g.country, g.label, 'missing') AS location
    FROM logins l LEFT JOIN {geoip} g ON g.ip = l.sourceIPAddress
), ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY user, location ORDER BY eventTime, eventID) AS nth_here,
           row_number() OVER (PARTITION BY user ORDER BY eventTime, eventID) AS nth_login
    FROM located
), flagged AS (
    SELECT *,
           list_filter([CASE WHEN result = 'Failure' THEN 'failure' END,
                        CASE WHEN identity_type = 'Root' THEN 'root' END,
                        CASE WHEN result = 'Success' AND mfa_used = 'No' THEN 'no-mfa' END,
                        CASE WHEN nth_here = 1 AND nth_login > 1 THEN 'new-location' END,
                        CASE WHEN nth_login = 1 THEN 'first-login' END], f -> f IS NOT NULL) AS flags
    FROM ranked
)
SELECT eventTime, recipientAccountId, user, identity_type, result, mfa_used, sourceIPAddress,
       ip_label, country, city, asn, org, flags, errorMessage, userAgent
FROM flagged
WHERE {period}
ORDER BY len(flags) DESC, eventTime DESC, eventID
LIMIT $limit;

-- section: by_user
SELECT coalesce(userIdentity.arn, userIdentity.userName, userIdentity.principalId,
                userIdentity.type) AS user,
       any_value(userIdentity.type) AS identity_type,
       count(*) FILTER (WHERE json_extract_string(responseElements, '$.ConsoleLogin') = 'Success') AS successes,
       count(*) FILTER (WHERE json_extract_string(responseElements, '$.ConsoleLogin') = 'Failure') AS failures,
       count(*) FILTER (WHERE json_extract_string(responseElements, '$.ConsoleLogin') = 'Success'
                          AND json_extract_string(additionalEventData, '$.MFAUsed') = 'No') AS without_mfa,
       count(DISTINCT sourceIPAddress) AS source_ips,
       min(eventTime) AS first_login,
       max(eventTime) AS last_login
FROM cloudtrail
WHERE eventName = 'ConsoleLogin' AND eventSource = 'signin.amazonaws.com' AND {filters}
GROUP BY user
ORDER BY failures DESC, successes DESC, user
LIMIT $limit;

-- section: without_mfa
SELECT l.eventTime, l.recipientAccountId,
       coalesce(l.userIdentity.arn, l.userIdentity.userName, l.userIdentity.principalId,
                l.userIdentity.type) AS user,
       l.userIdentity.type AS identity_type, l.sourceIPAddress, g.country, g.city
FROM cloudtrail l LEFT JOIN {geoip} g ON g.ip = l.sourceIPAddress
WHERE l.eventName = 'ConsoleLogin' AND l.eventSource = 'signin.amazonaws.com' AND {filters}
  AND json_extract_string(l.responseElements, '$.ConsoleLogin') = 'Success'
  AND json_extract_string(l.additionalEventData, '$.MFAUsed') = 'No'
ORDER BY l.eventTime DESC, l.eventID
LIMIT $limit;

-- section: root_logins
SELECT l.eventTime, l.recipientAccountId,
       coalesce(json_extract_string(l.responseElements, '$.ConsoleLogin'), 'Unknown') AS result,
       json_extract_string(l.additionalEventData, '$.MFAUsed') AS mfa_used,
       l.sourceIPAddress, g.country, g.city, g.asn, g.org
FROM cloudtrail l LEFT JOIN {geoip} g ON g.ip = l.sourceIPAddress
WHERE l.eventName = 'ConsoleLogin' AND l.eventSource = 'signin.amazonaws.com' AND {filters}
  AND l.userIdentity.type = 'Root'
ORDER BY l.eventTime DESC, l.eventID
LIMIT $limit;

-- section: by_source
SELECT l.sourceIPAddress, any_value(g.label) AS ip_label, any_value(g.country) AS country,
       any_value(g.city) AS city, any_value(g.asn) AS asn, any_value(g.org) AS org,
       count(*) FILTER (WHERE json_extract_string(l.responseElements, '$.ConsoleLogin') = 'Success') AS successes,
       count(*) FILTER (WHERE json_extract_string(l.responseElements, '$.ConsoleLogin') = 'Failure') AS failures,
       count(DISTINCT coalesce(l.userIdentity.arn, l.userIdentity.userName, l.userIdentity.principalId,
                               l.userIdentity.type)) AS users
FROM cloudtrail l LEFT JOIN {geoip} g ON g.ip = l.sourceIPAddress
WHERE l.eventName = 'ConsoleLogin' AND l.eventSource = 'signin.amazonaws.com' AND {filters}
GROUP BY l.sourceIPAddress
ORDER BY failures DESC, successes DESC, l.sourceIPAddress
LIMIT $limit;

-- section: first_seen_locations
WITH located AS (
    SELECT l.eventTime, l.event_date,
           coalesce(l.userIdentity.arn, l.userIdentity.userName, l.userIdentity.principalId,
                    l.userIdentity.type) AS user,
           g.country, g.city,
           coalesce(g.country, g.label, 'missing') AS location
    FROM cloudtrail l LEFT JOIN {geoip} g ON g.ip = l.sourceIPAddress
    WHERE l.eventName = 'ConsoleLogin' AND l.eventSource = 'signin.amazonaws.com' AND {scope}
)
SELECT user, location, arg_min(city, eventTime) AS first_city,
       min(eventTime) AS first_seen, max(eventTime) AS last_seen, count(*) AS logins
FROM located
GROUP BY user, location
HAVING count(*) FILTER (WHERE {period}) > 0
ORDER BY user, first_seen, location
LIMIT $limit;

-- section: new_locations
WITH located AS (
    SELECT l.eventTime, l.event_date, l.eventID, l.recipientAccountId, l.sourceIPAddress,
           coalesce(l.userIdentity.arn, l.userIdentity.userName, l.userIdentity.principalId,
                    l.userIdentity.type) AS user,
           coalesce(json_extract_string(l.responseElements, '$.ConsoleLogin'), 'Unknown') AS result,
           g.country, g.city, g.asn, g.org,
           coalesce(g.country, g.label, 'missing') AS location
    FROM cloudtrail l LEFT JOIN {geoip} g ON g.ip = l.sourceIPAddress
    WHERE l.eventName = 'ConsoleLogin' AND l.eventSource = 'signin.amazonaws.com' AND {scope}
), ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY user, location ORDER BY eventTime, eventID) AS nth_here,
           row_number() OVER (PARTITION BY user ORDER BY eventTime, eventID) AS nth_login
    FROM located
)
SELECT eventTime, recipientAccountId, user, result, location, sourceIPAddress, country, city, asn, org
FROM ranked
WHERE nth_here = 1 AND nth_login > 1 AND {period}
ORDER BY eventTime DESC, eventID
LIMIT $limit;
