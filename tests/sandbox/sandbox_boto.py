"""boto3 sessions for the eksctl emulator, sharing one botocore data loader.

botocore reads and parses its JSON models (service, endpoints, partitions) anew for each
session, about 0.1 CPU-s an eksctl call. The emulator is ours, so it may keep them: the
fork server (forkserver.py) calls `prewarm()` once, and every call it forks finds them parsed.
The loader caches file contents only; what it searches (AWS_DATA_PATH) is read here, at import.
"""

import os

import botocore.loaders

# what bin/eksctl talks to
SERVICES = ("sts", "eks", "iam")

_loader = botocore.loaders.create_loader()


def session(profile, region):
    """boto3.Session(profile_name=PROFILE, region_name=REGION) on the shared loader."""
    import boto3
    import botocore.session

    core = botocore.session.Session(profile=profile)
    core.register_component("data_loader", _loader)
    # raises ProfileNotFound for a missing profile, as boto3.Session(profile_name=...) does
    core.get_scoped_config()
    return boto3.Session(botocore_session=core, region_name=region)


def prewarm():
    """Loads the models of SERVICES into the shared loader, whatever AWS settings the caller of
    `sandbox start` has (a stray AWS_PROFILE must not break it): with no AWS variable and
    empty config files for the time of the call."""
    saved = dict(os.environ)
    try:
        for key in [k for k in os.environ if k.startswith("AWS_")]:
            del os.environ[key]
        os.environ.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
        s = session(None, "us-east-1")
        for name in SERVICES:
            s.client(name, region_name="us-east-1", aws_access_key_id="prewarm", aws_secret_access_key="prewarm")
    finally:
        os.environ.clear()
        os.environ.update(saved)
