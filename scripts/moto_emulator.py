#!/usr/bin/env python3
"""`moto_server` with three fixes to moto 5.2.5's CloudFormation, so CDK deployments work on it.

Usage (the rehearsal starts it; the arguments are moto_server's):

    .venv/bin/python scripts/moto_emulator.py -H 127.0.0.1 -p PORT

1. ``AWS::KMS::Key`` tags: a template has ``[{Key, Value}]``, moto's KMS backend expects the
   API's ``[{TagKey, TagValue}]``. Unfixed, every tagged key (ours all are: the organisation
   tags every resource) fails with ``KeyError: 'TagKey'``, ExecuteChangeSet returns HTTP 500,
   and the CDK CLI still reports the stack as deployed with half of its resources missing.
2. ``AWS::KMS::Key`` key policy: a JSON object in a template, a JSON string in the KMS API.
   Unfixed, the key is stored with a dict policy and every later ``DescribeKey`` returns 500.
3. Outputs and exports of stacks deployed through a change set (how the CDK CLI deploys): moto
   builds a change set's stack with an empty template, never rebuilds its outputs and never
   registers its exports, and gives it no access to other stacks' exports. Unfixed, every
   ``Fn::ImportValue`` (CDK's cross-stack references) fails with "No export named ... found".
   The fix does for change sets what moto's own CreateStack does: the stack resolves imports
   from the account's exports, and after execution its outputs are rebuilt from the executed
   template and its exports registered (replacing the stack's previous ones).

Each fix makes moto do what CloudFormation does; none makes a resource pass that would fail on
AWS. Everything else is moto as released.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from moto.cloudformation.models import ChangeSet, CloudFormationBackend
from moto.kms.models import Key
from moto.server import main

_create_key_from_template = Key.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
_execute_change_set = CloudFormationBackend.execute_change_set


def _api_shaped(properties: dict[str, Any]) -> dict[str, Any]:
    """The template's key properties with Tags and KeyPolicy in the KMS API's shape."""
    fixed = dict(properties)
    fixed["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in properties.get("Tags", [])]
    if isinstance(properties.get("KeyPolicy"), dict):
        fixed["KeyPolicy"] = json.dumps(properties["KeyPolicy"])
    return fixed


def _create_key(cls: type[Key], resource_name: str, cloudformation_json: dict[str, Any],
                account_id: str, region_name: str, **kwargs: Any) -> Key:
    template = {**cloudformation_json, "Properties": _api_shaped(cloudformation_json["Properties"])}
    return _create_key_from_template(cls, resource_name, template, account_id, region_name, **kwargs)


def _change_set(backend: CloudFormationBackend, name: str, stack_name: str | None) -> ChangeSet | None:
    """The change set ``name`` (an ARN, or a name within ``stack_name``) as moto's lookup finds it."""
    if name in backend.change_sets:
        return backend.change_sets[name]
    matches = [c for c in backend.change_sets.values() if c.change_set_name == name
               and stack_name in (None, c.stack.name, c.stack.stack_id)]
    return matches[-1] if matches else None


def _execute_change_set_with_exports(self: CloudFormationBackend, change_set_name: str,
                                     stack_name: str | None = None) -> None:
    change_set = _change_set(self, change_set_name, stack_name)
    if change_set is not None:
        change_set.stack.cross_stack_resources = self.exports
        change_set.stack.resource_map.cross_stack_resources = self.exports
    _execute_change_set(self, change_set_name, stack_name)
    if change_set is None:
        return
    stack = change_set.stack
    stack._parse_template()
    stack.output_map = stack._create_output_map()
    for name in [n for n, export in self.exports.items() if export.exporting_stack_id == stack.stack_id]:
        del self.exports[name]
    self._validate_export_uniqueness(stack)
    self.exports.update({export.name: export for export in stack.exports})


def install_fixes() -> None:
    Key.create_from_cloudformation_json = classmethod(_create_key)  # type: ignore[method-assign, assignment]
    CloudFormationBackend.execute_change_set = _execute_change_set_with_exports  # type: ignore[method-assign]


if __name__ == "__main__":
    install_fixes()
    sys.exit(main(sys.argv[1:]))
