# sam3.cpp — what the e2e scripts (tests/e2e/*.sh) share, sourced by each: the failure flag and the reporting
# helpers; a script ends with `exit $fail`. It lives in lib/, out of the tests/e2e/*.sh glob, so it is no test itself.
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
check() {  # check NAME EXPECTED ACTUAL
  if [ "$2" != "$3" ]; then bad "$1"; echo "  want: $2"; echo "  got:  $3"; else ok "$1"; fi
}
has() {  # has NAME PATTERN TEXT: TEXT contains the fixed string PATTERN
  if grep -qF -- "$2" <<<"$3"; then ok "$1"; else bad "$1"; echo "  '$2' not in:"; sed 's/^/    /' <<<"$3" | head -20; fi
}
