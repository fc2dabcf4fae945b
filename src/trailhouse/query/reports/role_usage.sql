-- description: Role assumptions (AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity) by role and by the identity that assumed it.
--
-- role: requestParameters.roleArn, else the role in responseElements.assumedRoleUser.arn.
-- assumer: the caller's ARN, else the AWS service (invokedBy), else the SAML subject or web
-- identity subject from responseElements, else the user name or principal id.
-- session: responseElements.assumedRoleUser.arn (the assumed-role session ARN).

-- section: _assumptions
SELECT eventTime, eventID, eventName, recipientAccountId, errorCode, sourceIPAddress,
       coalesce(json_extract_string(requestParameters, '$.roleArn'),
                regexp_replace(json_extract_string(responseElements, '$.assumedRoleUser.arn'),
                               '^arn:([^:]+):sts::(\d+):assumed-role/([^/]+)/.*$',
                               'arn:\1:iam::\2:role/\3')) AS role,
       coalesce(userIdentity.arn, userIdentity.invokedBy,
                json_extract_string(responseElements, '$.subject'),
                json_extract_string(responseElements, '$.subjectFromWebIdentityToken'),
                userIdentity.userName, userIdentity.principalId, userIdentity.type) AS assumer,
       userIdentity.type AS assumer_type,
       json_extract_string(responseElements, '$.assumedRoleUser.arn') AS session,
       json_extract_string(requestParameters, '$.roleSessionName') AS session_name,
       json_extract_string(responseElements, '$.sourceIdentity') AS source_identity
FROM cloudtrail
WHERE eventSource = 'sts.amazonaws.com' AND {filters}
  AND eventName IN ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity');

-- section: by_role
SELECT role, count(*) AS assumptions, count(errorCode) AS failures,
       count(DISTINCT assumer) AS assumers, count(DISTINCT eventName) AS methods,
       min(eventTime) AS first_seen, max(eventTime) AS last_seen
FROM {assumptions}
GROUP BY role
ORDER BY assumptions DESC, role
LIMIT $limit;

-- section: by_assumer
SELECT assumer, any_value(assumer_type) AS assumer_type, role, eventName,
       count(*) AS assumptions, count(errorCode) AS failures,
       min(eventTime) AS first_seen, max(eventTime) AS last_seen
FROM {assumptions}
GROUP BY assumer, role, eventName
ORDER BY assumptions DESC, assumer, role, eventName
LIMIT $limit;

-- section: sessions
SELECT eventTime, recipientAccountId, eventName, role, assumer, session, session_name,
       source_identity, sourceIPAddress, errorCode
FROM {assumptions}
ORDER BY eventTime DESC, eventID
LIMIT $limit;
