#!/usr/bin/env bash
# The AWS CLI against `expressway serve`: create, start sync, start async, describe, list,
# delete, validate, test-state, and error cases. Prints "N passed, M failed"; exits non-zero on
# any failure. EXPRESSWAY_BIN overrides the binary, AWS the aws command.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="${EXPRESSWAY_BIN:-$ROOT/target/debug/expressway}"
AWS="${AWS:-aws}"
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_DEFAULT_REGION=us-east-1
export AWS_DISABLE_HOST_PREFIX_INJECTION=true AWS_PAGER="" AWS_MAX_ATTEMPTS=1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

OUT="$(mktemp)"
"$BIN" serve --listen 127.0.0.1:0 >"$OUT" 2>/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -f "$OUT"' EXIT
for _ in $(seq 100); do grep -q listening "$OUT" && break; sleep 0.05; done
EP="$(sed -n 's/^listening on //p' "$OUT")"
sfn() { "$AWS" stepfunctions --endpoint-url "$EP" --output json "$@"; }

passed=0; failed=0
check() { # name, command output, python expression over `o` (parsed JSON)
  if python3 -c "import json,sys; o=json.loads(sys.argv[1]); sys.exit(0 if ($3) else 1)" "$2" 2>/dev/null; then
    passed=$((passed+1)); echo "ok   $1"
  else
    failed=$((failed+1)); echo "FAIL $1: $2"
  fi
}
check_err() { # name, expected error code, command...
  local name="$1" code="$2"; shift 2
  local err; err="$("$@" 2>&1 >/dev/null)"
  if [[ "$err" == *"($code)"* ]]; then passed=$((passed+1)); echo "ok   $name"
  else failed=$((failed+1)); echo "FAIL $name: $err"; fi
}

ROLE=arn:aws:iam::123456789012:role/r
DEF='{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"greeting.$":"States.Format('"'"'Hello, {}'"'"', $.who)"},"End":true}}}'
o="$(sfn create-state-machine --name cli-hello --type EXPRESS --role-arn $ROLE --definition "$DEF")"
check create "$o" 'o["stateMachineArn"].endswith(":stateMachine:cli-hello")'
ARN="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["stateMachineArn"])' "$o")"
o="$(sfn start-sync-execution --state-machine-arn "$ARN" --input '{"who":"CLI"}')"
check start-sync "$o" 'o["status"]=="SUCCEEDED" and json.loads(o["output"])=={"greeting":"Hello, CLI"}'
o="$(sfn start-execution --state-machine-arn "$ARN" --input '{"who":"bg"}')"
check start-execution "$o" '":express:cli-hello:" in o["executionArn"]'
o="$(sfn describe-state-machine --state-machine-arn "$ARN")"
check describe "$o" 'o["name"]=="cli-hello" and o["type"]=="EXPRESS"'
o="$(sfn list-state-machines)"
check list "$o" 'any(m["name"]=="cli-hello" for m in o["stateMachines"])'
o="$(sfn validate-state-machine-definition --definition "$DEF")"
check validate "$o" 'o["result"]=="OK"'
o="$(sfn test-state --definition '{"Type":"Pass","Result":1,"Next":"X"}' --input '{}')"
check test-state "$o" 'o["status"]=="SUCCEEDED" and o["nextState"]=="X" and o["output"]=="1"'
o="$(sfn create-state-machine --name cli-std --role-arn $ROLE --definition "$DEF")"
STD="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["stateMachineArn"])' "$o")"
o="$(sfn start-execution --state-machine-arn "$STD" --name run1 --input '{"who":"std"}')"
EX="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["executionArn"])' "$o")"
sleep 0.3
o="$(sfn describe-execution --execution-arn "$EX")"
check describe-execution "$o" 'o["status"]=="SUCCEEDED"'
check_err invalid-name InvalidName sfn create-state-machine --name "bad name" --role-arn $ROLE --definition "$DEF"
check_err invalid-definition InvalidDefinition sfn create-state-machine --name x --role-arn $ROLE --definition '{"StartAt":"Nope","States":{}}'
check_err no-machine StateMachineDoesNotExist sfn describe-state-machine --state-machine-arn "${ARN}-ghost"
check_err invalid-arn InvalidArn sfn describe-state-machine --state-machine-arn nope
check_err bad-input InvalidExecutionInput sfn start-sync-execution --state-machine-arn "$ARN" --input '{x'
o="$(sfn delete-state-machine --state-machine-arn "$ARN")"
check_err deleted StateMachineDoesNotExist sfn describe-state-machine --state-machine-arn "$ARN"

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
