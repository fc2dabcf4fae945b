-- One row per role assumption (sts AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity).
-- role: requestParameters.roleArn, else the role in responseElements.assumedRoleUser.arn.
-- assumer: the caller's ARN, else the AWS service (invokedBy), else the SAML subject or web
-- identity subject, else the user name or principal id. coalesce evaluates its arguments in
-- turn, so responseElements is parsed only where the earlier ones are missing.
SELECT eventTime, event_date, eventID, recipientAccountId, awsRegion, eventName, errorCode,
       sourceIPAddress,
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
WHERE eventSource = 'sts.amazonaws.com'
  AND eventName IN ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity')
