-- description: Role assumptions (AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity) by role and by the identity that assumed it.
--
-- role: requestParameters.roleArn, else the role in responseElements.assumedRoleUser.arn.
-- assumer: the caller's ARN, else the AWS service (invokedBy), else the SAML subject or web
-- identity subject from responseElements, else the user name or principal id.
-- session: responseElements.assumedRoleUser.arn (the assumed-role session ARN).

-- section: _assumptions
-- The assumptions grouped by role, assumer and method: what by_role and by_assumer aggregate.
-- coalesce evaluates its arguments in turn, so responseElements is parsed only for the rows that
-- need it.
SELECT coalesce(json_extract_string(requestParameters, '$.roleArn'),
                regexp_replace(json_extract_string(responseElements, '$.assumedRoleUser.arn'),
                               '^arn:([^:]+):sts::(\d+):assumed-role/([^/]+)/.*$',
                               'arn:\1:iam::\2:role/\3')) AS role,
       coalesce(userIdentity.arn, userIdentity.invokedBy,
                json_extract_string(responseElements, '$.subject'),
                json_extract_string(responseElements, '$.subjectFromWebIdentityToken'),
                userIdentity.userName, userIdentity.principalId, userIdentity.type) AS assumer,
       userIdentity.type AS assumer_type, eventName,
       count(*) AS assumptions, count(errorCode) AS failures,
       min(eventTime) AS first_seen, max(eventTime) AS last_seen
FROM cloudtrail
WHERE eventSource = 'sts.amazonaws.com' AND {filters}
  AND eventName IN ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity')
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
SELECT assumer, any_value(assumer_type) AS assumer_type, role, eventName,
       sum(assumptions)::BIGINT AS assumptions, sum(failures)::BIGINT AS failures,
       min(first_seen) AS first_seen, max(last_seen) AS last_seen
FROM {assumptions}
GROUP BY assumer, role, eventName
ORDER BY assumptions DESC, assumer, role, eventName
LIMIT $limit;

-- section: sessions
-- The newest assumptions first; their JSON is read only for the rows listed.
SELECT eventTime, recipientAccountId, eventName,
       coalesce(json_extract_string(requestParameters, '$.roleArn'),
                regexp_replace(json_extract_string(responseElements, '$.assumedRoleUser.arn'),
                               '^arn:([^:]+):sts::(\d+):assumed-role/([^/]+)/.*$',
                               'arn:\1:iam::\2:role/\3')) AS role,
       coalesce(userIdentity.arn, userIdentity.invokedBy,
                json_extract_string(responseElements, '$.subject'),
                json_extract_string(responseElements, '$.subjectFromWebIdentityToken'),
                userIdentity.userName, userIdentity.principalId, userIdentity.type) AS assumer,
       json_extract_string(responseElements, '$.assumedRoleUser.arn') AS session,
       json_extract_string(requestParameters, '$.roleSessionName') AS session_name,
       json_extract_string(responseElements, '$.sourceIdentity') AS source_identity,
       sourceIPAddress, errorCode
FROM (SELECT eventTime, eventID, recipientAccountId, eventName, requestParameters, responseElements,
             userIdentity, sourceIPAddress, errorCode
      FROM cloudtrail
      WHERE eventSource = 'sts.amazonaws.com' AND {filters}
        AND eventName IN ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity')
      ORDER BY eventTime DESC, eventID
      LIMIT $limit)
ORDER BY eventTime DESC, eventID;
