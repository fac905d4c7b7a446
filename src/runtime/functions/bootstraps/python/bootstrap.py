"""Kennel's Python runtime: loads the function's handler and serves it events
from the Lambda Runtime API at AWS_LAMBDA_RUNTIME_API, as Lambda's Python
runtime does (module.function handlers, the context object, print and logging
in the log, its error shapes).

    python3 bootstrap.py <marker> [<audit-hook policy as JSON>]

After each invocation it writes "<marker> <request id>" to stdout, so Kennel
can tell which log lines belong to which invocation: stdout and the HTTP
connection are separate channels, and nothing else orders them. The policy,
given where the kernel has no Landlock, installs an audit hook (audit_hook.py)
before any of the function's code runs.
"""

import importlib
import json
import logging
import os
import sys
import time
import traceback
import urllib.parse

from runtime_client import RuntimeClient

marker = sys.argv[1]
if len(sys.argv) > 2:
    import audit_hook

    audit_hook.install(json.loads(sys.argv[2]))

# One log, in the order it was written: stderr is stdout, and both go out line by line.
os.dup2(1, 2)
sys.stdout.reconfigure(line_buffering=True)
sys.stderr.reconfigure(line_buffering=True)

task_root = os.environ["LAMBDA_TASK_ROOT"]
handler_name = os.environ["_HANDLER"]
NEXT = "/2018-06-01/runtime/invocation/next"
client = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
request_id = None


class FaultException(Exception):
    """A Runtime.* error of Lambda's: the handler could not be loaded."""

    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


def error_response(error):
    if isinstance(error, FaultException):
        return {"errorMessage": error.message, "errorType": error.error_type, "requestId": request_id or "", "stackTrace": error.trace}
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename != __file__]
    return {"errorMessage": str(error), "errorType": type(error).__name__, "requestId": request_id or "", "stackTrace": traceback.format_list(frames)}


def log_error(response):
    """How Lambda's Python runtime writes an error into the log."""
    description = "[ERROR] " + response["errorType"] + (": " + response["errorMessage"] if response["errorMessage"] else "")
    lines = [description, "Traceback (most recent call last):"]
    for element in response["stackTrace"]:
        lines.extend(element.splitlines())
    sys.stdout.write("\n".join(lines) + "\n")


def load_handler():
    try:
        module_name, function_name = handler_name.rsplit(".", 1)
    except ValueError as error:
        raise FaultException("Runtime.MalformedHandlerName", "Bad handler '{}': {}".format(handler_name, error))
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise FaultException("Runtime.ImportModuleError", "Unable to import module '{}': {}".format(module_name, error))
    except SyntaxError as error:
        trace = ['  File "%s" Line %s\n    %s\n' % (error.filename, error.lineno, (error.text or "").strip())]
        raise FaultException("Runtime.UserCodeSyntaxError", "Syntax error in module '{}': {}".format(module_name, error), trace)
    handler = getattr(module, function_name, None)
    if handler is None:
        raise FaultException("Runtime.HandlerNotFound", "Handler '{}' missing on module '{}'".format(function_name, module_name))
    return handler


class LambdaContext:
    def __init__(self, invocation_id, headers):
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "0"))
        self.aws_request_id = invocation_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.client_context = json_header(headers, "lambda-runtime-client-context")
        self.identity = json_header(headers, "lambda-runtime-cognito-identity")
        self._deadline_ms = int(headers.get("lambda-runtime-deadline-ms", "0"))

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)


def json_header(headers, name):
    value = headers.get(name)
    return json.loads(value) if value else None


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = request_id
        return True


def configure_logging():
    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    logging.getLogger().addHandler(handler)


def end_of_invocation(invocation_id):
    """The marker first, then the answer: by the time Kennel has the answer, everything the invocation logged is ahead of the marker in its pipe."""
    sys.stdout.flush()
    os.write(1, ("%s %s\n" % (marker, invocation_id)).encode())


def error_headers(response):
    return {"Lambda-Runtime-Function-Error-Type": response["errorType"]}


def answer(handler, invocation_id, headers, body):
    """Runs the invocation and sends its answer, not waiting for the reply: the request for the next event follows it."""
    path = "/2018-06-01/runtime/invocation/%s/" % urllib.parse.quote(invocation_id, safe="")
    try:
        result = handler(json.loads(body), LambdaContext(invocation_id, headers))
    except Exception as error:
        return fail(path, invocation_id, error_response(error))
    try:
        payload = json.dumps(result)
    except (TypeError, ValueError) as error:
        return fail(path, invocation_id, {"errorMessage": "Unable to marshal response: %s" % error, "errorType": "Runtime.MarshalError", "requestId": invocation_id, "stackTrace": []})
    end_of_invocation(invocation_id)
    client.send("POST", path + "response", payload)


def fail(path, invocation_id, response):
    log_error(response)
    end_of_invocation(invocation_id)
    client.send("POST", path + "error", json.dumps(response), error_headers(response))


def main():
    global request_id
    sys.path.insert(0, task_root)
    configure_logging()
    try:
        handler = load_handler()
    except Exception as error:
        response = error_response(error)
        log_error(response)
        client.request("POST", "/2018-06-01/runtime/init/error", json.dumps(response), error_headers(response))
        sys.exit(1)
    while True:
        status, headers, body = client.request("GET", NEXT)
        if status != 200:
            raise RuntimeError("the Runtime API refused to give the next invocation (%s): %s" % (status, body[:200]))
        request_id = headers["lambda-runtime-aws-request-id"]
        trace_id = headers.get("lambda-runtime-trace-id")
        if trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        answer(handler, request_id, headers, body)


main()
