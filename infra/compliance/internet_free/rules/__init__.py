"""The internet-free rules, one module per family. Importing this package registers them.

The imports below are the order the rules run and are reported in, and the order of
``docs/internet-free-rules.md`` (tests/test_internet_free.py pins it). A new rule goes into the
module of its family, or into a new module imported here, after the rules it should follow.
"""

# Imported for their @rule registrations, in this order.
from infra.compliance.internet_free.rules import gateways  # noqa: F401
from infra.compliance.internet_free.rules import routing  # noqa: F401
from infra.compliance.internet_free.rules import endpoints  # noqa: F401
from infra.compliance.internet_free.rules import firewalls  # noqa: F401
from infra.compliance.internet_free.rules import dns  # noqa: F401
from infra.compliance.internet_free.rules import apis  # noqa: F401
from infra.compliance.internet_free.rules import edge  # noqa: F401
from infra.compliance.internet_free.rules import managed  # noqa: F401
from infra.compliance.internet_free.rules import compute  # noqa: F401
from infra.compliance.internet_free.rules import sagemaker  # noqa: F401
from infra.compliance.internet_free.rules import outbound  # noqa: F401
from infra.compliance.internet_free.rules import s3  # noqa: F401
from infra.compliance.internet_free.rules import control_plane  # noqa: F401
from infra.compliance.internet_free.rules import resource_policies  # noqa: F401
from infra.compliance.internet_free.rules import principals  # noqa: F401
from infra.compliance.internet_free.rules import exfiltration  # noqa: F401
from infra.compliance.internet_free.rules import supply_chain  # noqa: F401
from infra.compliance.internet_free.rules import template_level  # noqa: F401
