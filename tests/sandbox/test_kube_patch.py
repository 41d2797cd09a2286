"""Tests for the kube emulator's patch functions (kube_patch.py), called directly: no server.

One test per directive the emulator implements, each asserting the exact result real Kubernetes
gives: RFC 6902 (JSON patch, as evanphx/json-patch applies it), RFC 7386 (merge patch) and
k8s.io/apimachinery/pkg/util/strategicpatch/patch.go (strategic merge patch). Where the emulator
departs from Kubernetes, there is no test here: README-kubeapi.md lists what is simplified.

Run from the repository root:  python3 -m unittest tests/sandbox/test_kube_patch.py
"""
from __future__ import annotations

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from kube_patch import PatchError, json_patch, merge_patch, strategic_merge


class TestJsonPatch(unittest.TestCase):
    """RFC 6902, section 4 (one operation each) and section 5 (a failing operation fails all)."""

    DOC = {"metadata": {"name": "sa", "annotations": {"a": "1"}}, "items": ["x", "y"]}

    def test_add_sets_a_member_and_inserts_into_an_array(self):
        doc = json_patch(self.DOC, [
            {"op": "add", "path": "/metadata/annotations/b", "value": "2"},
            {"op": "add", "path": "/items/1", "value": "new"},  # inserted before index 1 (4.1)
            {"op": "add", "path": "/items/-", "value": "last"},  # "-": past the end (RFC 6901 §4)
        ])
        self.assertEqual(doc, {"metadata": {"name": "sa", "annotations": {"a": "1", "b": "2"}},
                               "items": ["x", "new", "y", "last"]})

    def test_add_below_a_missing_parent_fails(self):
        # 4.1: the target's parent must exist; kubectl's tutorial `add /metadata/labels/x` hits this
        with self.assertRaisesRegex(PatchError, "add operation does not apply: doc is missing path"):
            json_patch(self.DOC, [{"op": "add", "path": "/metadata/labels/x", "value": "1"}])

    def test_remove_deletes_a_member_or_an_element(self):
        doc = json_patch(self.DOC, [{"op": "remove", "path": "/metadata/annotations/a"},
                                    {"op": "remove", "path": "/items/0"}])
        self.assertEqual(doc, {"metadata": {"name": "sa", "annotations": {}}, "items": ["y"]})

    def test_remove_of_a_missing_member_fails(self):
        with self.assertRaisesRegex(PatchError, "Unable to remove nonexistent key: b"):
            json_patch(self.DOC, [{"op": "remove", "path": "/metadata/annotations/b"}])

    def test_replace_changes_an_existing_value_only(self):
        doc = json_patch(self.DOC, [{"op": "replace", "path": "/metadata/annotations/a", "value": "9"},
                                    {"op": "replace", "path": "/items/1", "value": "z"}])
        self.assertEqual(doc, {"metadata": {"name": "sa", "annotations": {"a": "9"}}, "items": ["x", "z"]})
        # 4.3: "The target location MUST exist for the operation to be successful."
        with self.assertRaisesRegex(PatchError, "replace operation does not apply: doc is missing key"):
            json_patch(self.DOC, [{"op": "replace", "path": "/metadata/annotations/b", "value": "9"}])

    def test_test_passes_on_an_equal_value_and_fails_the_whole_patch_otherwise(self):
        ops = [{"op": "test", "path": "/metadata/annotations", "value": {"a": "1"}},
               {"op": "replace", "path": "/metadata/name", "value": "renamed"}]
        self.assertEqual(json_patch(self.DOC, ops)["metadata"]["name"], "renamed")
        ops = [{"op": "replace", "path": "/metadata/name", "value": "renamed"},
               {"op": "test", "path": "/metadata/annotations/a", "value": "2"}]
        with self.assertRaisesRegex(PatchError, "testing value /metadata/annotations/a failed"):
            json_patch(self.DOC, ops)
        self.assertEqual(self.DOC["metadata"]["name"], "sa")  # section 5: nothing applied

    def test_move_removes_the_source(self):
        doc = json_patch(self.DOC, [{"op": "move", "from": "/metadata/annotations/a",
                                     "path": "/metadata/annotations/moved"}])
        self.assertEqual(doc["metadata"]["annotations"], {"moved": "1"})

    def test_copy_keeps_the_source_and_copies_by_value(self):
        doc = json_patch(self.DOC, [{"op": "copy", "from": "/metadata/annotations", "path": "/copied"},
                                    {"op": "add", "path": "/copied/b", "value": "2"}])
        self.assertEqual(doc["metadata"]["annotations"], {"a": "1"})
        self.assertEqual(doc["copied"], {"a": "1", "b": "2"})

    def test_pointer_escapes(self):
        # RFC 6901 §4: "~1" is "/", "~0" is "~"; an annotation key with a "/" is reached so
        doc = json_patch({"metadata": {"annotations": {}}}, [
            {"op": "add", "path": "/metadata/annotations/eks.amazonaws.com~1role-arn", "value": "arn"},
            {"op": "add", "path": "/metadata/annotations/a~0b", "value": "t"}])
        self.assertEqual(doc["metadata"]["annotations"], {"eks.amazonaws.com/role-arn": "arn", "a~b": "t"})

    def test_an_unknown_operation_fails(self):
        with self.assertRaisesRegex(PatchError, "Unexpected kind: merge"):
            json_patch(self.DOC, [{"op": "merge", "path": "/items", "value": []}])


