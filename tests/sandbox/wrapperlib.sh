# shellcheck shell=bash
# Sourced by tests/sandbox/bin/aws and bin/kubectl (bash).
#
# Command log + fault injection, same protocol as sandboxlib.record_command
# (Python, used by bin/eksctl; docs/sandbox.md "Command log"): under
# `flock DIR/.lock`, bump DIR/mutating-count for a mutating command, decide
# injection, append one JSON line to DIR/commands.log:
#   {"argv":[TOOL,ARG...],"mutating":BOOL,"injected":BOOL}
# byte for byte what Python's json.dumps(..., ensure_ascii=False,
# separators=(",", ":")) writes.  Pure bash: no process per call but flock.
# Keep sb_quote identical to sandboxlib.shell_quote (SANDBOX_FAIL_MATCH matches
# the shell-quoted line).

sb_die() {
  printf 'sandbox %s wrapper: %s\n' "$SB_TOOL" "$1" >&2
  exit 1
}

# sb_quote WORD -> REPLY (shell-quoted, always one line)
sb_quote() {
  local s=$1
  if [[ -z $s ]]; then REPLY="''"; return; fi
  if [[ $s =~ ^[A-Za-z0-9@%+=:,./_-]+$ ]]; then REPLY=$s; return; fi
  if [[ $s =~ [[:cntrl:]] ]]; then
    local out="\$'" i c h
    for ((i = 0; i < ${#s}; i++)); do
      c=${s:i:1}
      case $c in
        \\) out+="\\\\" ;;
        \') out+="\\'" ;;
        $'\n') out+='\n' ;;
        $'\t') out+='\t' ;;
        $'\r') out+='\r' ;;
        *)
          if [[ $c =~ [[:cntrl:]] ]]; then
            printf -v h '\\x%02x' "'$c"
            out+=$h
          else
            out+=$c
          fi
          ;;
      esac
    done
    REPLY="$out'"
    return
  fi
  REPLY="'${s//\'/\'\"\'\"\'}'"
}

# sb_json_string WORD -> REPLY (a JSON string; UTF-8 passes through, as in json.dumps)
sb_json_string() {
  local s=$1
  if [[ $s == *[\"\\[:cntrl:]]* ]]; then
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\n'/\\n}
    s=${s//$'\t'/\\t}
    s=${s//$'\r'/\\r}
    s=${s//$'\b'/\\b}
    s=${s//$'\f'/\\f}
    if [[ $s == *[[:cntrl:]]* ]]; then
      # the rare rest of U+0001..U+001F (DEL and above stay raw, as JSON allows)
      local i h c
      for ((i = 1; i < 32; i++)); do
        printf -v h '%02x' "$i"
        printf -v c %b "\\x$h"
        s=${s//"$c"/\\u00$h}
      done
    fi
  fi
  REPLY="\"$s\""
}

# sb_record KIND ARGV... ; sets SB_INJECT=1 when this command must fail
sb_record() {
  local kind=$1
  shift
  SB_INJECT=
  local json w
  sb_json_string "$SB_TOOL"
  json="{\"argv\":[$REPLY"
  for w in "$@"; do
    sb_json_string "$w"
    json+=",$REPLY"
  done
  local d=$GITOPS_IAM_SANDBOX
  exec 9>>"$d/.lock" || sb_die "cannot open $d/.lock"
  flock 9
  if [[ $kind == mutating ]]; then
    local n=0
    if [[ -f $d/mutating-count ]]; then read -r n <"$d/mutating-count" || n=0; fi
    [[ $n =~ ^[0-9]+$ ]] || n=0
    n=$((n + 1))
    printf '%d\n' "$n" >"$d/mutating-count"
    if [[ -n ${SANDBOX_FAIL_NTH:-} && ${SANDBOX_FAIL_NTH// /} == "$n" ]]; then SB_INJECT=1; fi
    if [[ -n ${SANDBOX_FAIL_MATCH:-} ]]; then
      local line=$SB_TOOL
      for w in "$@"; do
        sb_quote "$w"
        line+=" $REPLY"
      done
      if [[ $line =~ $SANDBOX_FAIL_MATCH ]]; then SB_INJECT=1; fi
    fi
  fi
  local mutating=false injected=false
  [[ $kind == mutating ]] && mutating=true
  [[ -n $SB_INJECT ]] && injected=true
  printf '%s],"mutating":%s,"injected":%s}\n' "$json" "$mutating" "$injected" >>"$d/commands.log"
  flock -u 9
  exec 9>&-
}

sb_require_sandbox() {
  [[ -n ${GITOPS_IAM_SANDBOX:-} ]] || sb_die "GITOPS_IAM_SANDBOX is not set: source DIR/env.sh of a started sandbox (tests/sandbox/sandbox start DIR)"
  [[ -d $GITOPS_IAM_SANDBOX ]] || sb_die "GITOPS_IAM_SANDBOX=$GITOPS_IAM_SANDBOX does not exist (sandbox removed?)"
}
