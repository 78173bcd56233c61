"""WordNet from its own database files (Debian's ``wordnet-base``: ``/usr/share/wordnet``).

Parses ``data.noun``, ``data.verb``, ``data.adj`` and ``data.adv`` (the format of the
``wndb(5)`` manual page; nltk is not needed) and builds text pairs from them:

* :func:`definition_pairs`: (definition, lemma) of each synset; a reverse dictionary.
* :func:`synonym_pairs`: two lemmas of one synset (similar), and lemmas of unrelated synsets.
* :func:`graded_pairs`: lemma pairs scored by WordNet path similarity ``1 / (1 + d)``, ``d``
  the fewest links up to a common hypernym and down again.

Synsets are split before pairs are made (:func:`split_synsets`), so a synset evaluated on is
never trained on. As a data source, ``wordnet[:DIR]`` gives one class per synset (its
definition and its lemmas as items), in a fixed pseudo-random order so that index ranges
(``--train-classes 0-9999 --eval-classes 10000-10999``) are random synsets.

Example:
    >>> wn = read_wordnet(pos="n")
    >>> train, test = split_synsets(wn, eval_fraction=0.1, seed=0)
    >>> definition_pairs(train)[0]
    TextPair(text_a='that which is perceived ...', text_b='entity', score=1.0, source='00001740.n')
"""

from __future__ import annotations

import hashlib
import random
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from siamkit.data.labelled import LabelledData
from siamkit.data.sources import SourceOptions, Split
from siamkit.data.text import TextPair, text_data

WORDNET_DIR = Path("/usr/share/wordnet")
FILES = {"n": "data.noun", "v": "data.verb", "a": "data.adj", "r": "data.adv"}
HYPERNYM = ("@", "@i")  # hypernym, instance hypernym
INSTALL = (
    "install Debian's WordNet files with 'apt-get install wordnet-base' (`make data` does "
    "this), or pass a folder holding data.noun etc.: --data wordnet:DIR"
)


@dataclass
class Synset:
    """One WordNet synset.

    Attributes:
        id: ``OFFSET.POS`` (``s`` satellites live in ``data.adj`` and keep ``s``).
        lemmas: Its words, underscores as spaces, adjective markers such as ``(a)`` dropped.
        definition: The gloss without its quoted examples.
        examples: The quoted examples of the gloss.
        hypernyms: Ids of its hypernyms (and instance hypernyms).
    """

    id: str
    lemmas: list[str]
    definition: str
    examples: list[str] = field(default_factory=list)
    hypernyms: list[str] = field(default_factory=list)


def _key(offset: str, pos: str) -> str:
    """Synset ids are unique per file; satellites (``s``) share the adjective file."""
    return f"{offset}.{'a' if pos == 's' else pos}"


def parse_data_line(line: str, where: str = "") -> Synset | None:
    """One line of a WordNet ``data.*`` file, or None for a licence header line.

    Format: ``offset lex_filenum ss_type w_cnt (word lex_id)* p_cnt (ptr offset pos st)*
    [frames] | gloss``, with ``w_cnt`` in hexadecimal and ``p_cnt`` in decimal.

    Raises:
        ValueError: A malformed line, named by ``where``.
    """
    if not line.strip() or line.startswith("  "):
        return None
    head, sep, gloss = line.partition(" | ")
    if not sep:
        head, gloss = line.rstrip(" \n|"), ""
    t = head.split()
    try:
        offset, pos = t[0], t[2]
        n_words = int(t[3], 16)
        words = [t[4 + 2 * i] for i in range(n_words)]
        k = 4 + 2 * n_words
        n_ptrs = int(t[k])
        hypernyms = []
        for i in range(n_ptrs):
            sym, target, tpos = t[k + 1 + 4 * i : k + 4 + 4 * i]
            if sym in HYPERNYM:
                hypernyms.append(_key(target, tpos))
    except (IndexError, ValueError):
        raise ValueError(f"{where}: not a WordNet data line: {line[:80]!r}") from None
    lemmas = []
    for w in words:
        w = w.split("(", 1)[0] if w.endswith(")") else w  # adjective markers: (a) (p) (ip)
        lemma = w.replace("_", " ")
        if lemma not in lemmas:
            lemmas.append(lemma)
    gloss = gloss.strip()
    definition, _, rest = gloss.partition('"')
    examples = [e.strip() for e in ('"' + rest).split('"')[1::2] if e.strip()] if rest else []
    return Synset(_key(offset, pos), lemmas, definition.strip().rstrip(";").strip(), examples,
                  hypernyms)  # fmt: skip


def read_wordnet(folder: str | Path = WORDNET_DIR, pos: str = "nvar") -> list[Synset]:
    """Every synset of the parts of speech in ``pos`` (``n``, ``v``, ``a``, ``r``), file order.

    Raises:
        ValueError: A missing file (says how to install it) or a malformed line.
    """
    folder = Path(folder)
    out: list[Synset] = []
    for p in pos:
        if p not in FILES:
            raise ValueError(f"unknown part of speech {p!r}; choose from n, v, a, r")
        path = folder / FILES[p]
        if not path.is_file():
            raise ValueError(f"WordNet file {path} not found; {INSTALL}")
        with path.open(encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, start=1):
                s = parse_data_line(line, f"{path} line {n}")
                if s is not None and s.definition and s.lemmas:
                    out.append(s)
    if not out:
        raise ValueError(f"no synsets found in {folder} for parts of speech {pos!r}")
    return out


