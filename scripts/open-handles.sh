#!/usr/bin/env bash
# Runs the suites that drive both adapters through faults with Jest's open-handle detection on, and
# fails if Jest reports any handle (a timer, socket or server) left open. --forceExit so that a leak
# fails here instead of hanging the run. The tests also compare process.getActiveResourcesInfo()
# before and after each schedule; this is the second, independent check the reliability issue asks for.
set -uo pipefail
cd "$(dirname "$0")/.."
files=("${@:-reliability/test/adapter-faults.test.ts}")
[ $# -eq 0 ] && files+=(reliability/test/secrets.test.ts)
out=$(npx jest --detectOpenHandles --forceExit "${files[@]}" 2>&1)
status=$?
echo "$out" | tail -n 8
if [ $status -ne 0 ]; then echo "open-handles: the suites failed"; exit $status; fi
if grep -q "open handle" <<<"$out"; then
  echo "$out" | sed -n '/open handle/,$p'
  echo "open-handles: Jest found handles left open"
  exit 1
fi
echo "open-handles: none left open"
