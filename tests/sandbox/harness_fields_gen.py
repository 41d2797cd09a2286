#!/usr/bin/env python3
"""Generate harness_fields.json: the JSON field names (and their swagger types) of the Harness
GitOps API models the stand-in validates request bodies against (harness_apps.py,
harness_agents.py), the values of the agent enums, and the query parameters of the agent calls.

The source is Harness's published OpenAPI client, PyPI `harness-open-api` (a swagger-codegen
client: every model class has `swagger_types` and `attribute_map`). The wheel is read, never
imported (its `models/token.py` shadows the standard library's `token`):

  python3 tests/sandbox/harness_fields_gen.py harness_open_api-2.0.1-py3-none-any.whl \
      > tests/sandbox/harness_fields.json

Only the models reachable from ROOTS are written, each as {json name: swagger type}; ENUMS as
lists of values; CALLS (methods of api/agents_api.py) as {method, path, query}.
"""

import ast
import json
import re
import sys
import zipfile

ROOTS = [
    "RepositoriesRepoCreateRequest",
    "Servicev1Repository",
    "ApplicationsApplicationCreateRequest",
    "ApplicationsApplicationSyncRequest",
    "Servicev1Application",
    "V1Agent",
]
ENUMS = {"V1AgentType": "v1_agent_type.py", "V1ConnectedStatus": "v1_connected_status.py",
         "Servicev1HealthStatus": "servicev1_health_status.py"}
# agents_api.py method -> the key it is stored under
CALLS = {
    "agent_service_for_server_create_with_http_info": "create",
    "agent_service_for_server_get_with_http_info": "get",
    "agent_service_for_server_delete_with_http_info": "delete",
    "agent_service_for_server_get_deploy_yaml_with_http_info": "deploy_yaml",
}


def dict_assign(tree, target):
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == target for t in node.targets):
            return ast.literal_eval(node.value)
    raise KeyError(target)


def classes(zf):
    """Class name -> file of every model (file names do not follow one rule for acronyms)."""
    index = {}
    for path in zf.namelist():
        if path.startswith("harness_open_api/models/") and path.endswith(".py"):
            m = re.search(r"^class (\w+)\(", zf.read(path).decode(), re.M)
            if m:
                index[m.group(1)] = path
    return index


def model(zf, path):
    tree = ast.parse(zf.read(path).decode())
    types, names = dict_assign(tree, "swagger_types"), dict_assign(tree, "attribute_map")
    return {names[k]: v for k, v in types.items()}


def referenced(swagger_type):
    return [t for t in re.findall(r"[A-Za-z0-9]+", swagger_type)
            if t[0].isupper() and t not in ("str", "int", "bool", "object", "float", "datetime", "list", "dict")]


def main(wheel):
    with zipfile.ZipFile(wheel) as zf:
        version = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = zf.read(version).decode()
        out = {"_source": "PyPI harness-open-api %s (models/*.py swagger_types, attribute_map)"
               % re.search(r"^Version: (.+)$", meta, re.M).group(1), "models": {}}
        index = classes(zf)
        todo, seen = list(ROOTS), set()
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            src = zf.read(index[name]).decode()
            if re.search(r'^    [A-Z_]+ = "[A-Z_]+"$', src, re.M):
                continue  # an enum (its values below, for the ones in ENUMS): a string, no object
            fields = model(zf, index[name])
            out["models"][name] = fields
            for t in fields.values():
                todo.extend(referenced(t))
        out["enums"] = {}
        for enum, f in ENUMS.items():
            src = zf.read("harness_open_api/models/" + f).decode()
            out["enums"][enum] = re.findall(r'^    [A-Z_]+ = "([A-Z_]+)"$', src, re.M)
        out["queries"] = {}
        api = zf.read("harness_open_api/api/agents_api.py").decode()
        for method, key in CALLS.items():
            body = api.split("def %s(" % method, 1)[1].split("\n    def ", 1)[0]
            path, verb = re.search(r"'(/gitops/api/v1/agents[^']*)', '([A-Z]+)'", body).groups()
            query = re.findall(r"query_params\.append\(\('([^']+)'", body)
            out["queries"][key] = {"method": verb, "path": path, "query": query}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
