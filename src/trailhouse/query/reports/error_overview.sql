-- description: Error counts and rates over time, top error codes by principal and service, and recurring errors.
-- param: interval = day {hour,day,week,month} Time bucket of the over_time section.
-- param: min_days:int = 2 A recurring error occurs on at least this many distinct days.
--
-- An error is an event with an errorCode. error_rate = errors / events.

-- section: _counts
-- Every event, by cheap keys only: the day (and, for --interval hour, the hour), service and
-- errorCode. The period is computed per group from its first eventTime (every row of a group
-- falls in the same UTC hour, hence the same period), so no time function runs per event.
SELECT date_trunc($interval, make_timestamp(epoch_us(min(eventTime)))) AS period,
       replace(eventSource, '.amazonaws.com', '') AS service, errorCode, count(*) AS events
FROM cloudtrail
WHERE {filters}
GROUP BY event_date,
         CASE WHEN $interval = 'hour'
              THEN epoch_us(eventTime) - (epoch_us(eventTime) % 3600000000 + 3600000000) % 3600000000 END,
         eventSource, errorCode;

-- section: _errors
-- The failed events only, by what the error sections report on.
SELECT event_date, replace(eventSource, '.amazonaws.com', '') AS service, eventName,
       principal,
       errorCode, count(*) AS errors, min(eventTime) AS first_seen, max(eventTime) AS last_seen
FROM cloudtrail
WHERE errorCode IS NOT NULL AND {filters}
GROUP BY ALL;

-- section: over_time
SELECT period, sum(events)::BIGINT AS events,
       coalesce(sum(events) FILTER (WHERE errorCode IS NOT NULL), 0)::BIGINT AS errors,
       round(coalesce(sum(events) FILTER (WHERE errorCode IS NOT NULL), 0) / sum(events), 6) AS error_rate
FROM {counts}
GROUP BY period
ORDER BY period;

-- section: top_error_codes
SELECT errorCode, sum(errors)::BIGINT AS errors, count(DISTINCT principal) AS principals,
       count(DISTINCT service) AS services
FROM {errors}
GROUP BY errorCode
ORDER BY errors DESC, errorCode
LIMIT $limit;

-- section: by_principal
SELECT principal, errorCode, sum(errors)::BIGINT AS errors
FROM {errors}
GROUP BY principal, errorCode
ORDER BY errors DESC, principal, errorCode
LIMIT $limit;

-- section: by_service
SELECT service, sum(events)::BIGINT AS events,
       coalesce(sum(events) FILTER (WHERE errorCode IS NOT NULL), 0)::BIGINT AS errors,
       round(coalesce(sum(events) FILTER (WHERE errorCode IS NOT NULL), 0) / sum(events), 6) AS error_rate,
       count(DISTINCT errorCode) AS error_codes
FROM {counts}
GROUP BY service
HAVING count(errorCode) > 0
ORDER BY errors DESC, service
LIMIT $limit;

-- section: recurring
SELECT errorCode, service, eventName, principal,
       sum(errors)::BIGINT AS errors,
       count(DISTINCT event_date) AS days,
       min(first_seen) AS first_seen,
       max(last_seen) AS last_seen
FROM {errors}
GROUP BY errorCode, service, eventName, principal
HAVING count(DISTINCT event_date) >= $min_days
ORDER BY days DESC, errors DESC, errorCode, service, eventName, principal
LIMIT $limit;
