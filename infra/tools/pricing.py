"""Fixed monthly cost of VPC interface endpoints and MLflow tracking servers, from the price table in config/."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML

from infra import REPO_ROOT

PRICE_TABLE = REPO_ROOT / "config" / "endpoint-prices.yaml"


@dataclass(frozen=True)
class PriceTable:
    currency: str
    hours_per_month: int
    per_az_hour: dict[str, float]
    mlflow_per_hour: dict[str, dict[str, float]] = field(default_factory=dict)
    """Region -> tracking server size -> price per hour."""

    def monthly(self, region: str, endpoints: int, azs: int) -> float | None:
        """Monthly fixed cost of ``endpoints`` interface endpoints in ``azs`` AZs; None if unpriced."""
        hourly = self.per_az_hour.get(region)
        if hourly is None:
            return None
        return round(hourly * endpoints * azs * self.hours_per_month, 2)


    def mlflow_monthly(self, region: str, sizes: list[str]) -> float | None:
        """Monthly fixed cost of MLflow tracking servers of ``sizes`` running all month; None if unpriced."""
        table = self.mlflow_per_hour.get(region, {})
        if any(size not in table for size in sizes):
            return None
        return round(sum(table[size] for size in sizes) * self.hours_per_month, 2)


def load_prices(path: Path = PRICE_TABLE) -> PriceTable:
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return PriceTable(
        currency=data["currency"],
        hours_per_month=int(data["hours_per_month"]),
        per_az_hour={str(k): float(v) for k, v in data["interface_endpoint_per_az_hour"].items()},
        mlflow_per_hour={str(region): {str(size): float(price) for size, price in sizes.items()}
                         for region, sizes in (data.get("mlflow_tracking_server_per_hour") or {}).items()},
    )
