"""``python -m infra.personas.workflows``: record every workflow again and rewrite traces/*.json."""

from infra.personas.workflows import write_traces

if __name__ == "__main__":
    for path in write_traces():
        print(f"wrote {path}")
