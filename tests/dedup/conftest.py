"""A corpus with planted near-duplicates, built from WordNet's own sentences.

Documents are five WordNet definitions of random noun synsets. Planted pairs: verbatim copies
(whitespace changed), paraphrases (sentences reordered, words swapped for WordNet synonyms)
and plagiarism (three sentences of a document pasted inside a long unrelated one). The other
documents are unrelated.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import NamedTuple

import pytest

from siamkit.data.wordnet import WORDNET_DIR, read_wordnet


class Planted(NamedTuple):
    folder: Path
    pairs: set[frozenset[str]]  # planted near-duplicate document pairs
    kinds: dict[frozenset[str], str]


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + "."


def build_corpus(folder: Path, seed: int = 0, n_base: int = 30, per_kind: int = 5) -> Planted:
    synsets = [s for s in read_wordnet(pos="n") if len(s.definition.split()) >= 6]
    rng = random.Random(seed)
    # synonyms: single-word lemma -> other single-word lemmas of its synset
    synonyms: dict[str, list[str]] = {}
    for s in synsets:
        words = [w for w in s.lemmas if " " not in w and w.islower()]
        for w in words:
            others = [o for o in words if o != w]
            if others and w not in synonyms:
                synonyms[w] = others
    picked = rng.sample(synsets, n_base * 5 + 40)
    base = [[_sentence(s.definition) for s in picked[5 * i : 5 * i + 5]] for i in range(n_base)]
    filler = [_sentence(s.definition) for s in picked[5 * n_base :]]
    folder.mkdir(parents=True, exist_ok=True)
    for i, sents in enumerate(base):
        (folder / f"doc{i:02d}.txt").write_text(" ".join(sents) + "\n")
    pairs: set[frozenset[str]] = set()
    kinds: dict[frozenset[str], str] = {}

    def plant(name: str, text: str, source: int, kind: str) -> None:
        (folder / name).write_text(text)
        key = frozenset({name, f"doc{source:02d}.txt"})
        pairs.add(key)
        kinds[key] = kind

    for k in range(per_kind):
        plant(f"verbatim{k}.txt", "\n".join(base[k]) + "\n", k, "verbatim")
    for k in range(per_kind):
        src = per_kind + k
        sents = base[src][:]
        rng.shuffle(sents)
        out = []
        for sent in sents:
            words = sent.split(" ")
            for w_i, w in enumerate(words):
                core = w.rstrip(".,;")
                if core in synonyms and rng.random() < 0.5:
                    words[w_i] = rng.choice(synonyms[core]) + w[len(core) :]
            out.append(" ".join(words))
        plant(f"paraphrase{k}.txt", " ".join(out) + "\n", src, "paraphrase")
    for k in range(per_kind):
        src = 2 * per_kind + k
        host = filler[8 * k : 8 * k + 8]
        text = " ".join(host[:4] + base[src][:3] + host[4:])
        plant(f"plagiarism{k}.txt", text + "\n", src, "plagiarism")
    return Planted(folder, pairs, kinds)


@pytest.fixture(scope="session")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Planted:
    if not (WORDNET_DIR / "data.noun").is_file():
        pytest.skip("Debian's wordnet-base is not installed (apt-get install wordnet-base)")
    return build_corpus(tmp_path_factory.mktemp("dedup") / "corpus")
