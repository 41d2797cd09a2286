#!/usr/bin/env python3
"""Writes harness_fields.json: the JSON field names of the Harness GitOps API models the
stand-in validates requests against, and the query parameters of the agent calls, read from
Harness's published OpenAPI client (PyPI `harness-open-api`; its models' `attribute_map`s and
the `all_params`/`query_params` of `api/agents_api.py`).

Run: gen_harness_fields.py WHEEL > tests/sandbox/harness_fields.json
(the committed file was made from harness_open_api-2.0.1-py3-none-any.whl).
"""

import ast
import json
import re
import sys
import zipfile

MODELS = {
    "V1Agent": "v1_agent.py",
    "V1AgentMetadata": "v1_agent_metadata.py",
    "V1AgentCredentials": "v1_agent_credentials.py",
    "V1AgentHealth": "v1_agent_health.py",
    "V1AgentComponentHealth": "v1_agent_component_health.py",
}
ENUMS = {"V1AgentType": "v1_agent_type.py", "V1ConnectedStatus": "v1_connected_status.py",
         "Servicev1HealthStatus": "servicev1_health_status.py"}
# agents_api.py method -> the key it is stored under
CALLS = {
    "agent_service_for_server_create_with_http_info": "create",
    "agent_service_for_server_get_with_http_info": "get",
    "agent_service_for_server_delete_with_http_info": "delete",
    "agent_service_for_server_get_deploy_yaml_with_http_info": "deploy_yaml",
}


def dict_literal(src, name):
    m = re.search(r"%s = (\{.*?\})" % name, src, re.S)
    return ast.literal_eval(m.group(1))


def main(wheel):
    out = {"source": wheel.rsplit("/", 1)[-1], "models": {}, "enums": {}, "queries": {}}
    with zipfile.ZipFile(wheel) as z:
        for model, f in MODELS.items():
            src = z.read("harness_open_api/models/" + f).decode()
            attrs = dict_literal(src, "attribute_map")
            types = dict_literal(src, "swagger_types")
            out["models"][model] = {attrs[k]: types[k] for k in sorted(attrs)}
        for enum, f in ENUMS.items():
            src = z.read("harness_open_api/models/" + f).decode()
            out["enums"][enum] = re.findall(r'^    [A-Z_]+ = "([A-Z_]+)"$', src, re.M)
        api = z.read("harness_open_api/api/agents_api.py").decode()
        for method, key in CALLS.items():
            body = api.split("def %s(" % method, 1)[1].split("\n    def ", 1)[0]
            path, verb = re.search(r"'(/gitops/api/v1/agents[^']*)', '([A-Z]+)'", body).groups()
            query = re.findall(r"query_params\.append\(\('([^']+)'", body)
            out["queries"][key] = {"method": verb, "path": path, "query": query}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
