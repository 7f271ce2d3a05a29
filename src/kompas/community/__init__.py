"""The community pillar: is the user building relationships — conversations, sharing,
learning, connections — or just posting? Pure computations over the store's rows."""

from kompas.community.compute import compute
from kompas.community.metrics import METRICS, metric, report
from kompas.community.report import (
    CommunityReport,
    Figures,
    Mix,
    Period,
    Relationship,
    Trends,
)

__all__ = [
    "METRICS",
    "CommunityReport",
    "Figures",
    "Mix",
    "Period",
    "Relationship",
    "Trends",
    "compute",
    "metric",
    "report",
]
