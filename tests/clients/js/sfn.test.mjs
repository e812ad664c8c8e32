// @aws-sdk/client-sfn against `expressway serve`, with node's test runner.
// Run: NODE_PATH=<dir with node_modules> node --test tests/clients/js/sfn.test.mjs
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

// The SDK may be installed outside the repository (run.sh uses /tmp): resolve it from NODE_PATH.
const require = createRequire(path.join(process.env.NODE_PATH || process.cwd(), "x.js"));
const sfnLib = require("@aws-sdk/client-sfn");
const {
  SFNClient, CreateStateMachineCommand, DescribeStateMachineCommand, ListStateMachinesCommand,
  DeleteStateMachineCommand, StartSyncExecutionCommand, StartExecutionCommand,
  DescribeExecutionCommand, ValidateStateMachineDefinitionCommand, TestStateCommand,
} = sfnLib;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const bin = process.env.EXPRESSWAY_BIN || path.join(root, "target/debug/expressway");
const ROLE = "arn:aws:iam::123456789012:role/r";
const PASS = JSON.stringify({ StartAt: "P", States: { P: { Type: "Pass", Result: { ok: 1 }, ResultPath: "$.r", End: true } } });

let server;
let sfn;

before(async () => {
  server = spawn(bin, ["serve", "--listen", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "ignore"] });
  const line = await new Promise((resolve, reject) => {
    const rl = createInterface({ input: server.stdout });
    rl.once("line", resolve);
    server.once("exit", () => reject(new Error("server exited")));
  });
  const endpoint = line.replace("listening on ", "").trim();
  sfn = new SFNClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    disableHostPrefix: true,
    maxAttempts: 1,
  });
});

after(() => {
  sfn?.destroy();
  server?.kill("SIGTERM");
});

async function create(name, type = "EXPRESS") {
  const out = await sfn.send(new CreateStateMachineCommand({ name, definition: PASS, roleArn: ROLE, type }));
  return out.stateMachineArn;
}

async function errorName(promise) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.$metadata.httpStatusCode, 400);
    return e.name;
  }
  assert.fail("expected an error");
}

test("create, describe, list, delete", async () => {
  const arn = await create("js-life");
  assert.equal(arn, "arn:aws:states:us-east-1:123456789012:stateMachine:js-life");
  const d = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
  assert.equal(d.definition, PASS);
  assert.ok(d.creationDate instanceof Date);
  const list = await sfn.send(new ListStateMachinesCommand({}));
  assert.ok(list.stateMachines.some((m) => m.name === "js-life"));
  await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: arn }));
  assert.equal(await errorName(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }))), "StateMachineDoesNotExist");
});

test("start sync and async", async () => {
  const arn = await create("js-run");
  const out = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn: arn, input: '{"a":1}' }));
  assert.equal(out.status, "SUCCEEDED");
  assert.deepEqual(JSON.parse(out.output), { a: 1, r: { ok: 1 } });
  assert.equal(out.billingDetails.billedMemoryUsedInMB, 64);
  const std = await create("js-std", "STANDARD");
  const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: std, name: "e1" }));
  let d;
  for (let i = 0; i < 100; i++) {
    d = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    if (d.status !== "RUNNING") break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(d.status, "SUCCEEDED");
});

test("validate and test-state", async () => {
  const v = await sfn.send(new ValidateStateMachineDefinitionCommand({ definition: PASS }));
  assert.equal(v.result, "OK");
  const t = await sfn.send(new TestStateCommand({ definition: '{"Type":"Pass","Result":2,"Next":"N"}', input: "{}" }));
  assert.deepEqual([t.status, t.output, t.nextState], ["SUCCEEDED", "2", "N"]);
});

test("errors", async () => {
  const bad = sfn.send(new CreateStateMachineCommand({ name: "a b", definition: PASS, roleArn: ROLE }));
  assert.equal(await errorName(bad), "InvalidName");
  const def = sfn.send(new CreateStateMachineCommand({ name: "js-bad", definition: "{", roleArn: ROLE }));
  assert.equal(await errorName(def), "InvalidDefinition");
  const arn = sfn.send(new DescribeStateMachineCommand({ stateMachineArn: "nope" }));
  assert.equal(await errorName(arn), "InvalidArn");
  const std = await create("js-std2", "STANDARD");
  assert.equal(await errorName(sfn.send(new StartSyncExecutionCommand({ stateMachineArn: std }))), "StateMachineTypeNotSupported");
});
