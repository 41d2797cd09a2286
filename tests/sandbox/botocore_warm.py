"""Warm caches for the warm-start servers of the aws CLI and the eksctl emulator (forkserver.py
--preload botocore_warm:prewarm_aws_cli, botocore_warm:share_caches).

Each aws call builds a new botocore session (each eksctl emulator call a few clients). Its data loader lists every service directory
(about 6,000 stat calls) and parses the models it needs (service, endpoints, partitions, rule
sets) anew, and its event emitter inspects the signature of each of the ~390 handlers awscli
registers and rewrites each event name through the alias table: together about four fifths of
the 0.2 CPU-s a warm call cost. None of that depends on the call: the files do not change while
a sandbox runs, a function's signature and an event name's alias are fixed. So the server
computes them once and every forked call inherits them:

- every Loader with the same search paths shares one `instance_cache` dict (a loader on another
  AWS_DATA_PATH keeps its own), filled here for the services the tests call;
- every event aliaser on botocore's default alias table shares one alias-name cache;
- `accepts_kwargs` (botocore.hooks' signature check) remembers its answer per handler.

What a call does with them (its environment, config files, credentials, arguments, the
requests it sends) is untouched; test_forkserver.TestRealAwsWarmAndCold compares warm calls with cold
ones.
"""

import botocore.exceptions
import botocore.hooks
import botocore.loaders
import botocore.session

# what gitops-iam and the tests call through the aws CLI
SERVICES = ("iam", "sts", "eks", "cloudformation", "ec2")

_loader_caches = {}
_alias_names = {}
_accepts_kwargs = {}

_loader_init = botocore.loaders.Loader.__init__
_aliaser_init = botocore.hooks.EventAliaser.__init__
_inspect_accepts_kwargs = botocore.hooks.accepts_kwargs


def _loader_sharing_its_cache(self, *args, **kwargs):
    _loader_init(self, *args, **kwargs)
    self._cache = _loader_caches.setdefault(tuple(self.search_paths), {})


def _aliaser_sharing_its_alias_names(self, event_emitter, event_aliases=None):
    _aliaser_init(self, event_emitter, event_aliases)
    if event_aliases is None:
        self._alias_name_cache = _alias_names


def _remembered_accepts_kwargs(func):
    try:
        return _accepts_kwargs[func]
    except KeyError:
        answer = _accepts_kwargs[func] = _inspect_accepts_kwargs(func)
        return answer
    except TypeError:  # an unhashable callable
        return _inspect_accepts_kwargs(func)


def share_caches():
    """Installs the shared caches (filled by whatever runs next, in the server or a call)."""
    botocore.loaders.Loader.__init__ = _loader_sharing_its_cache
    botocore.hooks.EventAliaser.__init__ = _aliaser_sharing_its_alias_names
    botocore.hooks.accepts_kwargs = _remembered_accepts_kwargs


def prewarm_aws_cli():
    """Installs the shared caches and fills them as one call of the CLI would."""
    import awscli.clidriver

    share_caches()
    # a driver registers every handler awscli has (signatures and event names cached)
    driver = awscli.clidriver.create_clidriver()
    # the loader a session makes, on the search paths the CLI's sessions will have
    loader = driver.session.get_component("data_loader")
    for type_name in ("service-2", "paginators-1", "waiters-2"):
        loader.list_available_services(type_name)
    for name in ("endpoints", "partitions", "_retry", "sdk-default-configuration"):
        loader.load_data(name)
    for service in SERVICES:
        for type_name in ("service-2", "paginators-1", "waiters-2", "endpoint-rule-set-1"):
            try:
                loader.load_service_model(service, type_name)
            except botocore.exceptions.DataNotFoundError:
                pass  # not every service has every kind of file