class TestMergePatch(unittest.TestCase):
    """RFC 7386: the test cases of its Appendix A, verbatim."""

    def test_appendix_a(self):
        cases = [
            ({"a": "b"}, {"a": "c"}, {"a": "c"}),
            ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
            ({"a": "b"}, {"a": None}, {}),
            ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
            ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
            ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
            ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
            ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
            (["a", "b"], ["c", "d"], ["c", "d"]),
            ({"a": "b"}, ["c"], ["c"]),
            ({"a": "foo"}, None, None),
            ({"a": "foo"}, "bar", "bar"),
            ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
            ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
            ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
        ]
        for target, patch, want in cases:
            with self.subTest(target=target, patch=patch):
                self.assertEqual(merge_patch(target, patch), want)

    def test_null_deletes_a_nested_key_and_leaves_the_target_unchanged(self):
        target = {"metadata": {"annotations": {"eks.amazonaws.com/role-arn": "arn", "keep": "1"}}}
        got = merge_patch(target, {"metadata": {"annotations": {"eks.amazonaws.com/role-arn": None}}})
        self.assertEqual(got, {"metadata": {"annotations": {"keep": "1"}}})
        self.assertIn("eks.amazonaws.com/role-arn", target["metadata"]["annotations"])


def pod_spec(*containers):
    return {"spec": {"containers": list(containers)}}


