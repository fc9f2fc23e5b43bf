"""moto test server that also speaks CloudWatch's Smithy RPC v2 CBOR protocol.

The Rust SDK (aws-sdk-cloudwatch >= 1.1xx) sends CloudWatch calls as
    POST /service/GraniteServiceVersion20100801/operation/<Op>   (CBOR body)
but moto only understands CloudWatch in JSON 1.0
    POST /   X-Amz-Target: GraniteServiceVersion20100801.<Op>   (JSON body)
so `CborToJson` below rewrites such requests to JSON 1.0 before handing them to
moto's ordinary multi-service WSGI app and rewrites moto's JSON answer back to
CBOR. Every other request (Auto Scaling's awsQuery, /moto-api/reset, ...) goes
to moto untouched.

Usage: python server.py --host 127.0.0.1 --port 0
Prints `moto-ready http://HOST:PORT` once the socket is listening.
"""

import argparse
import base64
import datetime as dt
import gzip
import io
import json
import os
import signal
import sys
import traceback

import cbor2
from botocore.session import Session
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server
from werkzeug.wsgi import get_input_stream

# Smithy service shape name (first path segment after /service/) -> botocore
# service name. The JSON 1.0 target prefix of CloudWatch is that same name.
CBOR_SERVICES = {"GraniteServiceVersion20100801": "cloudwatch"}

UTC = dt.timezone.utc


def to_json_value(value):
    """CBOR-decoded request value -> something json.dumps accepts, the way
    moto's JSON 1.0 parser expects it (timestamps as epoch seconds, blobs as
    base64)."""
    if isinstance(value, dt.datetime):  # CBOR tag 1 (epoch time)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {k: to_json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json_value(v) for v in value]
    return value


def to_cbor_value(value, shape):
    """moto's JSON response value -> Python value that cbor2 encodes with the
    CBOR type the Rust SDK decoder demands for `shape`. This matters: the
    aws-smithy-cbor decoder calls minicbor's f64() for doubles, which rejects
    CBOR integers, and i32()/i64() for integers, which reject floats; timestamps
    must be tag 1. JSON loses all of that (3.0 may come back as 3), so we use
    botocore's CloudWatch model (shipped with moto) rather than a list of
    field names."""
    if value is None or shape is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        # Smithy treats null members as absent; dropping them is the safe form.
        return {
            k: to_cbor_value(v, shape.members.get(k))
            for k, v in value.items()
            if v is not None
        }
    if kind == "list":
        return [to_cbor_value(v, shape.member) for v in value]
    if kind == "map":
        return {k: to_cbor_value(v, shape.value) for k, v in value.items()}
    if kind == "timestamp":
        if isinstance(value, str):  # in case moto ever sends ISO 8601
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        return dt.datetime.fromtimestamp(value, tz=UTC)
    if kind in ("double", "float"):
        return float(value)
    if kind in ("integer", "long", "short", "byte"):
        return int(value)
    if kind == "blob" and isinstance(value, str):
        return base64.b64decode(value)
    return value


class CborToJson:
    """WSGI middleware: Smithy RPC v2 CBOR <-> AWS JSON 1.0 in front of moto."""

    def __init__(self, app):
        self.app = app
        self.models = {}  # smithy service name -> botocore ServiceModel
        session = Session()
        for smithy_name, botocore_name in CBOR_SERVICES.items():
            self.models[smithy_name] = session.get_service_model(botocore_name)

    def __call__(self, environ, start_response):
        # PATH_INFO: /service/<Service>/operation/<Operation>
        parts = environ.get("PATH_INFO", "").strip("/").split("/")
        if (
            len(parts) != 4
            or parts[0] != "service"
            or parts[2] != "operation"
            or parts[1] not in self.models
        ):
            return self.app(environ, start_response)
        service, operation = parts[1], parts[3]
        model = self.models[service]

        # --- request: CBOR -> JSON 1.0 ------------------------------------
        body = get_input_stream(environ).read()  # handles chunked bodies too
        # The SDK gzips large PutMetricData bodies (@requestCompression).
        if environ.pop("HTTP_CONTENT_ENCODING", "").lower() == "gzip":
            body = gzip.decompress(body)
        params = cbor2.loads(body) if body else {}
        json_body = json.dumps(to_json_value(params)).encode()

        # Path "/" is what moto's cloudwatch url_paths match; the Authorization
        # header (credential scope .../monitoring/...) is left alone because
        # that is what moto's DomainDispatcherApplication routes on.
        environ["PATH_INFO"] = "/"
        environ["REQUEST_URI"] = environ["RAW_URI"] = "/"
        environ["QUERY_STRING"] = ""
        environ["CONTENT_TYPE"] = "application/x-amz-json-1.0"
        environ["CONTENT_LENGTH"] = str(len(json_body))
        environ["HTTP_X_AMZ_TARGET"] = f"{service}.{operation}"
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ.pop("HTTP_SMITHY_PROTOCOL", None)
        environ["wsgi.input"] = io.BytesIO(json_body)
        environ["wsgi.input_terminated"] = True

        # --- call moto, buffering its response ------------------------------
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None  # moto/Flask never use write()

        try:
            chunks = self.app(environ, capture)
            try:
                raw = b"".join(chunks)
            finally:
                if hasattr(chunks, "close"):
                    chunks.close()
            status = captured["status"]
        except Exception as exc:
            # moto (debug mode) lets exceptions escape, e.g. for operations it
            # does not implement; answer in CBOR so the Rust test shows why.
            traceback.print_exc()
            status = "500 INTERNAL SERVER ERROR"
            captured["headers"] = []
            raw = json.dumps({
                "__type": "InternalFailure",
                "message": f"moto raised {type(exc).__name__}: {exc}",
            }).encode()

        # --- response: JSON -> CBOR -----------------------------------------
        try:
            decoded = json.loads(raw) if raw.strip() else {}
        except ValueError:  # moto crashed or answered in XML/HTML
            decoded = {"message": raw.decode("utf-8", "replace")}
        if int(status.split()[0]) < 300:
            try:
                shape = model.operation_model(operation).output_shape
            except Exception:  # unknown op: moto already answered; pass as is
                shape = None
            out = to_cbor_value(decoded, shape)
        else:
            # rpcv2 errors: `__type` (the SDK keeps what follows '#') + message.
            out = {
                "__type": decoded.get("__type") or "InternalFailure",
                "message": decoded.get("message") or decoded.get("Message") or "",
            }
        cbor_body = cbor2.dumps(out, datetime_as_timestamp=True)

        skip = {"content-type", "content-length", "content-encoding"}
        headers = [(k, v) for k, v in captured["headers"] if k.lower() not in skip]
        headers += [
            ("Content-Type", "application/cbor"),
            ("smithy-protocol", "rpc-v2-cbor"),
            ("Content-Length", str(len(cbor_body))),
        ]
        start_response(status, headers)
        return [cbor_body]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    args = parser.parse_args()

    app = CborToJson(DomainDispatcherApplication(create_backend_app))
    # make_server binds and listens right away, so the port is known (also for
    # --port 0) and connections queue in the backlog before serve_forever.
    server = make_server(
        args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler
    )
    port = server.server_port
    # moto uses MOTO_PORT when it calls itself (e.g. some cross-service calls).
    os.environ["MOTO_PORT"] = str(port)

    # werkzeug's serve_forever ends quietly (and closes the socket) on
    # KeyboardInterrupt, so SIGTERM is turned into one for a clean exit.
    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    print(f"moto-ready http://{args.host}:{port}", flush=True)
    server.serve_forever()
    print("moto server stopped", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
