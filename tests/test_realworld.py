"""Responsibility extraction on the realworld documents against the hand gold (eval/realworld):
a gate so that a change to the grammar cannot lose what it reaches, on the dev and the held-out split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

RESULTS = Path(__file__).resolve().parent.parent / "eval" / "results" / "realworld.json"
TOLERANCE = 0.02


@pytest.mark.shared
def test_realworld_attribution_does_not_drop(shared):
    from eval.realworld import evaluate_realworld

    recorded = json.loads(RESULTS.read_text(encoding="utf-8"))
    result = evaluate_realworld(shared / "corpus" / "realworld")
    for split in ("dev", "test"):
        for metric in ("exact", "lead", "basis", "none_ok"):
            assert result[split][metric] >= recorded[split][metric] - TOLERANCE, (split, metric)
        assert result[split]["invented"] <= recorded[split]["invented"] + 1, split
    assert result["dev"]["by_style"]["table"]["found"] >= 0.95  # task-table rows become tasks
