"""WordNet parsing and pair builders, on a tiny file in WordNet's own format (hand-worked
values) and on Debian's files when installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from siamkit.data import load_data
from siamkit.data.wordnet import (
    WORDNET_DIR,
    definition_pairs,
    graded_pairs,
    parse_data_line,
    path_distance,
    read_wordnet,
    split_synsets,
    synonym_pairs,
)

HEADER = "  1 This software and database is being provided to you, the LICENSEE, by  \n"
NOUNS = [
    "00000001 03 n 01 entity 0 001 ~ 00000002 n 0000 | that which exists  ",
    "00000002 03 n 02 animal 0 animate_being 0 003 @ 00000001 n 0000 ~ 00000003 n 0000 "
    '~ 00000004 n 0000 | a living organism that moves; "animals eat"  ',
    "00000003 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 001 @ 00000002 n 0000 | a "
    'domesticated canine; "the dog barked"; "a dog\'s life"  ',
    "00000004 05 n 02 cat 0 true_cat 0 001 @ 00000002 n 0000 | a small feline  ",
    "00000005 03 n 02 tree 0 tree_diagram 0 001 @i 00000001 n 0000 | a figure that branches  ",
]
VERBS = ["00000010 29 v 02 bark 0 bay 0 000 01 + 02 00 | make a barking sound  "]
ADJS = ["00000020 00 a 02 quick(a) 0 speedy 0 000 | moving fast  "]


@pytest.fixture
def wn_dir(tmp_path: Path) -> Path:
    (tmp_path / "data.noun").write_text(HEADER + "\n".join(NOUNS) + "\n")
    (tmp_path / "data.verb").write_text(HEADER + "\n".join(VERBS) + "\n")
    (tmp_path / "data.adj").write_text(HEADER + "\n".join(ADJS) + "\n")
    (tmp_path / "data.adv").write_text(HEADER)
    return tmp_path


def test_parse_lines_by_hand(wn_dir: Path) -> None:
    assert parse_data_line(HEADER) is None
    wn = read_wordnet(wn_dir)
    by = {s.id: s for s in wn}
    assert len(wn) == 7
    dog = by["00000003.n"]
    assert dog.lemmas == ["dog", "domestic dog", "Canis familiaris"]
    assert dog.definition == "a domesticated canine"
    assert dog.examples == ["the dog barked", "a dog's life"]
    assert dog.hypernyms == ["00000002.n"]
    assert by["00000005.n"].hypernyms == ["00000001.n"]  # instance hypernym
    assert by["00000010.v"].lemmas == ["bark", "bay"]  # verb frames after the pointers
    assert by["00000020.a"].lemmas == ["quick", "speedy"]  # adjective marker dropped
    assert by["00000002.n"].definition == "a living organism that moves"
    with pytest.raises(ValueError, match="line 1: not a WordNet data line"):
        parse_data_line("00000001 03 n zz", "data.noun line 1")


def test_path_distance_and_graded_scores_by_hand(wn_dir: Path) -> None:
    wn = read_wordnet(wn_dir, pos="n")
    up = {s.id: s.hypernyms for s in wn}
    assert path_distance("00000003.n", "00000004.n", up) == 2  # dog - animal - cat
    assert path_distance("00000003.n", "00000001.n", up) == 2  # dog - animal - entity
    assert path_distance("00000003.n", "00000005.n", up) == 3  # dog ... entity - tree
    assert path_distance("00000003.n", "00000003.n", up) == 0
    assert path_distance("00000003.n", "00000099.n", up) is None
    pairs = graded_pairs(wn, random_per_synset=0, seed=0)
    dog = {"dog", "domestic dog", "Canis familiaris"}
    animal = {"animal", "animate being"}
    for p in pairs:
        a_id, b_id = p.source.split("|")
        d = path_distance(a_id, b_id, up)
        assert d is not None and p.score == pytest.approx(1 / (1 + d))
    hyper = [p for p in pairs if p.source == "00000003.n|00000002.n"]
    assert len(hyper) == 1 and hyper[0].score == 0.5
    assert hyper[0].text_a in dog and hyper[0].text_b in animal
    sibling = [p for p in pairs if p.source == "00000003.n|00000004.n"]
    assert len(sibling) == 1 and sibling[0].score == pytest.approx(1 / 3)


def test_split_is_by_synset_and_pairs_stay_inside(wn_dir: Path) -> None:
    wn = read_wordnet(wn_dir)
    train, test = split_synsets(wn, eval_fraction=0.5, seed=3)
    assert {s.id for s in train}.isdisjoint({s.id for s in test})
    assert len(train) + len(test) == len(wn)
    assert split_synsets(list(reversed(wn)), 0.5, 3)[1] == list(reversed(test))  # order-free
    test_ids = {s.id for s in test}
    for p in definition_pairs(test):
        assert p.source in test_ids and p.score == 1.0
    train_texts = {t for s in train for t in (s.definition, *s.lemmas)}
    assert not {p.text_a for p in definition_pairs(test)} & train_texts


def test_synonym_pairs_never_pair_synonyms_as_negatives(wn_dir: Path) -> None:
    wn = read_wordnet(wn_dir)
    pairs = synonym_pairs(wn, negatives_per_positive=2, seed=0)
    synsets = [set(s.lemmas) for s in wn]
    positives = [p for p in pairs if p.score == 1.0]
    # dog has 3 lemmas (3 pairs), animal, cat, tree, bark, quick 2 each (1 pair each)
    assert len(positives) == 3 + 5
    for p in pairs:
        together = any(p.text_a in s and p.text_b in s for s in synsets)
        assert together == (p.score == 1.0)


def test_wordnet_source_one_class_per_synset(wn_dir: Path) -> None:
    data = load_data(f"wordnet:{wn_dir}")
    assert len(data.class_names) == 7
    assert len(data) == 7 + (1 + 2 + 3 + 2 + 2 + 2 + 2)  # definitions + lemmas
    with pytest.raises(ValueError, match="apt-get install wordnet-base"):
        read_wordnet(wn_dir / "nowhere")


@pytest.mark.skipif(
    not (WORDNET_DIR / "data.noun").is_file(), reason="Debian's wordnet-base is not installed"
)
def test_real_wordnet_files() -> None:
    wn = read_wordnet(pos="n")
    assert len(wn) == 82115  # WordNet 3.0 noun synsets
    dog = next(s for s in wn if s.id == "02084071.n")
    assert dog.lemmas == ["dog", "domestic dog", "Canis familiaris"]
    assert dog.examples == ["the dog barked all night"]
    cat = next(s for s in wn if s.id == "02121620.n")
    up = {s.id: s.hypernyms for s in wn}
    assert path_distance(dog.id, cat.id, up) == 4  # path similarity 0.2, as in NLTK
