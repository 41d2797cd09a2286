#!/usr/bin/env -S python3 -I -S
"""A stand-in for `aws`, `eksctl` and `kubectl` in gitops-iam's integration tests.

The harness (tests/harness.rs) links this file into a per-test `bin/` as each of the three
programs; the name it is called by is the program. Every call

1. waits while a *wait rule* matching it says so (see below), then
2. appends one JSON line to $FAKE_LOG: {"program", "argv", "rule", "exit", "waited_out"}, and
3. answers from the first *answer rule* in $FAKE_RULES that matches: stdout, stderr, exit code.
   A call no rule matches exits 0 with empty output (`"rule": null` in the log, so tests can
   insist that every read was answered on purpose).

A rule (JSON object; the Rust side builds them, see tests/fakes/mod.rs):
  program     "aws" | "eksctl" | "kubectl"
  contains    substring of the space-joined argv, or
  regex       Python regex searched in the space-joined argv
  after       only once an earlier logged call's "program argv..." line contains this
  times       only for the first N calls this rule answered
  skip        only once N earlier calls matched program + contains/regex
  wait_for    makes it a wait rule: hold the call until a logged call's line contains this
              (at most wait_seconds, default 10), then go on to the answer rules
  stdout, stderr, exit

With FAKE_AWS_CLI=2 the fake `aws` is CLI v2 for errors: an answer written as v1 prints it
(`\nAn error occurred (CODE) when calling the OP operation: MSG\n`, exit 255) comes out as v2
prints it (exit 254) in the error format v2 resolves: `--cli-error-format`, else
AWS_CLI_ERROR_FORMAT, else the profile's `cli_error_format` (AWS_CONFIG_FILE or ~/.aws/config;
`--profile`, else AWS_PROFILE, else default), else `enhanced` (aws-cli v2 `awscli/clidriver.py`
`_construct_cli_error_format_chain`, `awscli/errorhandler.py`, `awscli/errorformat.py`).
`table` is not emulated. Every log entry also records the child's AWS_CLI_* variables ("env").

Wait rules exist because gitops-iam runs independent branches concurrently: they let a test
pin the interleaving (the order the dry-run script prints), so a full ordered list of commands
can be asserted without flakiness. A call is logged after its wait, so the log is in the order
the calls took effect.
"""

import configparser
import fcntl
import json
import os
import re
import sys
import time

V1_ERROR = re.compile(r"^\nAn error occurred \(([^)]*)\) when calling the (\w+) operation: (.*)\n$", re.S)


def joined(entry):
    return " ".join(entry["argv"])


def line(entry):
    return entry["program"] + " " + joined(entry)


def read_log(path):
    """The log's entries, read under the writers' lock (shared): never a half-written line."""
    with open(path + ".lock", "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        return read_log_unlocked(path)


def read_log_unlocked(path):
    """The log's entries; the caller holds the lock."""
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(raw) for raw in f if raw.strip()]
    except FileNotFoundError:
        return []


def pattern_matches(rule, program, args):
    if rule.get("program") not in (None, program):
        return False
    if "contains" in rule and rule["contains"] not in args:
        return False
    if "regex" in rule and re.search(rule["regex"], args) is None:
        return False
    return True


def applies(rule, index, program, args, log):
    if not pattern_matches(rule, program, args):
        return False
    after = rule.get("after")
    if after is not None and not any(after in line(e) for e in log):
        return False
    skip = rule.get("skip")
    if skip is not None:
        seen = sum(1 for e in log if pattern_matches(rule, e["program"], joined(e)))
        if seen < skip:
            return False
    times = rule.get("times")
    if times is not None and sum(1 for e in log if e.get("rule") == index) >= times:
        return False
    return True


def option(argv, name):
    for i, word in enumerate(argv):
        if word == name and i + 1 < len(argv):
            return argv[i + 1]
        if word.startswith(name + "="):
            return word.split("=", 1)[1]
    return None


def profile_setting(argv, key):
    """A setting of the active profile, as the CLI's ScopedConfigProvider reads it."""
    profile = option(argv, "--profile") or os.environ.get("AWS_PROFILE") or "default"
    path = os.environ.get("AWS_CONFIG_FILE") or os.path.expanduser("~/.aws/config")
    config = configparser.RawConfigParser()
    config.read(path)
    section = "default" if profile == "default" else "profile " + profile
    return config.get(section, key, fallback=None)


def v2_error(stderr, argv):
    """A v1 error text as CLI v2 prints it (exit 254, `ClientErrorHandler.RC`)."""
    match = V1_ERROR.match(stderr)
    if match is None:
        return stderr
    code, op, message = match.groups()
    fmt = (
        option(argv, "--cli-error-format")
        or os.environ.get("AWS_CLI_ERROR_FORMAT")
        or profile_setting(argv, "cli_error_format")
        or "enhanced"
    ).lower()
    info = {"Code": code, "Message": message}
    if fmt == "json":
        return json.dumps(info, indent=4, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        return "".join(f"{k}: {json.dumps(v)}\n" for k, v in info.items())
    if fmt == "text":
        return f"{code}\t{message}\n"
    # legacy, enhanced (no fields beyond Code and Message) and anything unknown.
    return f"\naws: [ERROR]: An error occurred ({code}) when calling the {op} operation: {message}"


def main():
    program = os.path.basename(sys.argv[0])
    argv = sys.argv[1:]
    args = " ".join(argv)
    log_path = os.environ["FAKE_LOG"]
    with open(os.environ["FAKE_RULES"], encoding="utf-8") as f:
        rules = json.load(f)

    waited_out = False
    for index, rule in enumerate(rules):
        target = rule.get("wait_for")
        if target is None or not applies(rule, index, program, args, read_log(log_path)):
            continue
        deadline = time.monotonic() + rule.get("wait_seconds", 10)
        while not any(target in line(e) for e in read_log(log_path)):
            if time.monotonic() > deadline:
                waited_out = True
                break
            time.sleep(0.01)

    with open(log_path + ".lock", "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        log = read_log_unlocked(log_path)
        chosen = None
        for index, rule in enumerate(rules):
            if "wait_for" not in rule and applies(rule, index, program, args, log):
                chosen = index
                break
        answer = dict(rules[chosen]) if chosen is not None else {}
        if program == "aws" and os.environ.get("FAKE_AWS_CLI") == "2" and answer.get("exit") == 255:
            answer["stderr"] = v2_error(answer.get("stderr", ""), argv)
            answer["exit"] = 254
        entry = {
            "program": program,
            "argv": argv,
            "rule": chosen,
            "exit": answer.get("exit", 0),
            "waited_out": waited_out,
            "env": {k: v for k, v in os.environ.items() if k.startswith("AWS_CLI_")},
        }
        with open(log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    sys.stdout.write(answer.get("stdout", ""))
    sys.stderr.write(answer.get("stderr", ""))
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(answer.get("exit", 0))


main()
