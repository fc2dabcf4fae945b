"""A CloudTrail record as a DuckDB type: the typed columns a DuckDB user would read from raw files.

Shared by the benchmarks that run DuckDB over the raw .json.gz files (bench_reports, bench_ingest).
Not lossless: unknown fields are dropped, and a value of another type fails the read.
"""

USER_IDENTITY = (
    "STRUCT(type VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR, accessKeyId VARCHAR, "
    "userName VARCHAR, invokedBy VARCHAR, identityProvider VARCHAR, credentialId VARCHAR, "
    "sessionContext STRUCT(attributes STRUCT(creationDate VARCHAR, mfaAuthenticated VARCHAR), "
    "sessionIssuer STRUCT(type VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR, "
    "userName VARCHAR)))"
)
RECORD = (
    "STRUCT(eventVersion VARCHAR, userIdentity "
    + USER_IDENTITY
    + ", eventTime VARCHAR, eventSource VARCHAR, "
    "eventName VARCHAR, "
    "awsRegion VARCHAR, sourceIPAddress VARCHAR, userAgent VARCHAR, errorCode VARCHAR, errorMessage VARCHAR, "
    "requestParameters JSON, responseElements JSON, additionalEventData JSON, requestID VARCHAR, "
    "eventID VARCHAR, readOnly BOOLEAN, resources STRUCT(ARN VARCHAR, accountId VARCHAR, type VARCHAR)[], "
    "eventType VARCHAR, managementEvent BOOLEAN, recipientAccountId VARCHAR, sharedEventID VARCHAR, "
    "eventCategory VARCHAR, insightDetails JSON)"
)
