"""Check a running tests/moto/server.py the way the Rust SDKs talk to it.

Usage: python selfcheck.py http://127.0.0.1:PORT
Exits non-zero (AssertionError) on the first thing that is wrong.

NOTE: it resets moto's state first, so do not point it at a server that a
test run is using.
"""

import datetime as dt
import gzip
import pprint
import sys
import urllib.error
import urllib.request

import cbor2

BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:5000"
CW_PATH = "/service/GraniteServiceVersion20100801/operation/"
UTC = dt.timezone.utc


def auth(service):
    # moto does not verify signatures; it only reads the credential scope to
    # pick the service, so a SigV4-shaped header is enough.
    return (
        "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/"
        f"{service}/aws4_request, SignedHeaders=host, Signature=abc"
    )


class Tag1:
    """A CBOR tag-1 (epoch-seconds) value, kept raw so we can see its type."""

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        iso = dt.datetime.fromtimestamp(self.value, tz=UTC).isoformat()
        return f"tag1({self.value!r} = {iso})"


def post(path, body, headers):
    req = urllib.request.Request(BASE + path, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def cloudwatch(op, params, compress=False):
    """One RPC v2 CBOR call, shaped like aws-sdk-cloudwatch's requests."""
    body = cbor2.dumps(params, datetime_as_timestamp=True)
    headers = {
        "smithy-protocol": "rpc-v2-cbor",
        "Content-Type": "application/cbor",
        "Accept": "application/cbor",
        "Authorization": auth("monitoring"),
        "x-amzn-query-mode": "true",  # the SDK sends it (awsQueryCompatible)
    }
    if compress:  # the SDK gzips big PutMetricData bodies
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    status, resp_headers, raw = post(CW_PATH + op, body, headers)
    lower = {k.lower(): v for k, v in resp_headers.items()}
    assert lower.get("smithy-protocol") == "rpc-v2-cbor", resp_headers
    assert lower.get("content-type") == "application/cbor", resp_headers
    decoded = cbor2.loads(raw, semantic_decoders={1: lambda value, _imm: Tag1(value)})
    print(f"\n== {op} -> HTTP {status}")
    pprint.pprint(decoded, width=100)
    if status >= 400:
        # The SDK takes the error code from this awsQuery-compatibility header
        # when present (it overrides `__type`), so it must survive the proxy.
        print("x-amzn-query-error:", lower.get("x-amzn-query-error"))
        decoded["x-amzn-query-error"] = lower.get("x-amzn-query-error")
    return status, decoded


def main():
    status, _, _ = post("/moto-api/reset", b"", {})
    assert status == 200, f"reset failed: {status}"

    now = dt.datetime.now(UTC).replace(second=0, microsecond=0)
    dims = [{"Name": "AutoScalingGroupName", "Value": "web"}]
    points = [(now - dt.timedelta(minutes=m), v) for m, v in [(3, 10.0), (2, 40.0), (1, 25.5)]]

    status, out = cloudwatch(
        "PutMetricData",
        {
            "Namespace": "AWS/EC2",
            "MetricData": [
                {"MetricName": "CPUUtilization", "Dimensions": dims,
                 "Timestamp": ts, "Value": v, "Unit": "Percent"}
                for ts, v in points
            ],
        },
    )
    assert status == 200 and out == {}, out

    # Same call gzip-compressed, another metric, to cover Content-Encoding.
    status, out = cloudwatch(
        "PutMetricData",
        {"Namespace": "AWS/EC2", "MetricData": [
            {"MetricName": "NetworkIn", "Dimensions": dims, "Timestamp": now, "Value": 7.0}
        ]},
        compress=True,
    )
    assert status == 200, out

    status, out = cloudwatch(
        "GetMetricData",
        {
            "MetricDataQueries": [{
                "Id": "cpu",
                "MetricStat": {
                    "Metric": {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
                               "Dimensions": dims},
                    "Period": 60,
                    "Stat": "Average",
                },
                "ReturnData": True,
            }],
            "StartTime": now - dt.timedelta(minutes=10),
            "EndTime": now + dt.timedelta(minutes=1),
            "ScanBy": "TimestampAscending",
        },
    )
    assert status == 200, out
    (result,) = out["MetricDataResults"]
    assert result["Id"] == "cpu", result
    assert all(isinstance(t, Tag1) for t in result["Timestamps"]), result
    assert all(isinstance(v, float) for v in result["Values"]), result  # 10.0/40.0 too
    got = sorted(zip((t.value for t in result["Timestamps"]), result["Values"]))
    want = sorted((ts.timestamp(), v) for ts, v in points)
    assert got == want, (got, want)

    status, out = cloudwatch(
        "GetMetricStatistics",
        {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization", "Dimensions": dims,
         "StartTime": now - dt.timedelta(minutes=10), "EndTime": now + dt.timedelta(minutes=1),
         "Period": 600, "Statistics": ["Sum", "Average", "Maximum", "SampleCount"]},
    )
    assert status == 200, out
    (point,) = out["Datapoints"]
    assert isinstance(point["Timestamp"], Tag1), point
    for stat in ("Sum", "Average", "Maximum", "SampleCount"):
        assert isinstance(point[stat], float), (stat, point)
    assert point["Sum"] == 75.5 and point["SampleCount"] == 3.0, point

    status, out = cloudwatch("ListMetrics", {"Namespace": "AWS/EC2"})
    assert status == 200, out
    assert {m["MetricName"] for m in out["Metrics"]} == {"CPUUtilization", "NetworkIn"}, out

    # Alarms carry fractional-second timestamps and a double Threshold.
    status, out = cloudwatch(
        "PutMetricAlarm",
        {"AlarmName": "web-cpu-high", "Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
         "Dimensions": dims, "Statistic": "Average", "Period": 60, "EvaluationPeriods": 2,
         "Threshold": 70.0, "ComparisonOperator": "GreaterThanThreshold"},
    )
    assert status == 200, out
    status, out = cloudwatch("DescribeAlarms", {"AlarmNames": ["web-cpu-high"]})
    (alarm,) = out["MetricAlarms"]
    assert isinstance(alarm["StateUpdatedTimestamp"], Tag1), alarm
    assert isinstance(alarm["Threshold"], float) and isinstance(alarm["Period"], int), alarm

    # Errors: a query without MetricStat/Expression is a ValidationError.
    status, out = cloudwatch(
        "GetMetricData",
        {"MetricDataQueries": [{"Id": "bad"}], "StartTime": now, "EndTime": now},
    )
    # moto says __type "...#ValidationException" but x-amzn-query-error
    # "ValidationError;Sender", which is the code the Rust SDK ends up with.
    assert status == 400, status
    assert out["__type"].split("#")[-1] == "ValidationException" and out["message"], out
    assert out["x-amzn-query-error"] == "ValidationError;Sender", out

    # moto exceptions (unknown/unimplemented operations) come back as CBOR too.
    status, out = cloudwatch("NoSuchOperation", {})
    assert status == 500 and out["__type"] == "InternalFailure", out

    # Auto Scaling (awsQuery) must reach moto untouched and answer in XML.
    status, headers, raw = post(
        "/",
        b"Action=DescribeAutoScalingGroups&Version=2011-01-01",
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
         "Authorization": auth("autoscaling")},
    )
    print(f"\n== autoscaling DescribeAutoScalingGroups -> HTTP {status}\n{raw.decode()}")
    assert status == 200 and b"<DescribeAutoScalingGroupsResponse" in raw, raw

    # Reset really clears CloudWatch state.
    status, _, _ = post("/moto-api/reset", b"", {})
    assert status == 200
    status, out = cloudwatch("ListMetrics", {"Namespace": "AWS/EC2"})
    assert status == 200 and not out.get("Metrics"), out

    print("\nselfcheck: all checks passed")


if __name__ == "__main__":
    main()
