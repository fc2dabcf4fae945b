-- description: Security group changes: authorize/revoke ingress and egress, create/delete, who and what rule, with rules open to 0.0.0.0/0 or ::/0 flagged.
--
-- Changes are ec2.amazonaws.com events AuthorizeSecurityGroupIngress/Egress,
-- RevokeSecurityGroupIngress/Egress, CreateSecurityGroup, DeleteSecurityGroup and
-- ModifySecurityGroupRules. Rules come from requestParameters.ipPermissions.items (protocol,
-- ports, IPv4 and IPv6 ranges, source groups). open_to_world: a rule's range is 0.0.0.0/0 or ::/0.

-- section: _changes
-- The changes in scope, read once; whether a rule is open to the world decided once per change.
SELECT eventTime, eventID, recipientAccountId, awsRegion, eventName, errorCode, sourceIPAddress,
       principal,
       list_has_any(list_concat(
           coalesce(json_extract_string(requestParameters,
                    '$.ipPermissions.items[*].ipRanges.items[*].cidrIp'), []),
           coalesce(json_extract_string(requestParameters,
                    '$.ipPermissions.items[*].ipv6Ranges.items[*].cidrIpv6'), [])),
           ['0.0.0.0/0', '::/0']) AS open_to_world,
       requestParameters, responseElements
FROM cloudtrail
WHERE eventSource = 'ec2.amazonaws.com' AND {filters}
  AND eventName IN ('AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress',
                    'RevokeSecurityGroupIngress', 'RevokeSecurityGroupEgress',
                    'CreateSecurityGroup', 'DeleteSecurityGroup', 'ModifySecurityGroupRules')
  -- implied by the list, but unlike it (a join above the scan) evaluated inside the scan
  AND eventName BETWEEN 'AuthorizeSecurityGroupEgress' AND 'RevokeSecurityGroupIngress';

-- section: changes
-- The rules (ranges included) are read only for the changes listed.
SELECT eventTime, recipientAccountId, awsRegion, eventName, principal,
       coalesce(json_extract_string(requestParameters, '$.groupId'),
                json_extract_string(responseElements, '$.groupId')) AS group_id,
       json_extract_string(requestParameters, '$.groupName') AS group_name,
       json_extract_string(requestParameters, '$.ipPermissions.items[*].ipProtocol') AS protocols,
       json_extract(requestParameters, '$.ipPermissions.items[*].fromPort')::VARCHAR[] AS from_ports,
       json_extract(requestParameters, '$.ipPermissions.items[*].toPort')::VARCHAR[] AS to_ports,
       list_concat(
           coalesce(json_extract_string(requestParameters,
                    '$.ipPermissions.items[*].ipRanges.items[*].cidrIp'), []),
           coalesce(json_extract_string(requestParameters,
                    '$.ipPermissions.items[*].ipv6Ranges.items[*].cidrIpv6'), [])) AS cidrs,
       json_extract_string(requestParameters,
                           '$.ipPermissions.items[*].groups.items[*].groupId') AS source_groups,
       open_to_world, errorCode, sourceIPAddress
FROM (SELECT * FROM {changes}
      ORDER BY open_to_world DESC, eventTime DESC, eventID
      LIMIT $limit)
ORDER BY open_to_world DESC, eventTime DESC, eventID;

-- section: summary
SELECT eventName, count(*) AS changes, count(errorCode) AS failed,
       count(*) FILTER (WHERE open_to_world) AS open_to_world,
       count(DISTINCT principal) AS principals
FROM {changes}
GROUP BY eventName
ORDER BY changes DESC, eventName;

-- section: by_principal
SELECT principal, count(*) AS changes,
       count(*) FILTER (WHERE open_to_world) AS open_to_world,
       count(DISTINCT recipientAccountId) AS accounts,
       min(eventTime) AS first_change, max(eventTime) AS last_change
FROM {changes}
GROUP BY principal
ORDER BY open_to_world DESC, changes DESC, principal
LIMIT $limit;
