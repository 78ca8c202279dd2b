"""textscan.Scanner reads Latin letters in any case and only as whole words; Chinese is matched as written."""
from __future__ import annotations

from ecorules.textscan import Scanner, fold


def test_latin_words_match_in_any_case_and_report_the_text_as_written():
    scanner = Scanner([("Anting", "jiading"), ("静安", "jingan")])
    hits = list(scanner.scan("A factory near ANTING, 静安寺"))
    assert [(h.word, h.value) for h in hits] == [("ANTING", "jiading"), ("静安", "jingan")]
    assert scanner.get("anting") == "jiading" and "ANTING" in scanner


def test_a_latin_word_inside_a_longer_latin_word_is_not_a_hit():
    scanner = Scanner([("Anting", "jiading")])
    assert list(scanner.scan("Someone is painting the wall")) == []
    assert list(scanner.scan("Antings")) == []


def test_a_word_longer_than_the_rest_of_the_text_is_not_read_past_the_end():
    scanner = Scanner([("Pudong New Area", "pudong"), ("Pu", "other")])
    assert [h.value for h in scanner.scan("in Pu")] == ["other"]


def test_fold_changes_only_latin_capitals():
    assert fold("Jing'An 静安 İ") == "jing'an 静安 İ"
