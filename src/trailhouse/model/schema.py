"""The lake's tables as data: Arrow schemas of cloudtrail, cloudtrail_insights, ledger and quarantine.

A CloudTrail record maps onto a row in three ways:
- typed fields: documented fields with a stable shape, as Arrow scalars, structs and lists;
- JSON text: the polymorphic blocks (`requestParameters`, ...), kept verbatim as JSON text;
- `_rescued_data`: a JSON object holding every top-level field that is unknown, or whose value
  does not fit its typed column, with the original value. Export overlays it, so nothing is lost.

Filter columns come first: Delta keeps min/max statistics only for the first 32 leaf columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

S = pa.string()
TIMESTAMP = pa.timestamp("us", tz="UTC")

SESSION_ISSUER = pa.struct([("type", S), ("principalId", S), ("arn", S), ("accountId", S), ("userName", S)])
USER_IDENTITY = pa.struct(
    [
        ("type", S),
        ("principalId", S),
        ("arn", S),
        ("accountId", S),
        ("accessKeyId", S),
        ("userName", S),
        ("invokedBy", S),
        ("identityProvider", S),
        ("credentialId", S),
        (
            "sessionContext",
            pa.struct(
                [
                    ("attributes", pa.struct([("creationDate", S), ("mfaAuthenticated", S)])),
                    ("sessionIssuer", SESSION_ISSUER),
                    ("sourceIdentity", S),
                    ("ec2RoleDelivery", S),
                    ("assumedRoot", S),
                    # Usually {}; its "attributes" map varies by provider and lands in the rescue.
                    ("webIdFederationData", pa.struct([("federatedProvider", S)])),
                ]
            ),
        ),
        ("onBehalfOf", pa.struct([("userId", S), ("identityStoreArn", S)])),
        ("inScopeOf", pa.struct([("issuerAccountId", S), ("issuerType", S), ("credentialsIssuedTo", S)])),
    ]
)
RESOURCES = pa.list_(pa.struct([("ARN", S), ("accountId", S), ("type", S)]))
TLS_DETAILS = pa.struct([("tlsVersion", S), ("cipherSuite", S), ("clientProvidedHostHeader", S)])
ADDENDUM = pa.struct([("reason", S), ("updatedFields", S), ("originalRequestID", S), ("originalEventID", S)])


@dataclass(frozen=True)
class RecordLayout:
    """How one kind of CloudTrail record maps to a table: typed fields and JSON-text fields."""

    table: str
    typed: pa.Schema  # record fields read into typed columns, in table order
    json_text: tuple[str, ...]  # record fields kept as JSON text

    @property
    def known_fields(self) -> frozenset[str]:
        return frozenset(self.typed.names) | frozenset(self.json_text)


# Derived columns, all snake_case. `event_date` leads (partition); the source identity trails.
EVENT_DATE = pa.field("event_date", pa.date32())
EVENT_KEY = ("recipientAccountId", "eventID")  # an event's identity: stored once per lake
DEDUP_COLUMNS = (*EVENT_KEY, EVENT_DATE.name)  # what a parser sends for the dedup check
RESCUED = pa.field("_rescued_data", S)
SOURCE = pa.field("source_object", S)

EVENTS = RecordLayout(
    table="cloudtrail",
    typed=pa.schema(
        [
            ("recipientAccountId", S),
            ("awsRegion", S),
            ("eventTime", TIMESTAMP),
            ("eventName", S),
            ("eventSource", S),
            ("errorCode", S),
            ("eventID", S),
            ("sourceIPAddress", S),
            ("readOnly", pa.bool_()),
            ("userIdentity", USER_IDENTITY),
            ("eventType", S),
            ("eventCategory", S),
            ("managementEvent", pa.bool_()),
            ("userAgent", S),
            ("errorMessage", S),
            ("eventVersion", S),
            ("requestID", S),
            ("apiVersion", S),
            ("sharedEventID", S),
            ("vpcEndpointId", S),
            ("vpcEndpointAccountId", S),
            ("sessionCredentialFromConsole", S),
            ("resources", RESOURCES),
            ("tlsDetails", TLS_DETAILS),
            ("addendum", ADDENDUM),
        ]
    ),
    json_text=(
        "requestParameters",
        "responseElements",
        "additionalEventData",
        "serviceEventDetails",
        "edgeDeviceDetails",
    ),
)

INSIGHTS = RecordLayout(
    table="cloudtrail_insights",
    typed=pa.schema(
        [
            ("recipientAccountId", S),
            ("awsRegion", S),
            ("eventTime", TIMESTAMP),
            ("eventID", S),
            ("eventType", S),
            ("eventCategory", S),
            ("eventVersion", S),
            ("sharedEventID", S),
        ]
    ),
    json_text=("insightDetails",),
)


def table_schema(layout: RecordLayout) -> pa.Schema:
    """The Delta table schema of a record layout: partition, typed, JSON text, rescue, source."""
    fields = [EVENT_DATE, *layout.typed]
    fields += [pa.field(name, S) for name in layout.json_text]
    fields += [RESCUED, SOURCE]
    return pa.schema(fields)


# Columns no filter reads by value range, and columns whose values are nearly all distinct.
JSON_TEXT_COLUMNS = frozenset({*EVENTS.json_text, *INSIGHTS.json_text, RESCUED.name})
DISTINCT_VALUED_COLUMNS = frozenset({"eventID", "requestID", "sharedEventID", "eventTime"})
# Columns of long values, often distinct within a file: with the two above, all that compression
# is worth paying for while a file awaits compaction.
LONG_VALUED_COLUMNS = frozenset({"resources", "sourceIPAddress", "userAgent", "errorMessage", SOURCE.name})

CLOUDTRAIL_SCHEMA = table_schema(EVENTS)
INSIGHTS_SCHEMA = table_schema(INSIGHTS)

LEDGER_SCHEMA = pa.schema(
    [
        ("source_object", S),  # identity: the key from AWSLogs/ on, else the full uri
        ("uri", S),  # where it was found
        ("kind", S),  # events | insights | digest | skip
        ("status", S),  # ingested | skipped | quarantined
        ("reason", S),
        ("bytes", pa.int64()),
        ("records", pa.int64()),
        ("rows_written", pa.int64()),
        ("duplicates", pa.int64()),
        ("records_quarantined", pa.int64()),
        ("table_name", S),
        ("commit_version", pa.int64()),
        ("validation", S),  # valid | invalid | unverified (digest validation)
        ("ingested_at", TIMESTAMP),
    ]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        ("source_object", S),
        ("uri", S),
        ("record_index", pa.int64()),  # -1: the whole object
        ("reason", S),
        ("raw", pa.large_binary()),  # the record's bytes, or the object's first MiB
        ("quarantined_at", TIMESTAMP),
    ]
)
