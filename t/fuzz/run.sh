#!/usr/bin/env bash
# Build t/fuzz/fuzz_core.c with clang's libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer against the core's sources, and run it.
#
#   t/fuzz/run.sh OUTDIR                 the test suite's run: the seeds,
#                                        then FUZZ_RUNS (default 300000)
#                                        mutations from a fixed seed
#   t/fuzz/run.sh OUTDIR -max_total_time=600 -jobs=2 -workers=2
#                                        a longer hunt: any libFuzzer flags
#
# Needs clang and libclang-rt-14-dev (scripts/test.sh installs them).  The
# corpus grows in OUTDIR/corpus; a failing input is written to OUTDIR as
# crash-*, leak-* or timeout-* and the script fails.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:?usage: t/fuzz/run.sh OUTDIR [libFuzzer flags]}
shift
mkdir -p "$out/corpus"
cp -f "$here"/seeds/* "$out/corpus/"

# The core's sources: the one list Makefile.am builds libtodocore from.
mapfile -t srcs < <(grep -o 'mod_todo/todo_[a-z0-9_]*\.c' "$top/mod_todo/core.am" \
                    | sed "s|^|$top/|")
[ ${#srcs[@]} -gt 0 ] || { echo "no sources in mod_todo/core.am" >&2; exit 1; }

# shellcheck disable=SC2046  # word splitting of the config tools' flags
clang -g -O1 -Wall -Wextra -Werror \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$top/mod_todo" -I"$top/t/unit" -DTODO_TEST_DATA="\"$top/t/data\"" \
  $(apr-1-config --cppflags --includes) \
  $(pkg-config --cflags jansson openssl libcurl cmocka) \
  "$here/fuzz_core.c" "$top/t/unit/todo_test.c" "${srcs[@]}" \
  -o "$out/fuzz_core" \
  $(apr-1-config --link-ld --libs) \
  $(pkg-config --libs jansson openssl libcurl cmocka)

cd "$out"
if [ $# -eq 0 ]; then
  set -- -seed=1 -runs="${FUZZ_RUNS:-300000}"
fi
# -max_len: request bodies and tokens are bounded well below this in
# mod_todo; larger inputs only slow the search.
exec ./fuzz_core -max_len=4096 -timeout=10 -print_final_stats=1 "$@" corpus