class TestStrategicMergePatch(unittest.TestCase):
    """k8s.io/apimachinery/pkg/util/strategicpatch/patch.go (StrategicMergeMapPatch)."""

    def test_a_list_with_a_merge_key_merges_items_in_place(self):
        # containers: patchMergeKey "name"; an item found by its key is merged (mergeSliceWithoutSpecialElements)
        # and keeps its place (normalizeElementOrder: the live order ranks server-only and patched items)
        orig = pod_spec({"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1", "args": ["x"]})
        got = strategic_merge(orig, pod_spec({"name": "b", "image": "b:2"}))
        self.assertEqual(got, pod_spec({"name": "a", "image": "a:1"}, {"name": "b", "image": "b:2", "args": ["x"]}))

    def test_nested_merge_keys_env_by_name(self):
        orig = pod_spec({"name": "a", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]})
        got = strategic_merge(orig, pod_spec({"name": "a", "env": [{"name": "X", "value": "9"}]}))
        self.assertEqual(got, pod_spec({"name": "a", "env": [{"name": "X", "value": "9"}, {"name": "Y", "value": "2"}]}))

    def test_ports_merge_by_container_port_and_service_ports_by_port(self):
        # ContainerPort: patchMergeKey "containerPort"; ServicePort: patchMergeKey "port"
        orig = pod_spec({"name": "a", "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443}]})
        got = strategic_merge(orig, pod_spec({"name": "a", "ports": [{"containerPort": 80, "protocol": "UDP"}]}))
        self.assertEqual(got["spec"]["containers"][0]["ports"],
                         [{"containerPort": 80, "name": "http", "protocol": "UDP"}, {"containerPort": 443}])
        svc = {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 8443}]}}
        got = strategic_merge(svc, {"spec": {"ports": [{"port": 443, "targetPort": 9443}]}})
        self.assertEqual(got, {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 9443}]}})

    def test_a_list_without_a_merge_key_is_replaced(self):
        # args has no patchStrategy: mergeSliceHandler returns the patch's list
        orig = pod_spec({"name": "a", "args": ["x", "y"]})
        got = strategic_merge(orig, pod_spec({"name": "a", "args": ["z"]}))
        self.assertEqual(got, pod_spec({"name": "a", "args": ["z"]}))

    def test_null_deletes_a_key(self):
        orig = {"metadata": {"annotations": {"a": "1", "b": "2"}}}
        self.assertEqual(strategic_merge(orig, {"metadata": {"annotations": {"a": None}}}),
                         {"metadata": {"annotations": {"b": "2"}}})

    def test_patch_replace_in_a_map_replaces_the_map(self):
        # handleDirectiveInMergeMap: "$patch: replace" returns the patch without the directive
        orig = {"metadata": {"labels": {"a": "1", "b": "2"}}}
        got = strategic_merge(orig, {"metadata": {"labels": {"$patch": "replace", "c": "3"}}})
        self.assertEqual(got, {"metadata": {"labels": {"c": "3"}}})

    def test_patch_replace_in_a_list_replaces_the_list(self):
        # mergeSliceWithSpecialElements: a {"$patch": "replace"} element makes the other elements the list
        orig = pod_spec({"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"})
        got = strategic_merge(orig, pod_spec({"$patch": "replace"}, {"name": "c", "image": "c:1"}))
        self.assertEqual(got, pod_spec({"name": "c", "image": "c:1"}))

    def test_patch_delete_in_a_list_removes_the_item_with_that_key(self):
        # mergeSliceWithSpecialElements -> deleteMatchingEntries; an absent key deletes nothing
        orig = pod_spec({"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"})
        got = strategic_merge(orig, pod_spec({"name": "a", "$patch": "delete"}, {"name": "z", "$patch": "delete"}))
        self.assertEqual(got, pod_spec({"name": "b", "image": "b:1"}))

    def test_set_element_order_orders_the_merged_list(self):
        # mergePatchIntoOriginal: the list is merged, then sorted by $setElementOrder (kubectl apply sends it)
        orig = pod_spec({"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"})
        got = strategic_merge(orig, {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                                              "containers": [{"name": "a", "image": "a:2"}]}})
        self.assertEqual(got, pod_spec({"name": "b", "image": "b:1"}, {"name": "a", "image": "a:2"}))

    def test_retain_keys_clears_the_keys_not_listed(self):
        # applyRetainKeysDirective: what kubectl apply sends when a Deployment goes to Recreate
        # (DeploymentStrategy has patchStrategy "retainKeys")
        orig = {"spec": {"strategy": {"type": "RollingUpdate",
                                      "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}}}
        got = strategic_merge(orig, {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})
        self.assertEqual(got, {"spec": {"strategy": {"type": "Recreate"}}})

    def test_delete_from_primitive_list(self):
        # preprocessDeletionListForMerging + deleteFromSlice: every occurrence goes
        orig = {"metadata": {"finalizers": ["a", "b", "c"]}}
        got = strategic_merge(orig, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}})
        self.assertEqual(got, {"metadata": {"finalizers": ["a", "c"]}})

    def test_a_primitive_merge_list_does_not_repeat_an_item(self):
        # finalizers: patchStrategy "merge" on a list of strings: union, deduplicateScalars
        orig = {"metadata": {"finalizers": ["a", "b"]}}
        self.assertEqual(strategic_merge(orig, {"metadata": {"finalizers": ["b"]}}),
                         {"metadata": {"finalizers": ["a", "b"]}})

    def test_the_original_is_not_changed(self):
        orig = pod_spec({"name": "a", "image": "a:1"})
        strategic_merge(orig, pod_spec({"name": "a", "image": "a:2"}))
        self.assertEqual(orig, pod_spec({"name": "a", "image": "a:1"}))


if __name__ == "__main__":
    unittest.main()
