#!/usr/bin/env bash
# e2e: `sam3 tokenize` in argument mode and in --json mode, and its errors. $1 = the sam3 binary.
set -u
SAM3="$1"
fail=0
check() {  # check NAME EXPECTED ACTUAL
  if [ "$2" != "$3" ]; then
    echo "FAIL $1"; echo "  want: $2"; echo "  got:  $3"; fail=1
  else
    echo "ok   $1"
  fi
}
pad() {  # pad N: N zeros, space-separated, with a leading space
  local s=""; for ((i = 0; i < $1; i++)); do s+=" 0"; done; printf '%s' "$s"
}

# argument mode: one line of 32 ids per text (tokenizer_ve.py examples)
out=$("$SAM3" tokenize "a dog" "visual" "Red  Car's wheel!")
check "args rc" 0 $?
check "args output" "49406 320 1929 49407$(pad 28)
49406 7195 49407$(pad 29)
49406 736 1615 568 6744 256 49407$(pad 25)" "$out"

check "--context" "49406 3306 49407" "$("$SAM3" tokenize --context 3 "hello world")"
check "--context=N" "49406 3306 1002 49407 0 0" "$("$SAM3" tokenize --context=6 "hello world")"
check "-- ends options" "49406 268 1929 49407 0 0" "$("$SAM3" tokenize --context 6 -- "-dog")"

# --json mode
out=$(printf '["a dog", "&amp;lt;", "<start_of_text>", ""]' | "$SAM3" tokenize --json --context 5)
check "json rc" 0 $?
check "json output" "[[49406,320,1929,49407,0],[49406,283,49407,0,0],[49406,49406,49407,0,0],[49406,49407,0,0,0]]" "$out"
check "json empty array" "[]" "$(echo '[]' | "$SAM3" tokenize --json)"

# errors: non-zero exit and a message naming the problem
expect_error() {  # expect_error NAME PATTERN STDIN ARGS...
  local name="$1" pattern="$2" input="$3"; shift 3
  local err rc
  err=$(printf '%s' "$input" | "$SAM3" tokenize "$@" 2>&1 >/dev/null); rc=$?
  if [ $rc -eq 0 ]; then echo "FAIL $name: exit 0"; fail=1; return; fi
  if ! grep -q -- "$pattern" <<<"$err"; then echo "FAIL $name: message '$err' lacks '$pattern'"; fail=1; return; fi
  echo "ok   $name (rc $rc: $err)"
}
expect_error "bad json" "not valid JSON" '["a dog",' --json
expect_error "json not array" "must be a JSON array" '{"a": 1}' --json
expect_error "json non-string" "element 1 is a number" '["a", 3]' --json
expect_error "json null element" "element 0 is a null" '[null]' --json
expect_error "json plus args" "do not also give" '[]' --json "x"
expect_error "bad context" "--context" '' --context 0 "x"
expect_error "context not a number" "--context" '' --context abc "x"
expect_error "missing context" "--context needs a value" '' --context
expect_error "unknown option" "unknown option" '' --bogus
expect_error "no texts" "usage" ''
expect_error "invalid utf-8 arg" "not valid UTF-8" '' "$(printf 'a\xffb')"
expect_error "invalid utf-8 json" "not valid JSON" "$(printf '["a\xffb"]')" --json

exit $fail
