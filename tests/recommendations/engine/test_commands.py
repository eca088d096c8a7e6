"""evaluate_recs refuses what it cannot do with a clear message."""

import pytest
from django.core.management import CommandError, call_command


def test_evaluate_recs_names_an_unknown_policy_and_the_known_ones():
    with pytest.raises(CommandError, match=r"unknown policies: nope \(known: cadenza, random"):
        call_command("evaluate_recs", "--quick", "--policies", "cadenza,nope")


def test_evaluate_recs_says_which_command_makes_a_missing_data_file(tmp_path, monkeypatch):
    from recommendations.engine import sampledata

    monkeypatch.setattr(sampledata, "TRACKS_FILE", tmp_path / "tracks.json")
    monkeypatch.setattr(sampledata.load, "__defaults__", (tmp_path / "tracks.json",))
    with pytest.raises(CommandError, match="--compose-sample"):
        call_command("evaluate_recs", "--quick")
