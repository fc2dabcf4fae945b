"""SQL views: daily/weekly/monthly_cloudtrail (last 1, 7, 30 days of data), identities, role_assumptions,
s3_writes."""

from __future__ import annotations

from pathlib import Path

from tests.query.lakes import build_lake, record
from trailhouse.query.engine import Engine


def _engine(tmp_path: Path) -> Engine:
    days = ["2026-09-01", "2026-10-20", "2026-10-25", "2026-10-26", "2026-11-01", "2026-11-02"]
    records = [record(eventTime=f"{d}T10:00:00Z") for d in days]
    records.append(
        record(
            eventTime="2026-11-02T11:00:00Z",
            eventSource="s3.amazonaws.com",
            eventName="PutObject",
            eventCategory="Data",
            requestParameters={"bucketName": "lake", "key": "sales/dt=2026-11-02/part-0.parquet"},
            additionalEventData={"bytesTransferredIn": 2048.0},
        )
    )
    return Engine(build_lake(tmp_path, records))


def _count(engine: Engine, view: str) -> int:
    return int(engine.query(f"SELECT count(*) AS n FROM {view}").column("n")[0].as_py())


def test_views_daily_weekly_monthly_are_relative_to_the_latest_data(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    assert (_count(engine, "daily_cloudtrail"), _count(engine, "weekly_cloudtrail")) == (2, 3)  # 10-27..11-02
    assert _count(engine, "monthly_cloudtrail") == 6  # 2026-10-04 onwards: not 2026-09-01


def test_views_identities_and_s3_writes(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    [alice] = engine.query("SELECT * FROM identities").to_pylist()
    assert (alice["events"], alice["services"]) == (7, ["ec2", "s3"])
    [write] = engine.query(
        "SELECT bucket, key, prefix, table_path, partition, bytes FROM s3_writes"
    ).to_pylist()
    assert write == {
        "bucket": "lake",
        "key": "sales/dt=2026-11-02/part-0.parquet",
        "prefix": "sales/dt=2026-11-02",
        "table_path": "sales",
        "partition": "dt=2026-11-02",
        "bytes": 2048,
    }


def test_views_are_listed_with_the_tables(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    names = set(engine.query("SELECT table_name FROM information_schema.tables").column(0).to_pylist())
    views = {
        "daily_cloudtrail",
        "weekly_cloudtrail",
        "monthly_cloudtrail",
        "identities",
        "role_assumptions",
        "s3_writes",
    }
    assert views <= names


def test_views_role_assumptions_role_from_request_else_session(tmp_path: Path) -> None:
    session = "arn:aws:sts::111122223333:assumed-role/deployer/ci-run"
    records = [
        record(
            eventSource="sts.amazonaws.com",
            eventName="AssumeRole",
            requestParameters={"roleArn": "arn:aws:iam::111122223333:role/admin", "roleSessionName": "s1"},
            responseElements={"assumedRoleUser": {"arn": session}},
        ),
        record(
            eventSource="sts.amazonaws.com",
            eventName="AssumeRoleWithWebIdentity",
            userIdentity={"type": "WebIdentityUser", "principalId": "x"},
            responseElements={"assumedRoleUser": {"arn": session}, "subjectFromWebIdentityToken": "repo:o/r"},
        ),
        record(eventSource="sts.amazonaws.com", eventName="GetCallerIdentity"),
    ]
    rows = Engine(build_lake(tmp_path, records)).query(
        "SELECT eventName, role, assumer, session, session_name FROM role_assumptions ORDER BY eventName"
    )
    assert rows.to_pylist() == [
        {
            "eventName": "AssumeRole",
            "role": "arn:aws:iam::111122223333:role/admin",
            "assumer": "arn:aws:iam::111122223333:user/alice",
            "session": session,
            "session_name": "s1",
        },
        {
            "eventName": "AssumeRoleWithWebIdentity",
            "role": "arn:aws:iam::111122223333:role/deployer",
            "assumer": "repo:o/r",
            "session": session,
            "session_name": None,
        },
    ]
