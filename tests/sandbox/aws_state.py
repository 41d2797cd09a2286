#!/bin/sh
''':'
# Polyglot header, as bin/eksctl: run by the sandbox's Python, warm when the sandbox has a
# fork server for it (the eksctl server, which has boto3 imported).
if [ -n "${SANDBOX_WARM_EKSCTL:-}" ] && [ -z "${SANDBOX_COLD:-}" ]; then
  exec "${SANDBOX_PYTHON:-python3}" -S -E "$(dirname "$0")/forkserver.py" "$SANDBOX_WARM_EKSCTL" "$0" "$@"
fi
exec "${SANDBOX_PYTHON:-python3}" "$0" "$@"
'''
"""Reads one account's EKS and IAM state in one process, for the tests' snapshots.

    tests/sandbox/aws_state.py --region REGION [--profile PROFILE]

Prints one JSON object: for each read the tests' snapshot makes, the aws CLI command that
makes it (`eks list-clusters`, `eks describe-cluster --name N`, `iam
list-open-id-connect-providers`, `iam get-open-id-connect-provider
--open-id-connect-provider-arn A`, `iam get-account-authorization-details --filter Role`)
mapped to what `aws ... --output json` prints for it. The reads go through botocore, the
library the aws CLI v1 is built on, configured as the CLI configures it (timestamps as on the
wire, every page merged, no ResponseMetadata): one process instead of a dozen CLI start-ups.
The e2e `up` test checks that both give the same state.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import sandbox_boto


def cli_output(response):
    response = dict(response)
    response.pop("ResponseMetadata", None)
    return response


def main(argv):
    region, profile = None, None
    args = argv[1:]
    while args:
        flag, value, args = args[0], args[1] if len(args) > 1 else None, args[2:]
        if flag == "--region" and value:
            region = value
        elif flag == "--profile" and value:
            profile = value
        else:
            sys.stderr.write(__doc__)
            return 2
    if not region:
        sys.stderr.write("aws_state.py: --region is required\n")
        return 2
    session = sandbox_boto.session(profile, region)
    # the aws CLI v1 default (cli_timestamp_format = wire): timestamps as the service sent them
    core = session._session
    timestamps = core.get_scoped_config().get("cli_timestamp_format", "wire")
    if timestamps not in ("wire", "none"):
        sys.stderr.write("aws_state.py: cli_timestamp_format = %s is not supported (wire only)\n" % timestamps)
        return 2
    core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=lambda x: x)
    eks, iam = session.client("eks"), session.client("iam")
    out = {}
    names = eks.get_paginator("list_clusters").paginate().build_full_result()
    out["eks list-clusters"] = cli_output(names)
    for name in names["clusters"]:
        out["eks describe-cluster --name %s" % name] = cli_output(eks.describe_cluster(name=name))
    providers = cli_output(iam.list_open_id_connect_providers())
    out["iam list-open-id-connect-providers"] = providers
    for p in providers["OpenIDConnectProviderList"]:
        got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=p["Arn"])
        out["iam get-open-id-connect-provider --open-id-connect-provider-arn %s" % p["Arn"]] = cli_output(got)
    details = iam.get_paginator("get_account_authorization_details").paginate(Filter=["Role"])
    out["iam get-account-authorization-details --filter Role"] = cli_output(details.build_full_result())
    # no default=: a value the CLI would format otherwise fails loudly here
    json.dump(out, sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
