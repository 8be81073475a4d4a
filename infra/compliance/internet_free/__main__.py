"""``python -m infra.compliance.internet_free PATH...`` checks templates, as ``fmops verify-internet-free``;
``python -m infra.compliance.internet_free --rules-doc [--check]`` writes (or checks)
``docs/internet-free-rules.md``."""

import sys

from infra.compliance.internet_free.cli import main
from infra.compliance.internet_free.reference import write_rules_doc


def run(argv: list[str]) -> int:
    if argv[:1] == ["--rules-doc"]:
        rest = argv[1:]
        if rest not in ([], ["--check"]):
            print("usage: python -m infra.compliance.internet_free --rules-doc [--check]", file=sys.stderr)
            return 2
        return write_rules_doc(check=bool(rest))
    return main(argv)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