def _rank(synset_id: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{synset_id}".encode()).hexdigest()


def split_synsets(
    synsets: Sequence[Synset], eval_fraction: float = 0.1, seed: int = 0
) -> tuple[list[Synset], list[Synset]]:
    """Disjoint (train, eval) synsets: a synset's definition and lemmas are on one side only.

    The split is by a hash of ``seed`` and the synset id, so it does not depend on the order
    or on which other synsets are read.
    """
    if not 0.0 < eval_fraction < 1.0:
        raise ValueError(f"eval_fraction must be in (0, 1), got {eval_fraction}")
    cut = int(eval_fraction * 2**32)
    train: list[Synset] = []
    test: list[Synset] = []
    for s in synsets:
        (test if int(_rank(s.id, seed)[:8], 16) < cut else train).append(s)
    return train, test


def definition_pairs(synsets: Iterable[Synset]) -> list[TextPair]:
    """(definition, lemma) for every lemma of every synset, score 1."""
    return [TextPair(s.definition, lemma, 1.0, s.id) for s in synsets for lemma in s.lemmas]


def synonym_pairs(
    synsets: Sequence[Synset], negatives_per_positive: int = 1, seed: int = 0
) -> list[TextPair]:
    """Lemma pairs: each two lemmas of a synset (score 1) and, per such pair, lemmas of two
    random synsets that share no lemma (score 0). Synonyms of another sense are never drawn
    as negatives: a negative's two lemmas never share a synset in ``synsets``."""
    rng = random.Random(seed)
    senses: dict[str, set[int]] = {}
    for i, s in enumerate(synsets):
        for lemma in s.lemmas:
            senses.setdefault(lemma.lower(), set()).add(i)
    out: list[TextPair] = []
    for s in synsets:
        for i, a in enumerate(s.lemmas):
            for b in s.lemmas[i + 1 :]:
                out.append(TextPair(a, b, 1.0, s.id))
                for _ in range(negatives_per_positive):
                    for _attempt in range(20):
                        u, v = rng.choice(synsets), rng.choice(synsets)
                        x, y = rng.choice(u.lemmas), rng.choice(v.lemmas)
                        if not senses[x.lower()] & senses[y.lower()]:
                            out.append(TextPair(x, y, 0.0, f"{u.id}|{v.id}"))
                            break
    return out


def ancestors(a: str, hypernyms: dict[str, list[str]]) -> dict[str, int]:
    """Synset ``a`` and every hypernym above it, with the fewest upward links to each."""
    depth = {a: 0}
    queue = deque([a])
    while queue:
        node = queue.popleft()
        for h in hypernyms.get(node, ()):
            if h not in depth:
                depth[h] = depth[node] + 1
                queue.append(h)
    return depth


def path_distance(a: str, b: str, hypernyms: dict[str, list[str]]) -> int | None:
    """Fewest links between synsets ``a`` and ``b`` up to a common hypernym and down again
    (WordNet path length, as in path similarity); None without a common hypernym.

    Args:
        hypernyms: synset id -> its hypernyms' ids (``{s.id: s.hypernyms for s in synsets}``).
    """
    up_a, up_b = ancestors(a, hypernyms), ancestors(b, hypernyms)
    common = [up_a[c] + up_b[c] for c in up_a.keys() & up_b.keys()]
    return min(common) if common else None


def graded_pairs(
    synsets: Sequence[Synset],
    graph_synsets: Sequence[Synset] | None = None,
    random_per_synset: int = 1,
    seed: int = 0,
) -> list[TextPair]:
    """Lemma pairs with WordNet path similarity ``1 / (1 + d)`` as the score.

    For each synset with a hypernym: a lemma of it with a lemma of its hypernym (``d = 1``), of
    a sibling under that hypernym (``d = 2``), and of ``random_per_synset`` random synsets
    (score 0 when they share no hypernym, e.g. verbs of separate hierarchies).
    Only synsets in ``synsets`` are paired; ``graph_synsets`` (default: the same) give the
    hypernym hierarchy the distances are measured in.
    """
    rng = random.Random(seed)
    by_id = {s.id: s for s in synsets}
    graph = {s.id: s.hypernyms for s in (graph_synsets if graph_synsets is not None else synsets)}
    children: dict[str, list[str]] = {}
    for s in synsets:
        for h in s.hypernyms:
            children.setdefault(h, []).append(s.id)

    def pair(s: Synset, other: Synset) -> TextPair:
        d = path_distance(s.id, other.id, graph)
        score = 0.0 if d is None else 1.0 / (1.0 + d)
        return TextPair(rng.choice(s.lemmas), rng.choice(other.lemmas), score, f"{s.id}|{other.id}")

    out: list[TextPair] = []
    for s in synsets:
        partners = [by_id[h] for h in s.hypernyms if h in by_id]
        if partners:
            parent = partners[0]
            siblings = [c for c in children.get(parent.id, []) if c != s.id]
            out.append(pair(s, parent))
            if siblings:
                out.append(pair(s, by_id[rng.choice(siblings)]))
        for _ in range(random_per_synset):
            out.append(pair(s, rng.choice(synsets)))
    return out


def wordnet_source(arg: str | None, options: SourceOptions, split: Split) -> LabelledData:
    """One class per synset (its definition and lemmas), in a fixed pseudo-random order."""
    synsets = sorted(read_wordnet(arg or WORDNET_DIR), key=lambda s: _rank(s.id, 0))
    texts = [t for s in synsets for t in (s.definition, *s.lemmas)]
    labels = [k for k, s in enumerate(synsets) for _ in range(1 + len(s.lemmas))]
    sources = [s.id for s in synsets for _ in range(1 + len(s.lemmas))]
    names = [s.id for s in synsets]
    return text_data(texts, labels, names, options.tokenizer, options.max_length, sources)
