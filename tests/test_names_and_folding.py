"""The privacy guard's reading of text and names, module by module (`pipeline.core.folding`, `pipeline.core.names`,
`pipeline.core.identifiers`): folding and the word form, Dutch names as other parties write them, and each kind of
employee identifier in the forms a letter or an invoice writes it — and not in the near misses. The whole guard on
whole cases is tested in `test_privacy.py`."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from pipeline.core.folding import alt, fold, phrase, readings, word_form, words_re
from pipeline.core.identifiers import (Identifier, bsn_identifiers, date_identifiers, email_identifiers,
                                       name_identifiers, personnel_identifiers, phone_identifiers,
                                       postcode_identifiers)
from pipeline.core.names import (PersonName, initial_groups, parse_person, stands_alone, surname_alternatives,
                                 surname_words)


# --- folding ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, folded", [
    ("Straße", "strasse"), ("\ufb01ets", "fiets"), ("Øster", "oster"), ("Jan\u00adsen", "jansen"),
    ("Noël", "noel"), ("Yılmaz", "yilmaz"), ("Jan\u200bsen", "jansen"), ("Jansen\u2013de Vries", "jansen-de vries")])
def test_fold_drops_case_diacritics_ligatures_and_invisible_characters(text, folded):
    assert fold(text) == folded


@pytest.mark.parametrize("text, words", [
    ("M.A. Jansen", "m a jansen"), ("SO-2026-0042_factuur_P20417.pdf", "so 2026 0042 factuur p20417 pdf"),
    ("  de   Vries,\n", "de vries")])
def test_the_word_form_is_letters_and_digits_between_single_spaces(text, words):
    assert word_form(text) == words


def test_readings_join_a_hyphenated_line_end_and_repair_mojibake():
    assert "jansen" in [words for _, words in readings("Jan-\nsen")]
    assert "ozdemir" in [words for _, words in readings("Ã–zdemir")]
    assert [words for _, words in readings("Jansen")] == ["jansen"]  # nothing to add: one reading


def test_patterns_on_the_word_form_match_whole_words_only():
    ede = words_re(phrase(["ede"]))
    assert ede.search("woont in ede sinds") and not ede.search("bedrijfsgeneeskunde")
    assert words_re(phrase(["de", "vries"])).search("h de vries")
    assert not words_re(phrase(["vries"])).search("vriesland")
    assert re.fullmatch(alt(["a", "abc"]), "abc") and alt(["a", "abc"]) == "(?:abc|a)"  # the longest first


# --- names --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("written, given, surname", [
    ("Dr. P. Bakker", ("p",), ("bakker",)),
    ("H. de Vries", ("h",), ("de", "vries")),
    ("Jan-Willem van den Berg MSc", ("jan", "willem"), ("van", "den", "berg")),
    ("D. Aaaaa", ("d",), ("aaaaa",)),  # a dotted `D.` is an initial, not the particle d'
    ("A. d'Ancona", ("a",), ("d", "ancona")),
    ("de heer J. Jansen", ("j",), ("jansen",))])
def test_another_partys_name_as_written(written, given, surname):
    assert parse_person(written) == PersonName(given, surname)


def test_core_and_particles_of_a_surname():
    name = parse_person("H. van der Berg")
    assert (name.core, name.particles) == ("berg", ("van", "der"))


@pytest.mark.parametrize("voorletters, groups", [
    ("M.A.", ("m", "a")), ("Th.J.", ("th", "j")), ("IJ.", ("ij",)), ("MA", ("m", "a"))])
def test_initials(voorletters, groups):
    assert initial_groups(voorletters) == groups


def test_surname_words_and_alternatives():
    assert surname_words("Vries, de") == ("de", "vries")
    assert surname_alternatives(("jansen", "de", "vries"), "Jansen-de Vries") == [
        ("jansen", "de", "vries"), ("jansen",), ("de", "vries")]
    assert ("dykstra",) in surname_alternatives(("dijkstra",), "Dijkstra")
    assert ("mueller",) in surname_alternatives(("muller",), "Müller")


@pytest.mark.parametrize("surname, alone", [
    (("jansen",), True), (("van", "os"), True), (("os",), False), (("de", "jong"), False), (("bos",), False),
    (("ede",), False)])
def test_a_surname_stands_alone_when_it_is_distinctive(surname, alone):
    assert stands_alone(surname) is alone


# --- identifiers --------------------------------------------------------------------------------------------------

def found(identifiers: list[Identifier], text: str) -> bool:
    return any(i.pattern.search(word_form(text) if i.on_words else fold(text)) for i in identifiers)


def test_bsn_in_any_grouping_never_inside_a_longer_number():
    ids = bsn_identifiers("111222333")
    assert all(found(ids, t) for t in ("111222333", "BSN 1112.22.333", "111 222 333", "111-22-2333"))
    assert not found(ids, "1112223334") and not found(ids, "111222334")
    assert found(bsn_identifiers("012345672"), "12345672")  # a leading zero is often lost


def test_birth_date_numeric_and_written():
    ids = date_identifiers(dt.date(1984, 3, 17))
    for text in ("17-03-1984", "17/3/84", "1984-03-17", "19840317", "17 maart 1984", "17 mrt 1984",
                 "March 17th 1984", "17e maart 1984"):
        assert found(ids, text), text
    assert not found(ids, "17-03-1985") and not found(ids, "117-03-1984")


def test_postcode_phone_email_and_personnel_number():
    assert found(postcode_identifiers("3542 ad"), "Utrecht 3542AD") and not found(postcode_identifiers("3542 AD"),
                                                                                  "3542 AE")
    assert postcode_identifiers("35423") == []
    phone = phone_identifiers("06-12345678")
    assert all(found(phone, t) for t in ("+31 6 12345678", "0031612345678", "06 12 34 56 78"))
    assert not found(phone, "06-12345679")
    assert found(email_identifiers("j.jansen@example.nl"), "J.Jansen [at] Example.nl")
    personnel, why = personnel_identifiers("P-20417")
    assert found(personnel, "personeelsnr. P20417") and why == []
    assert personnel_identifiers("12") == ([], ["personeelsnummer '12' is te kort om betrouwbaar te herkennen"])


def test_the_employees_name_with_initials_reversed_or_addressed_never_inside_another_word():
    ids = name_identifiers("Jansen", "M.A.", "M.A. Jansen")
    for text in ("M. Jansen", "M.A. Jansen", "Jansen, M.A.", "de heer Jansen", "Jansen"):
        assert found(ids, text), text
    assert not found(ids, "Jansens Bouw") and not found(ids, "Janssen")
