-- description: CloudTrail Insights events: unusual API call or error rates, baseline versus insight averages, and attributions.
--
-- From cloudtrail_insights.insightDetails: state (Start/End), eventSource, eventName,
-- insightType, errorCode, insightContext.statistics (baseline and insight averages, durations)
-- and insightContext.attributions (which user, agent or error code drove the rate).

-- section: insights
SELECT eventTime, recipientAccountId, awsRegion,
       json_extract_string(insightDetails, '$.state') AS state,
       json_extract_string(insightDetails, '$.eventSource') AS eventSource,
       json_extract_string(insightDetails, '$.eventName') AS eventName,
       json_extract_string(insightDetails, '$.insightType') AS insightType,
       json_extract_string(insightDetails, '$.errorCode') AS errorCode,
       TRY_CAST(json_extract(insightDetails, '$.insightContext.statistics.baseline.average') AS DOUBLE)
           AS baseline_average,
       TRY_CAST(json_extract(insightDetails, '$.insightContext.statistics.insight.average') AS DOUBLE)
           AS insight_average,
       TRY_CAST(json_extract(insightDetails, '$.insightContext.statistics.baselineDuration') AS BIGINT)
           AS baseline_duration,
       TRY_CAST(json_extract(insightDetails, '$.insightContext.statistics.insightDuration') AS BIGINT)
           AS insight_duration,
       sharedEventID
FROM (SELECT eventTime, eventID, recipientAccountId, awsRegion, insightDetails, sharedEventID
      FROM cloudtrail_insights
      WHERE {filters}
      ORDER BY eventTime DESC, eventID
      LIMIT $limit)  -- the details are parsed for the rows listed only
ORDER BY eventTime DESC, eventID;

-- section: attributions
WITH attributions AS (
    SELECT eventTime, eventID, recipientAccountId, details[1] AS state, details[2] AS eventName,
           details[3] AS insightType, unnest(attributions) AS attribution
    FROM (SELECT eventTime, eventID, recipientAccountId,
                 -- two parses of insightDetails: the three fields, then the attributions
                 json_extract_string(insightDetails, ['$.state', '$.eventName', '$.insightType']) AS details,
                 json_extract(insightDetails, '$.insightContext.attributions[*]') AS attributions
          FROM cloudtrail_insights
          WHERE {filters})
), values AS (
    SELECT eventTime, eventID, recipientAccountId, state, eventName, insightType,
           json_extract_string(attribution, '$.attribute') AS attribute,
           unnest(json_extract(attribution, '$.insight[*]')) AS value
    FROM attributions
)
SELECT eventTime, recipientAccountId, state, eventName, insightType, attribute,
       json_extract_string(value, '$.value') AS value,
       TRY_CAST(json_extract(value, '$.average') AS DOUBLE) AS insight_average
FROM values
ORDER BY eventTime DESC, eventID, attribute, insight_average DESC, value
LIMIT $limit;

-- section: by_event
SELECT details[1] AS eventSource, details[2] AS eventName, details[3] AS insightType,
       count(*) FILTER (WHERE details[4] = 'Start') AS insights,
       max(insight_average) AS max_insight_average,
       min(eventTime) AS first_seen, max(eventTime) AS last_seen
FROM (SELECT eventTime,
             -- one parse of insightDetails for the four fields
             json_extract_string(insightDetails, ['$.eventSource', '$.eventName', '$.insightType', '$.state'])
                 AS details,
             TRY_CAST(json_extract(insightDetails, '$.insightContext.statistics.insight.average') AS DOUBLE)
                 AS insight_average
      FROM cloudtrail_insights
      WHERE {filters})
GROUP BY details[1], details[2], details[3]
ORDER BY insights DESC, eventSource, eventName, insightType
LIMIT $limit;
