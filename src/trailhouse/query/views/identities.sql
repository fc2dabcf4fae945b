SELECT principal,
       string_agg(DISTINCT userIdentity.type, ', ' ORDER BY userIdentity.type) AS principal_type,
       min(eventTime) AS first_seen,
       max(eventTime) AS last_seen,
       count(*) AS events,
       count(errorCode) AS errors,
       list_sort(list(DISTINCT recipientAccountId)) AS accounts,
       list_sort(list(DISTINCT replace(eventSource, '.amazonaws.com', ''))) AS services
FROM cloudtrail
GROUP BY principal
