#!/usr/bin/env bash
# Builds the whole solution (samples and benchmarks included) with warnings as errors, runs the
# test suite, and ends with a plain "N passed, N failed" line. Exit code 0 only when all pass.
set -uo pipefail
cd "$(dirname "$0")"

# The data-parallel tests launch mpirun: Debian's OpenMPI, installed when missing (as root, or through sudo).
if ! command -v mpirun >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "== installing OpenMPI (openmpi-bin, libopenmpi-dev) for the data-parallel tests"
  $sudo apt-get update -qq && $sudo apt-get install -y -qq openmpi-bin libopenmpi-dev >/dev/null
fi

echo "== build (Release, warnings as errors)"
if ! dotnet build Lightning.sln -c Release -nologo -p:TreatWarningsAsErrors=true -warnaserror; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

echo "== test"
log=$(mktemp)
dotnet test Lightning.sln -c Release --no-build -nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# Sum the "Passed!/Failed!  - Failed: F, Passed: P, ..." summaries of every test assembly.
read -r passed failed runs < <(awk '
  /(Passed|Failed)! +- +Failed: +[0-9]+, +Passed: +[0-9]+/ {
    match($0, /Failed: +[0-9]+/); f += substr($0, RSTART + 8, RLENGTH - 8) + 0
    match($0, /Passed: +[0-9]+/); p += substr($0, RSTART + 8, RLENGTH - 8) + 0
    n++
  }
  END { printf "%d %d %d\n", p, f, n }' "$log")
rm -f "$log"

if [ "$runs" -eq 0 ] || [ "$passed" -eq 0 ]; then
  # The runner crashed or ran nothing: that is a failure, not a pass.
  echo "$passed passed, $((failed > 0 ? failed : 1)) failed"
  exit 1
fi
echo "$passed passed, $failed failed"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then exit 1; fi
exit 0
