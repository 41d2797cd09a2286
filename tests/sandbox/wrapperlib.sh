# shellcheck shell=bash
# Sourced by tests/sandbox/bin/aws and bin/kubectl (bash).
#
# Command log + fault injection, same protocol as sandboxlib.record_command
# (Python, used by bin/eksctl): under `flock DIR/.lock`, bump DIR/mutating-count
# for a mutating command, decide injection, append one line to
# DIR/commands.log:  TOOL<TAB>mutating|read<TAB>QUOTED ARGV[<TAB>injected]
# Keep sb_quote identical to sandboxlib.shell_quote.

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

# sb_record KIND ARGV... ; sets SB_INJECT=1 when this command must fail
sb_record() {
  local kind=$1
  shift
  SB_INJECT=
  local line=$SB_TOOL w
  for w in "$@"; do
    sb_quote "$w"
    line+=" $REPLY"
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
    if [[ -n ${SANDBOX_FAIL_MATCH:-} && $line =~ $SANDBOX_FAIL_MATCH ]]; then SB_INJECT=1; fi
  fi
  if [[ -n $SB_INJECT ]]; then
    printf '%s\t%s\t%s\tinjected\n' "$SB_TOOL" "$kind" "$line" >>"$d/commands.log"
  else
    printf '%s\t%s\t%s\n' "$SB_TOOL" "$kind" "$line" >>"$d/commands.log"
  fi
  flock -u 9
  exec 9>&-
}

sb_require_sandbox() {
  [[ -n ${GITOPS_IAM_SANDBOX:-} ]] || sb_die "GITOPS_IAM_SANDBOX is not set: source DIR/env.sh of a started sandbox (tests/sandbox/sandbox start DIR)"
  [[ -d $GITOPS_IAM_SANDBOX ]] || sb_die "GITOPS_IAM_SANDBOX=$GITOPS_IAM_SANDBOX does not exist (sandbox removed?)"
}
