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

-- section: _history
-- The user's logins per location over the whole lake in scope (a new location needs the user's
-- history before the period): a few thousand (user, location) rows instead of every login, read
-- without JSON or eventID. who: the user as two plain join keys (an IS NOT DISTINCT FROM join is
-- far slower); in_period: the user logged in there in the period.
WITH logins AS (
    SELECT coalesce(userIdentity.arn, userIdentity.userName, userIdentity.principalId,
                    userIdentity.type) AS user,
           sourceIPAddress, eventTime, coalesce({period}, FALSE) AS in_period
    FROM cloudtrail
    WHERE eventName = 'ConsoleLogin' AND eventSource = 'signin.amazonaws.com' AND {scope}
)
SELECT user IS NULL AS no_user, coalesce(user, '') AS who, any_value(user) AS user,
       coalesce(g.country, g.label, 'missing') AS location, arg_min(g.city, eventTime) AS first_city,
       min(eventTime) AS first_seen, max(eventTime) AS last_seen, count(*) AS logins,
       bool_or(in_period) AS in_period
FROM logins l LEFT JOIN {geoip} g ON g.ip = l.sourceIPAddress
GROUP BY no_user, who, location;

-- section: _located
-- The logins of the period, read once with their location and whether each is the user's first
-- login there and at all. A user's logins are ordered by eventTime, then eventID, missing values
-- last. The first there has the history's first time there (or none, when no login there has a
-- time) and the least eventID of those: all of those are in the period, as a login's time alone
-- says whether it is. Grouped minima and joins cost far less than numbering rows in windows.
WITH logins AS (
    SELECT eventTime, eventID, recipientAccountId,
           coalesce(userIdentity.arn, userIdentity.userName, userIdentity.principalId,
                    userIdentity.type) AS user,
           userIdentity.type AS identity_type, sourceIPAddress,
           coalesce(json_extract_string(responseElements, '$.ConsoleLogin'), 'Unknown') AS result,
           json_extract_string(additionalEventData, '$.MFAUsed') AS mfa_used,
           errorMessage, userAgent
    FROM cloudtrail
    WHERE eventName = 'ConsoleLogin' AND eventSource = 'signin.amazonaws.com' AND {filters}
), located AS (
    SELECT l.*, g.label AS ip_label, g.country, g.city, g.asn, g.org,
           coalesce(g.country, g.label, 'missing') AS location,
           (eventID IS NULL, coalesce(eventID, '')) AS id_rank,
           l.user IS NULL AS no_user, coalesce(l.user, '') AS who,
           h.first_seen AS here_first, u.first_seen AS user_first
    FROM logins l LEFT JOIN {geoip} g ON g.ip = l.sourceIPAddress
    JOIN {history} h ON h.no_user = (l.user IS NULL) AND h.who = coalesce(l.user, '')
                    AND h.location = coalesce(g.country, g.label, 'missing')
    JOIN (SELECT no_user, who, min(first_seen) AS first_seen FROM {history} GROUP BY ALL) u
      ON u.no_user = (l.user IS NULL) AND u.who = coalesce(l.user, '')
), here AS (
    SELECT no_user, who, location, min(id_rank) AS first_id FROM located
    WHERE eventTime = here_first OR here_first IS NULL
    GROUP BY ALL
), anywhere AS (
    SELECT no_user, who, min(id_rank) AS first_id FROM located
    WHERE eventTime = user_first OR user_first IS NULL
    GROUP BY ALL
)
SELECT l.* EXCLUDE (id_rank, no_user, who, here_first, user_first),
       coalesce(l.eventTime = l.here_first OR l.here_first IS NULL, FALSE)
           AND l.id_rank = f.first_id AS is_first_here,
       coalesce(l.eventTime = l.user_first OR l.user_first IS NULL, FALSE)
           AND l.id_rank = a.first_id AS is_first_login
FROM located l
LEFT JOIN here f USING (no_user, who, location)
LEFT JOIN anywhere a USING (no_user, who);

-- section: logins
-- Ordered by the number of flags, counted as numbers: the lists are built for the listed rows only.
SELECT eventTime, recipientAccountId, user, identity_type, result, mfa_used, sourceIPAddress,
       ip_label, country, city, asn, org,
       list_filter([CASE WHEN result = 'Failure' THEN 'failure' END,
                    CASE WHEN identity_type = 'Root' THEN 'root' END,
                    CASE WHEN result = 'Success' AND mfa_used = 'No' THEN 'no-mfa' END,
                    CASE WHEN is_first_here AND NOT is_first_login THEN 'new-location' END,
                    CASE WHEN is_first_login THEN 'first-login' END], f -> f IS NOT NULL) AS flags,
       errorMessage, userAgent
FROM (SELECT *,
             coalesce(result = 'Failure', FALSE)::INTEGER
             + coalesce(identity_type = 'Root', FALSE)::INTEGER
             + coalesce(result = 'Success' AND mfa_used = 'No', FALSE)::INTEGER
             + coalesce(is_first_here AND NOT is_first_login, FALSE)::INTEGER
             + coalesce(is_first_login, FALSE)::INTEGER AS flag_count
      FROM {located}
      ORDER BY flag_count DESC, eventTime DESC, eventID
      LIMIT $limit)
ORDER BY flag_count DESC, eventTime DESC, eventID;

-- section: by_user
SELECT user, string_agg(DISTINCT identity_type, ', ' ORDER BY identity_type) AS identity_type,
       count(*) FILTER (WHERE result = 'Success') AS successes,
       count(*) FILTER (WHERE result = 'Failure') AS failures,
       count(*) FILTER (WHERE result = 'Success' AND mfa_used = 'No') AS without_mfa,
       count(DISTINCT sourceIPAddress) AS source_ips,
       min(eventTime) AS first_login,
       max(eventTime) AS last_login
FROM {located}
GROUP BY user
ORDER BY failures DESC, successes DESC, user
LIMIT $limit;

-- section: without_mfa
SELECT eventTime, recipientAccountId, user, identity_type, sourceIPAddress, country, city
FROM {located}
WHERE result = 'Success' AND mfa_used = 'No'
ORDER BY eventTime DESC, eventID
LIMIT $limit;

-- section: root_logins
SELECT eventTime, recipientAccountId, result, mfa_used, sourceIPAddress, country, city, asn, org
FROM {located}
WHERE identity_type = 'Root'
ORDER BY eventTime DESC, eventID
LIMIT $limit;

-- section: by_source
SELECT sourceIPAddress, any_value(ip_label) AS ip_label, any_value(country) AS country,
       any_value(city) AS city, any_value(asn) AS asn, any_value(org) AS org,
       count(*) FILTER (WHERE result = 'Success') AS successes,
       count(*) FILTER (WHERE result = 'Failure') AS failures,
       count(DISTINCT user) AS users
FROM {located}
GROUP BY sourceIPAddress
ORDER BY failures DESC, successes DESC, sourceIPAddress
LIMIT $limit;

-- section: first_seen_locations
SELECT user, location, first_city, first_seen, last_seen, logins
FROM {history}
WHERE in_period
ORDER BY user, first_seen, location
LIMIT $limit;

-- section: new_locations
SELECT eventTime, recipientAccountId, user, result, location, sourceIPAddress, country, city, asn, org
FROM {located}
WHERE is_first_here AND NOT is_first_login
ORDER BY eventTime DESC, eventID
LIMIT $limit;
