-- description: Role assumptions (AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity) by role and by the identity that assumed it.
--
-- role: requestParameters.roleArn, else the role in responseElements.assumedRoleUser.arn.
-- assumer: the caller's ARN, else the AWS service (invokedBy), else the SAML subject or web
-- identity subject from responseElements, else the user name or principal id.
-- session: responseElements.assumedRoleUser.arn (the assumed-role session ARN).

-- section: _assumptions
-- The assumptions (the role_assumptions view) grouped by role, assumer and method: what by_role
-- and by_assumer aggregate. The view's session columns are not read, so not parsed.
SELECT role, assumer, assumer_type, eventName,
       count(*) AS assumptions, count(errorCode) AS failures,
       min(eventTime) AS first_seen, max(eventTime) AS last_seen
FROM role_assumptions
WHERE {filters}
GROUP BY ALL;

-- section: by_role
SELECT role, sum(assumptions)::BIGINT AS assumptions, sum(failures)::BIGINT AS failures,
       count(DISTINCT assumer) AS assumers, count(DISTINCT eventName) AS methods,
       min(first_seen) AS first_seen, max(last_seen) AS last_seen
FROM {assumptions}
GROUP BY role
ORDER BY assumptions DESC, role
LIMIT $limit;

-- section: by_assumer
SELECT assumer, string_agg(DISTINCT assumer_type, ', ' ORDER BY assumer_type) AS assumer_type, role, eventName,
       sum(assumptions)::BIGINT AS assumptions, sum(failures)::BIGINT AS failures,
       min(first_seen) AS first_seen, max(last_seen) AS last_seen
FROM {assumptions}
GROUP BY assumer, role, eventName
ORDER BY assumptions DESC, assumer, role, eventName
LIMIT $limit;

-- section: sessions
-- The newest assumptions first. They are found without their JSON, so the view parses it only
-- for the rows listed (the semi-join's time range is pushed into the scan).
SELECT eventTime, recipientAccountId, eventName, role, assumer, session, session_name,
       source_identity, sourceIPAddress, errorCode
FROM role_assumptions
SEMI JOIN (SELECT eventTime, eventID, recipientAccountId
           FROM role_assumptions
           WHERE {filters}
           ORDER BY eventTime DESC, eventID
           LIMIT $limit) USING (eventTime, eventID, recipientAccountId)
WHERE {filters}
ORDER BY eventTime DESC, eventID
LIMIT $limit;
