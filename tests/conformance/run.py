#!/usr/bin/env python3
"""Run the Step Functions conformance corpus against an engine and score it.

Expressway's copy of the measuring tool `../shared/conformance/run.py` (`../shared` is a folder
beside the repository, not part of it, holding the corpora, suites and bench harnesses shared with
other engines), kept here so that a clone without `../shared` runs it on
`tests/conformance/cases.jsonl` (the default `--cases`, the file beside this one). Changed from the original: `--fail-on-failure` (exit status 1 when a case
fails; the original always exits 0). Keep the two in step otherwise.

Endpoint mode (default), against anything that speaks the AWS Step Functions API:
    python3 run.py --endpoint http://127.0.0.1:PORT --cases cases.jsonl [--filter TAG] [--report out.json]
        [--async] [--type EXPRESS|STANDARD] [--jobs N] [--timeout 10]

Engine-CLI mode, one process per case:
    python3 run.py --mode engine-cli --cmd "engine run --definition {definition} --input {input}" --cases cases.jsonl
The command gets the definition and the input as JSON files (placeholders {definition}, {input};
{mocks} names a JSON file with the case's "mock" object, {name} a unique name) and must print a
JSON object {"status", "output", "error", "cause"} on stdout ("output" as a JSON value or as JSON
text, like the API's string).

Each case is created as a state machine (EXPRESS unless --type says otherwise, roleArn
arn:aws:iam::123456789012:role/DummyRole, a unique name) and run once, with StartSyncExecution
(or StartExecution + DescribeExecution polling with --async). Status, output and error are
compared with the expectation; cause too when the expectation has one. Comparison rules:
  * JSON values are compared as values (object key order does not matter; 1 == 1.0 unless
    --strict-numbers; true is not 1).
  * "normalise": JSON paths removed from both sides before comparing.
  * "wildcards": placeholder texts that LocalStack's snapshot tooling wrote in place of
    run-specific values (ARN parts, UUIDs, request ids...). In an expected string each one
    matches any text; an expected value that is exactly a placeholder matches any value.
  * "canon": the value-rewrites the snapshot tooling applied to what AWS returned, applied here
    to the engine's result: the account id of the created state machine becomes 111111111111,
    ISO-8601 timestamps become "date" (iso8601_date holds the exact pattern), values under keys
    containing "timestamp" become "timestamp" (timestamp_keys).
  * "cause_json": the expected cause is the parsed form of a JSON cause.
Cases whose "needs" is not ["none"] are skipped (counted apart), as are cases tagged "slow"
unless --include-slow, and, when the machines are EXPRESS, cases tagged "standard_only" unless
--include-standard-only. In engine-cli mode --with-mocks also runs cases that only need Lambda
and carry a "mock".
The last line printed is exactly: conformance: N passed, M failed
The exit status is 0, or 1 with --fail-on-failure when M > 0.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import hashlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict

DUMMY_ROLE = "arn:aws:iam::123456789012:role/DummyRole"
CANON_ACCOUNT = "111111111111"


# ---------------------------------------------------------------------------------------------
# comparison
# ---------------------------------------------------------------------------------------------


def _parse_path(path):
    """'$.output..Key[0].x[*]' -> list of steps: ('key', k) | ('deep', k) | ('idx', n) | ('any',)."""
    if not path.startswith("$"):
        raise ValueError(path)
    steps = []
    i = 1
    tok = re.compile(r"\.\.([A-Za-z0-9_\-$]+)|\.([A-Za-z0-9_\-$]+)|\[(\d+)\]|\[\*\]|\.\*")
    while i < len(path):
        m = tok.match(path, i)
        if not m:
            raise ValueError(f"bad path {path!r}")
        if m.group(1):
            steps.append(("deep", m.group(1)))
        elif m.group(2):
            steps.append(("key", m.group(2)))
        elif m.group(3):
            steps.append(("idx", int(m.group(3))))
        else:
            steps.append(("any",))
        i = m.end()
    return steps


def remove_path(obj, steps):
    """Remove every node the path designates (in place)."""
    if not steps:
        return
    step, rest = steps[0], steps[1:]
    kind = step[0]
    if kind == "key":
        if isinstance(obj, dict) and step[1] in obj:
            if rest:
                remove_path(obj[step[1]], rest)
            else:
                del obj[step[1]]
    elif kind == "idx":
        if isinstance(obj, list) and step[1] < len(obj):
            if rest:
                remove_path(obj[step[1]], rest)
            else:
                obj[step[1]] = None  # keep positions stable
    elif kind == "any":
        children = list(obj.keys()) if isinstance(obj, dict) else range(len(obj)) if isinstance(obj, list) else []
        for c in list(children):
            if rest:
                remove_path(obj[c], rest)
            elif isinstance(obj, dict):
                del obj[c]
            else:
                obj[c] = None
    elif kind == "deep":
        key = step[1]

        def walk(node):
            if isinstance(node, dict):
                if key in node:
                    if rest:
                        remove_path(node[key], rest)
                    else:
                        del node[key]
                for v in list(node.values()):
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(obj)


def _timestamp_keys(obj, iso_re):
    """Mirror of the snapshot rule: a value under a key containing 'timestamp' (any case), or
    creationTime/ingestionTime, that is not an ISO-8601 text becomes 'timestamp'."""
    key_re = re.compile(r"^.*timestamp.*$", re.IGNORECASE)
    if isinstance(obj, dict):
        for k, v in list(obj.items()):
            if (key_re.match(k) or k in ("creationTime", "ingestionTime")) and not (
                iso_re is not None and iso_re.match(str(v))
            ):
                obj[k] = "timestamp"
            elif isinstance(v, dict):
                _timestamp_keys(v, iso_re)
            elif isinstance(v, list):
                for item in v:
                    if isinstance(item, dict):
                        _timestamp_keys(item, iso_re)
    return obj


def canonicalise(value, canon, account):
    if not canon or value is None:
        return value
    text = json.dumps(value)
    iso_pat = canon.get("iso8601_date")
    iso_re = re.compile(iso_pat) if isinstance(iso_pat, str) else None
    if canon.get("timestamp_keys") and isinstance(value, dict):
        value = _timestamp_keys(json.loads(text), iso_re)
        text = json.dumps(value)
    if canon.get("account") and account and account != CANON_ACCOUNT:
        text = text.replace(account, CANON_ACCOUNT)
    if iso_re is not None:
        text = iso_re.sub("date", text)
    return json.loads(text)


class Matcher:
    def __init__(self, wildcards, strict_numbers=False):
        self.tokens = sorted(set(wildcards or []), key=len, reverse=True)
        self.strict_numbers = strict_numbers
        self.tok_re = re.compile("|".join(re.escape(t) for t in self.tokens)) if self.tokens else None

    def _str_match(self, exp, act):
        if self.tok_re is None or not self.tok_re.search(exp):
            return exp == act
        if exp in self.tokens:
            return True
        if not isinstance(act, str):
            return False
        parts = self.tok_re.split(exp)
        pattern = "(?:.*?)".join(re.escape(p) for p in parts)
        return re.fullmatch(pattern, act, re.S) is not None

    def eq(self, exp, act):
        if isinstance(exp, str):
            if self.tok_re is not None and exp in self.tokens:
                return True
            return isinstance(act, str) and self._str_match(exp, act)
        if isinstance(exp, bool) or isinstance(act, bool):
            return isinstance(exp, bool) and isinstance(act, bool) and exp == act
        if isinstance(exp, (int, float)):
            if not isinstance(act, (int, float)):
                return False
            if self.strict_numbers and (isinstance(exp, float) != isinstance(act, float)):
                return False
            return exp == act
        if exp is None:
            return act is None
        if isinstance(exp, list):
            return isinstance(act, list) and len(exp) == len(act) and all(self.eq(a, b) for a, b in zip(exp, act))
        if isinstance(exp, dict):
            return (
                isinstance(act, dict)
                and set(exp) == set(act)
                and all(self.eq(exp[k], act[k]) for k in exp)
            )
        return exp == act


def _as_json_value(text):
    """The API returns output as JSON text; an engine-cli may return either form."""
    if isinstance(text, str):
        try:
            return True, json.loads(text)
        except ValueError:
            return False, text
    return True, text


def compare(case, result, account, strict_numbers=False):
    """-> (passed: bool, reason: str | None, cause_only: bool)"""
    exp = case["expected"]
    canon = case.get("canon") or {}
    m = Matcher(case.get("wildcards"), strict_numbers)
    if result.get("status") != exp["status"]:
        detail = result.get("error") or ""
        return False, f"status {result.get('status')} != {exp['status']} {detail}".strip(), False

    normalise = [_parse_path(p) for p in case.get("normalise") or []]
    exp_doc = {"output": exp.get("output"), "error": exp.get("error"), "cause": exp.get("cause")}
    ok, act_out = _as_json_value(result.get("output")) if exp["status"] == "SUCCEEDED" else (True, None)
    if not ok:
        return False, "output is not JSON", False
    act_cause = result.get("cause")
    if exp.get("cause_json") and isinstance(act_cause, str):
        okc, parsed = _as_json_value(act_cause)
        act_cause = parsed if okc else act_cause
    act_doc = {"output": act_out, "error": result.get("error"), "cause": act_cause}
    act_doc = canonicalise(act_doc, canon, account)
    exp_doc = json.loads(json.dumps(exp_doc))
    for steps in normalise:
        remove_path(exp_doc, steps)
        remove_path(act_doc, steps)

    reasons = []
    if exp["status"] == "SUCCEEDED" and not m.eq(exp_doc.get("output"), act_doc.get("output")):
        reasons.append("output")
    if exp["status"] != "SUCCEEDED":
        if not m.eq(exp_doc.get("error"), act_doc.get("error")):
            reasons.append("error")
        if "cause" in exp and not m.eq(exp_doc.get("cause"), act_doc.get("cause")):
            reasons.append("cause")
    if not reasons:
        return True, None, False
    return False, "mismatch: " + ",".join(reasons), reasons == ["cause"]


# ---------------------------------------------------------------------------------------------
# engines
# ---------------------------------------------------------------------------------------------


class EndpointEngine:
    def __init__(self, endpoint, timeout, use_async, sm_type, region):
        import boto3
        from botocore.config import Config

        self.endpoint = endpoint
        self.timeout = timeout
        self.use_async = use_async
        self.sm_type = sm_type
        self.region = region
        self._local = threading.local()
        self._boto3 = boto3
        self._config = Config(
            connect_timeout=min(timeout, 10),
            read_timeout=timeout,
            retries={"max_attempts": 1, "mode": "standard"},
            # StartSyncExecution is modelled with the host prefix "sync-"; against a local
            # endpoint that would send the request to sync-127.0.0.1.
            inject_host_prefix=False,
        )

    def _client(self):
        c = getattr(self._local, "client", None)
        if c is None:
            c = self._boto3.session.Session().client(
                "stepfunctions",
                endpoint_url=self.endpoint,
                region_name=self.region,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=self._config,
            )
            self._local.client = c
        return c

    def run(self, case, name):
        from botocore.exceptions import BotoCoreError, ClientError

        sfn = self._client()
        try:
            created = sfn.create_state_machine(
                name=name,
                definition=json.dumps(case["definition"]),
                roleArn=DUMMY_ROLE,
                type=self.sm_type,
            )
        except ClientError as e:
            err = e.response.get("Error", {})
            return {"status": "CREATE_FAILED", "error": err.get("Code"), "cause": err.get("Message")}, None
        except BotoCoreError as e:
            return {"status": "TRANSPORT_ERROR", "error": type(e).__name__, "cause": str(e)}, None
        arn = created["stateMachineArn"]
        account = arn.split(":")[4] if arn.count(":") >= 5 else None
        try:
            if not self.use_async:
                resp = sfn.start_sync_execution(stateMachineArn=arn, input=json.dumps(case["input"]))
                return _result_from_response(resp), account
            resp = sfn.start_execution(stateMachineArn=arn, input=json.dumps(case["input"]))
            ex_arn = resp["executionArn"]
            deadline = time.monotonic() + self.timeout
            delay = 0.02
            while True:
                d = sfn.describe_execution(executionArn=ex_arn)
                if d.get("status") != "RUNNING":
                    return _result_from_response(d), account
                if time.monotonic() > deadline:
                    return {"status": "RUNNER_TIMEOUT", "error": "still RUNNING", "cause": None}, account
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
        except ClientError as e:
            err = e.response.get("Error", {})
            return {"status": "START_FAILED", "error": err.get("Code"), "cause": err.get("Message")}, account
        except BotoCoreError as e:
            return {"status": "TRANSPORT_ERROR", "error": type(e).__name__, "cause": str(e)}, account
        finally:
            try:
                sfn.delete_state_machine(stateMachineArn=arn)
            except Exception:  # noqa: BLE001
                pass


def _result_from_response(resp):
    out = {"status": resp.get("status")}
    for k in ("output", "error", "cause"):
        if k in resp:
            out[k] = resp[k]
    return out


class CliEngine:
    def __init__(self, cmd, timeout):
        self.cmd = cmd
        self.timeout = timeout

    def run(self, case, name):
        with tempfile.TemporaryDirectory(prefix="sfn-case-") as tmp:
            files = {}
            for key, value in (("definition", case["definition"]), ("input", case["input"]), ("mocks", case.get("mock") or {})):
                path = os.path.join(tmp, f"{key}.json")
                with open(path, "w") as fh:
                    json.dump(value, fh)
                files[key] = shlex.quote(path)
            command = self.cmd.format(definition=files["definition"], input=files["input"], mocks=files["mocks"], name=shlex.quote(name))
            proc = subprocess.Popen(
                ["/bin/sh", "-c", command],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,  # so a timeout can kill the whole process group
            )
            try:
                stdout, stderr = proc.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                try:
                    proc.communicate(timeout=2)
                except Exception:  # noqa: BLE001
                    pass
                return {"status": "RUNNER_TIMEOUT", "error": f"no answer in {self.timeout}s", "cause": None}, None
            text = (stdout or "").strip()
            try:
                res = json.loads(text)
            except ValueError:
                lines = [ln for ln in text.splitlines() if ln.strip()]
                try:
                    res = json.loads(lines[-1]) if lines else None
                except ValueError:
                    res = None
            if not isinstance(res, dict):
                return {
                    "status": "BAD_CLI_OUTPUT",
                    "error": f"rc={proc.returncode}",
                    "cause": (stderr or stdout or "")[-300:],
                }, None
            return res, res.get("account")


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------


def _post(url, timeout):
    import urllib.request

    try:
        urllib.request.urlopen(urllib.request.Request(url, data=b"", method="POST"), timeout=timeout).read()
    except Exception as e:  # noqa: BLE001
        print(f"warning: POST {url} failed: {e}", file=sys.stderr)


def load_cases(path):
    cases = []
    with open(path) as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if line:
                try:
                    cases.append(json.loads(line))
                except ValueError as e:
                    sys.exit(f"{path}:{n}: not JSON: {e}")
    return cases


def skip_reason(case, args):
    needs = case.get("needs") or ["none"]
    if needs != ["none"]:
        if args.mode == "engine-cli" and args.with_mocks and needs == ["lambda"] and case.get("mock"):
            pass
        else:
            return "needs:" + "+".join(needs)
    if "slow" in case.get("features", []) and not args.include_slow:
        return "slow"
    if args.sm_type == "EXPRESS" and "standard_only" in case.get("features", []) and not args.include_standard_only:
        return "standard_only"
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description="Step Functions conformance runner")
    ap.add_argument("--cases", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases.jsonl"))
    ap.add_argument("--mode", choices=["endpoint", "engine-cli"], default="endpoint")
    ap.add_argument("--endpoint", help="e.g. http://127.0.0.1:5055")
    ap.add_argument("--cmd", help="engine-cli command template")
    ap.add_argument("--filter", action="append", default=[], help="only cases with this feature tag (repeatable: all must match)")
    ap.add_argument("--id", action="append", default=[], help="only cases whose id contains this text (repeatable)")
    ap.add_argument("--report", help="write a JSON report here")
    ap.add_argument("--async", dest="use_async", action="store_true",
                    help="StartExecution + DescribeExecution polling instead of StartSyncExecution")
    ap.add_argument("--type", dest="sm_type", default="EXPRESS", choices=["EXPRESS", "STANDARD"])
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per request / per case (default 10)")
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--include-slow", action="store_true", help="also run cases tagged 'slow' (waits over 3 s)")
    ap.add_argument("--include-standard-only", action="store_true",
                    help="with --type EXPRESS, also run cases tagged 'standard_only'")
    ap.add_argument("--with-mocks", action="store_true", help="engine-cli: run Lambda cases that carry a mock")
    ap.add_argument("--strict-numbers", action="store_true", help="1 and 1.0 differ")
    ap.add_argument("--reset-url", help="POST to this URL after every case (for peers that leak state between "
                    "executions, e.g. moto's /moto-api/reset); implies --jobs 1")
    ap.add_argument("--show-failures", type=int, default=0, help="print the first N failures in detail")
    ap.add_argument("--fail-on-failure", action="store_true",
                    help="exit with status 1 when any case fails (default: 0, a measuring tool's)")
    args = ap.parse_args(argv)

    if args.mode == "endpoint" and not args.endpoint:
        ap.error("--endpoint is required in endpoint mode")
    if args.mode == "engine-cli" and not args.cmd:
        ap.error("--cmd is required in engine-cli mode")

    cases = load_cases(args.cases)
    if args.filter:
        cases = [
            c for c in cases
            if all(t in c.get("features", []) or t in c.get("needs", []) or t == c.get("group") for t in args.filter)
        ]
    if args.id:
        cases = [c for c in cases if any(s in c["id"] for s in args.id)]

    if args.mode == "endpoint":
        engine = EndpointEngine(args.endpoint, args.timeout, args.use_async, args.sm_type, args.region)
    else:
        engine = CliEngine(args.cmd, args.timeout)

    if args.reset_url:
        args.jobs = 1
    run_tag = hashlib.sha1(str(time.time()).encode()).hexdigest()[:6]
    results = {}
    to_run = []
    for i, case in enumerate(cases):
        why = skip_reason(case, args)
        if why:
            results[case["id"]] = {"outcome": "skipped", "reason": why}
        else:
            to_run.append((i, case))

    def one(item):
        i, case = item
        name = f"conf-{run_tag}-{i}"
        t0 = time.monotonic()
        try:
            res, account = engine.run(case, name)
        except Exception as e:  # noqa: BLE001 - a runner must not die on one case
            res, account = {"status": "RUNNER_ERROR", "error": type(e).__name__, "cause": str(e)[:300]}, None
        passed, reason, cause_only = compare(case, res, account, args.strict_numbers)
        if args.reset_url:
            _post(args.reset_url, args.timeout)
        return case["id"], {
            "outcome": "passed" if passed else "failed",
            "reason": reason,
            "cause_only": cause_only,
            "seconds": round(time.monotonic() - t0, 3),
            "actual": None if passed else res,
        }

    # hard ceiling so the runner never hangs, whatever the engine does
    pool = cf.ThreadPoolExecutor(max_workers=max(1, args.jobs))
    futures = {pool.submit(one, item): item for item in to_run}
    per_case_budget = args.timeout * (4 if args.use_async else 3) + 5
    overall_deadline = time.monotonic() + per_case_budget * max(1, len(to_run)) / max(1, args.jobs) + 30
    for fut in futures:
        remaining = overall_deadline - time.monotonic()
        try:
            cid, r = fut.result(timeout=max(1.0, remaining))
        except cf.TimeoutError:
            cid = futures[fut][1]["id"]
            r = {"outcome": "failed", "reason": "runner deadline", "cause_only": False}
        results[cid] = r
    pool.shutdown(wait=False, cancel_futures=True)

    # report
    by_tag = defaultdict(Counter)
    fail_reasons = Counter()
    for case in cases:
        r = results[case["id"]]
        for tag in case.get("features", []) or ["(none)"]:
            by_tag[tag][r["outcome"]] += 1
        by_tag["ALL"][r["outcome"]] += 1
        if r["outcome"] == "failed":
            reason = r.get("reason") or "?"
            fail_reasons[re.sub(r"status (\S+) != (\S+).*", r"status \1 != \2", reason)] += 1
    passed = sum(1 for r in results.values() if r["outcome"] == "passed")
    failed = sum(1 for r in results.values() if r["outcome"] == "failed")
    skipped = Counter(r["reason"] for r in results.values() if r["outcome"] == "skipped")
    cause_only = sum(1 for r in results.values() if r.get("cause_only"))

    print(f"{'tag':28s} {'passed':>7s} {'failed':>7s} {'skipped':>8s}")
    for tag in sorted(by_tag, key=lambda t: (t == "ALL", t)):
        c = by_tag[tag]
        print(f"{tag:28s} {c['passed']:7d} {c['failed']:7d} {c['skipped']:8d}")
    if fail_reasons:
        print("failure reasons:")
        for k, v in fail_reasons.most_common(15):
            print(f"  {v:5d}  {k}")
    print(f"failed only on cause text: {cause_only}")
    print(f"skipped: {sum(skipped.values())} ({', '.join(f'{k}={v}' for k, v in skipped.most_common())})")
    if args.show_failures:
        shown = 0
        for case in cases:
            r = results[case["id"]]
            if r["outcome"] != "failed":
                continue
            print(f"--- {case['id']}: {r.get('reason')}")
            print(f"    expected: {json.dumps(case['expected'])[:400]}")
            print(f"    actual:   {json.dumps(r.get('actual'))[:400]}")
            shown += 1
            if shown >= args.show_failures:
                break
    if args.report:
        with open(args.report, "w") as fh:
            json.dump(
                {
                    "cases": args.cases,
                    "mode": args.mode,
                    "endpoint": args.endpoint,
                    "async": args.use_async,
                    "type": args.sm_type,
                    "passed": passed,
                    "failed": failed,
                    "failed_only_on_cause": cause_only,
                    "skipped": dict(skipped),
                    "by_tag": {t: dict(c) for t, c in by_tag.items()},
                    "results": results,
                },
                fh,
                indent=1,
            )
    sys.stdout.flush()
    print(f"conformance: {passed} passed, {failed} failed")
    sys.stdout.flush()
    # os._exit: do not wait for worker threads stuck in an engine call.
    os._exit(1 if args.fail_on_failure and failed else 0)


if __name__ == "__main__":
    main()
