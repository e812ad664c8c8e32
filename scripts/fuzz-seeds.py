#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/ from the repository's
own data: conformance definitions and inputs, the bench workflows, JSONata suite expressions, and
hand-picked paths, intrinsic calls, templates, API requests and one signed request. Deterministic;
re-running rewrites the seeds (files named seed-*), leaving fuzzer finds (other names) alone."""
import glob, hashlib, hmac, json, os, random

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus")
rng = random.Random(7)


def write(target, items, limit):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    for f in glob.glob(os.path.join(d, "seed-*")):
        os.remove(f)
    seen = set()
    for data in items:
        if isinstance(data, str):
            data = data.encode()
        if data in seen or len(data) > 16384:
            continue
        seen.add(data)
        if len(seen) > limit:
            break
        name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


cases = [json.loads(l) for l in open(os.path.join(ROOT, "tests/conformance/cases.jsonl"))]
rng.shuffle(cases)
defs = [json.dumps(c["definition"]) for c in cases if "definition" in c]
benches = sorted(glob.glob(os.path.join(ROOT, "benches/workflows/*.json")))
bench_defs = [open(p).read() for p in benches if not p.endswith((".input.json", ".expected.json"))]

write("definition", bench_defs + defs, 120)

runs = []
for p in benches:
    if p.endswith((".input.json", ".expected.json")):
        continue
    inp = p[:-5] + ".input.json"
    runs.append(open(p).read() + "\0" + (open(inp).read() if os.path.exists(inp) else "{}"))
for c in cases:
    if c.get("needs") not in (None, [], ["none"]) or "definition" not in c:
        continue
    runs.append(json.dumps(c["definition"]) + "\0" + json.dumps(c.get("input", {})))
write("execution", runs, 80)

DOC = '{"a":1,"b":[1,2.5,"x",null,true,{"c":[{"d":"e"}]}],"s":"text","o":{"k":"v"}}'
paths = ["$", "$.a", "$.b[0]", "$.b[-1:]", "$.b[*]", "$..d", "$.b[?(@.c)]", "$.b[1:3]",
         "$['o']['k']", "$.b[0,2]", "$$.Execution.Id", "$.b[?(@ > 1)]", "$.x.y.z", "$..*",
         "$.b.length()", "$['a','s']", "$.b[?(@.c[0].d == 'e')]", "$var.a", "$.b[(@.length-1)]"]
write("jsonpath", [p + "\0" + DOC for p in paths] + paths, 100)

calls = ["States.Format('Hello, {}', $.s)", "States.StringToJson('{\"a\":1}')",
         "States.JsonToString($.o)", "States.Array(1, $.a, 'x')", "States.ArrayPartition($.b, 2)",
         "States.ArrayContains($.b, 1)", "States.ArrayRange(1, 9, 2)", "States.ArrayGetItem($.b, 0)",
         "States.ArrayLength($.b)", "States.ArrayUnique($.b)", "States.Base64Encode($.s)",
         "States.Base64Decode('dGV4dA==')", "States.Hash($.s, 'SHA-256')",
         "States.JsonMerge($.o, $.o, false)", "States.MathRandom(1, 9)", "States.MathAdd($.a, 2)",
         "States.StringSplit('a,b', ',')", "States.UUID()",
         "States.Format('{} {}', States.Array(1), States.MathAdd(1, 2))"]
write("intrinsic", [c + "\0" + DOC for c in calls] + calls, 100)

exprs = []
for p in sorted(glob.glob(os.path.join(ROOT, "tests/jsonata-suite/groups/*/*.json")))[:4000]:
    try:
        case = json.load(open(p))
    except Exception:
        continue
    for c in case if isinstance(case, list) else [case]:
        if isinstance(c, dict) and isinstance(c.get("expr"), str):
            exprs.append(c["expr"])
rng.shuffle(exprs)
write("jsonata", ["$sum(b[$type($) = 'number'])\0" + DOC, "o.k & s\0" + DOC]
      + [e + "\0" + DOC for e in exprs], 200)

templates = ['{"x.$":"$.a","y":[1,{"z.$":"$.b[0]"}]}', '{"f.$":"States.Format(\'{}\', $.s)"}',
             '{"c.$":"$$.Execution.Id","lit":"v"}', '{"all.$":"$.b[*]"}', '{"v.$":"$var"}',
             '{"n":{"m":{"o.$":"$.o.k"}}}']
write("template", [t + "\0" + DOC for t in templates], 50)

PASS = '{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}'
role = "arn:aws:iam::123456789012:role/r"
sm = "arn:aws:states:us-east-1:123456789012:stateMachine:m"
reqs = [
    ("CreateStateMachine", {"name": "m", "definition": PASS, "roleArn": role, "type": "EXPRESS"}),
    ("ValidateStateMachineDefinition", {"definition": PASS}),
    ("StartSyncExecution", {"stateMachineArn": sm, "input": "{}"}),
    ("StartExecution", {"stateMachineArn": sm + "#Case", "input": "[1]"}),
    ("DescribeExecution", {"executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:e"}),
    ("ListStateMachines", {"maxResults": 2, "nextToken": "x"}),
    ("TestState", {"definition": '{"Type":"Pass","End":true}', "input": "{}",
                   "inspectionLevel": "TRACE"}),
    ("TagResource", {"resourceArn": sm, "tags": [{"key": "k", "value": "v"}]}),
    ("CreateStateMachineAlias", {"name": "a", "routingConfiguration": [
        {"stateMachineVersionArn": sm + ":1", "weight": 100}]}),
    ("Frobnicate", {}),
]
write("aws_request", [op + "\0" + json.dumps(b) for op, b in reqs], 50)

# One request signed at the fuzz target's fixed clock, and a few broken variants.
SK = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
date, day, body = "20261207T000000Z", "20261207", "{}"
canon = ("POST\n/\n\nhost:localhost\nx-amz-date:%s\nx-amz-target:AWSStepFunctions.ListStateMachines\n"
         "\nhost;x-amz-date;x-amz-target\n%s") % (date, hashlib.sha256(body.encode()).hexdigest())
to_sign = "AWS4-HMAC-SHA256\n%s\n%s/us-east-1/states/aws4_request\n%s" % (
    date, day, hashlib.sha256(canon.encode()).hexdigest())
k = ("AWS4" + SK).encode()
for part in (day, "us-east-1", "states", "aws4_request"):
    k = hmac.new(k, part.encode(), hashlib.sha256).digest()
sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
auth = ("authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/%s/us-east-1/states/aws4_request, "
        "SignedHeaders=host;x-amz-date;x-amz-target, Signature=%s") % (day, sig)
head = "host: localhost\nx-amz-date: %s\nx-amz-target: AWSStepFunctions.ListStateMachines\n" % date
write("sigv4", [head + auth + "\0" + body, head + auth + "\0{\"x\":1}",
                head + auth.replace("us-east-1", "eu-west-1") + "\0" + body,
                head.replace(date, "2026120ZT000000Z") + auth + "\0" + body,
                "authorization: AWS4-HMAC-SHA256 Credential=a/b\n\0"], 20)
