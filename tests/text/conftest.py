"""Small text corpora written by the tests (topics of six short sentences each)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

TOPICS = {
    "weather": ["it is raining today", "the sky is cloudy and grey", "a storm is coming tonight",
                "sunny and warm weather", "snow fell all night", "strong wind and heavy rain"],
    "food": ["i love eating pizza", "pasta with tomato sauce", "fresh bread from the bakery",
             "a bowl of rice and beans", "chocolate cake for dessert", "grilled fish with lemon"],
    "sport": ["the team won the match", "he scored a late goal", "tennis final on sunday",
              "she runs a marathon", "basketball game tonight", "the swimmer broke a record"],
    "music": ["a long guitar solo", "the orchestra played mozart", "she sings in a choir",
              "a new album release", "drums and bass line", "piano lessons every week"],
    "tech": ["the computer crashed again", "a new phone model", "software update available",
             "the server is down", "writing python code", "fast internet connection"],
    "travel": ["a flight to paris", "a hotel by the beach", "train journey across europe",
               "passport and tickets", "a road trip in the mountains", "visiting a museum abroad"],
}  # fmt: skip


@pytest.fixture(scope="session")
def labelled_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``text,label`` rows: 6 topics × 6 sentences."""
    path = tmp_path_factory.mktemp("text") / "labelled.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        for topic, texts in TOPICS.items():
            for t in texts:
                w.writerow([t, topic])
    return path
