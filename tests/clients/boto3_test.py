"""boto3 against `expressway serve`: create, start sync, start async, describe, list, delete,
validate, test-state, versions/aliases, tags, error cases, and SigV4 checks.

Run: python3 -m pytest tests/clients/boto3_test.py (EXPRESSWAY_BIN overrides the binary path).
"""

import json
import os
import subprocess
import tempfile
import time
import unittest
import urllib.request

import boto3
import botocore.exceptions
from botocore.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("EXPRESSWAY_BIN", os.path.join(ROOT, "target", "debug", "expressway"))
ROLE = "arn:aws:iam::123456789012:role/r"
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": 1}, "ResultPath": "$.r", "End": True}}})
FAIL = json.dumps({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "bad"}}})


def start_server(*extra):
    """Starts the server on an ephemeral port and returns (process, endpoint URL)."""
    proc = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return proc, line[len("listening on "):]


def client(endpoint, key="AKIDEXAMPLE", secret="secret"):
    return boto3.client(
        "stepfunctions", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=key, aws_secret_access_key=secret,
        config=Config(inject_host_prefix=False, retries={"max_attempts": 1}))


class Boto3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc, cls.endpoint = start_server()
        cls.sfn = client(cls.endpoint)

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(timeout=30)

    def create(self, name, definition=PASS, kind="EXPRESS", **kw):
        return self.sfn.create_state_machine(name=name, definition=definition, roleArn=ROLE, type=kind, **kw)

    def error(self, call, code, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            call(**kw)
        self.assertEqual(cm.exception.response["Error"]["Code"], code)
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        return cm.exception.response["Error"].get("Message", "")

    def test_create_describe_list_delete(self):
        arn = self.create("b-life")["stateMachineArn"]
        self.assertEqual(arn, "arn:aws:states:us-east-1:123456789012:stateMachine:b-life")
        d = self.sfn.describe_state_machine(stateMachineArn=arn)
        self.assertEqual((d["name"], d["type"], d["status"], d["definition"]), ("b-life", "EXPRESS", "ACTIVE", PASS))
        self.assertEqual(d["creationDate"].year >= 2024, True)
        self.assertIn(arn, [m["stateMachineArn"] for m in self.sfn.list_state_machines()["stateMachines"]])
        pages = self.sfn.get_paginator("list_state_machines").paginate(PaginationConfig={"PageSize": 1})
        self.assertIn("b-life", [m["name"] for p in pages for m in p["stateMachines"]])
        self.sfn.update_state_machine(stateMachineArn=arn, definition=FAIL)
        self.assertEqual(self.sfn.describe_state_machine(stateMachineArn=arn)["definition"], FAIL)
        self.sfn.delete_state_machine(stateMachineArn=arn)
        msg = self.error(self.sfn.describe_state_machine, "StateMachineDoesNotExist", stateMachineArn=arn)
        self.assertEqual(msg, f"State Machine Does Not Exist: '{arn}'")

    def test_start_sync(self):
        arn = self.create("b-sync")["stateMachineArn"]
        out = self.sfn.start_sync_execution(stateMachineArn=arn, input='{"a":1}', name="n1")
        self.assertEqual(out["status"], "SUCCEEDED")
        self.assertEqual(json.loads(out["output"]), {"a": 1, "r": {"ok": 1}})
        self.assertTrue(out["executionArn"].startswith("arn:aws:states:us-east-1:123456789012:express:b-sync:n1:"))
        self.assertEqual(out["billingDetails"]["billedMemoryUsedInMB"], 64)
        self.assertLessEqual(out["startDate"], out["stopDate"])
        farn = self.create("b-sync-fail", FAIL)["stateMachineArn"]
        out = self.sfn.start_sync_execution(stateMachineArn=farn)
        self.assertEqual((out["status"], out["error"], out["cause"]), ("FAILED", "Boom", "bad"))

    def test_start_async_standard(self):
        arn = self.create("b-std", kind="STANDARD")["stateMachineArn"]
        ex = self.sfn.start_execution(stateMachineArn=arn, name="e1", input="{}")["executionArn"]
        for _ in range(100):
            d = self.sfn.describe_execution(executionArn=ex)
            if d["status"] != "RUNNING":
                break
            time.sleep(0.02)
        self.assertEqual(d["status"], "SUCCEEDED")
        self.assertEqual(json.loads(d["output"]), {"r": {"ok": 1}})
        self.assertEqual(self.sfn.list_executions(stateMachineArn=arn)["executions"][0]["executionArn"], ex)
        events = self.sfn.get_execution_history(executionArn=ex)["events"]
        self.assertEqual([e["type"] for e in events], ["ExecutionStarted", "ExecutionSucceeded"])
        self.error(self.sfn.start_execution, "ExecutionAlreadyExists", stateMachineArn=arn, name="e1")

    def test_start_async_express(self):
        arn = self.create("b-exp")["stateMachineArn"]
        ex = self.sfn.start_execution(stateMachineArn=arn)["executionArn"]
        self.assertIn(":express:b-exp:", ex)
        self.error(self.sfn.describe_execution, "InvalidArn", executionArn=ex)

    def test_validate(self):
        self.assertEqual(self.sfn.validate_state_machine_definition(definition=PASS)["result"], "OK")
        out = self.sfn.validate_state_machine_definition(definition="{nope")
        self.assertEqual(out["result"], "FAIL")
        self.assertEqual(out["diagnostics"][0]["code"], "INVALID_JSON_DESCRIPTION")

    def test_test_state(self):
        out = self.sfn.test_state(definition='{"Type":"Pass","Result":{"x":1},"Next":"N"}', input="{}")
        self.assertEqual((json.loads(out["output"]), out["nextState"], out["status"]), ({"x": 1}, "N", "SUCCEEDED"))
        out = self.sfn.test_state(definition='{"Type":"Fail","Error":"E"}')
        self.assertEqual((out["status"], out["error"]), ("FAILED", "E"))

    def test_versions_aliases_tags(self):
        out = self.create("b-ver", publish=True, tags=[{"key": "team", "value": "x"}])
        v1 = out["stateMachineVersionArn"]
        alias = self.sfn.create_state_machine_alias(
            name="live", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}])["stateMachineAliasArn"]
        self.assertEqual(self.sfn.start_sync_execution(stateMachineArn=alias)["status"], "SUCCEEDED")
        self.assertEqual(self.sfn.start_sync_execution(stateMachineArn=v1)["status"], "SUCCEEDED")
        self.assertEqual(self.sfn.list_state_machine_versions(stateMachineArn=out["stateMachineArn"])["stateMachineVersions"][0]["stateMachineVersionArn"], v1)
        self.assertEqual(self.sfn.describe_state_machine_alias(stateMachineAliasArn=alias)["name"], "live")
        tags = self.sfn.list_tags_for_resource(resourceArn=out["stateMachineArn"])["tags"]
        self.assertEqual(tags, [{"key": "team", "value": "x"}])
        self.error(self.sfn.delete_state_machine_version, "ConflictException", stateMachineVersionArn=v1)

    def test_errors(self):
        self.error(self.sfn.create_state_machine, "InvalidName", name="a b", definition=PASS, roleArn=ROLE)
        msg = self.error(self.sfn.create_state_machine, "InvalidDefinition", name="b-bad", definition="{", roleArn=ROLE)
        self.assertTrue(msg.startswith("Invalid State Machine Definition: '"), msg)
        self.error(self.sfn.describe_state_machine, "InvalidArn", stateMachineArn="nope")
        self.error(self.sfn.create_state_machine, "InvalidDefinition", name="b-sync-task", roleArn=ROLE, type="EXPRESS",
                   definition=json.dumps({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::ecs:runTask.sync", "End": True}}}))
        arn = self.create("b-err")["stateMachineArn"]
        self.error(self.sfn.start_sync_execution, "InvalidExecutionInput", stateMachineArn=arn, input="{x")
        std = self.create("b-err-std", kind="STANDARD")["stateMachineArn"]
        self.error(self.sfn.start_sync_execution, "StateMachineTypeNotSupported", stateMachineArn=std)

    def test_unknown_operation(self):
        req = urllib.request.Request(self.endpoint + "/", data=b"{}", method="POST", headers={
            "X-Amz-Target": "AWSStepFunctions.CreateActivity", "Content-Type": "application/x-amz-json-1.0"})
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(cm.exception.code, 400)
        self.assertTrue(json.loads(cm.exception.read())["__type"].endswith("#UnknownOperationException"))


class SigV4Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.creds = tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False)
        cls.creds.write("[default]\naws_access_key_id = AKIDGOOD\naws_secret_access_key = s3cret\n")
        cls.creds.close()
        cls.proc, cls.endpoint = start_server("--credentials", cls.creds.name)

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(timeout=30)
        os.unlink(cls.creds.name)

    def code(self, sfn):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            sfn.list_state_machines()
        return cm.exception.response["Error"]["Code"]

    def test_signatures(self):
        self.assertEqual(client(self.endpoint, "AKIDGOOD", "s3cret").list_state_machines()["stateMachines"], [])
        out = client(self.endpoint, "AKIDGOOD", "s3cret").validate_state_machine_definition(definition=PASS)
        self.assertEqual(out["result"], "OK")
        self.assertEqual(self.code(client(self.endpoint, "AKIDGOOD", "wrong")), "InvalidSignatureException")
        self.assertEqual(self.code(client(self.endpoint, "AKIDBAD", "s3cret")), "UnrecognizedClientException")
        req = urllib.request.Request(self.endpoint + "/", data=b"{}", method="POST", headers={
            "X-Amz-Target": "AWSStepFunctions.ListStateMachines"})
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=10)
        self.assertTrue(json.loads(cm.exception.read())["__type"].endswith("#MissingAuthenticationTokenException"))


if __name__ == "__main__":
    unittest.main()
