"""Label lists a user types, and labels cleaned of markup."""

from __future__ import annotations

from components.vlm.labels import MAX_LABEL_CHARS, MAX_LABELS, clean_label, parse_label_list


def test_label_list_from_commas_or_lines():
    assert parse_label_list("people, bags, buses") == (("people", "bags", "buses"), "")
    assert parse_label_list("people\nbags\r\nbuses\n") == (("people", "bags", "buses"), "")
    assert parse_label_list("salt & pepper, R&amp;D") == (("salt & pepper", "R&D"), "")


def test_label_list_trims_and_drops_empty_items_silently():
    assert parse_label_list("  people ,, ,\n\n  bags  ,") == (("people", "bags"), "")
    assert parse_label_list("") == ((), "")


def test_label_list_keeps_the_first_spelling_of_a_repeat_and_says_so():
    labels, message = parse_label_list("Cat, dog, CAT, cat")
    assert labels == ("Cat", "dog")
    assert "repeated" in message and '"CAT"' in message


def test_label_list_strips_markup():
    labels, _ = parse_label_list("- **people**\n* `bags`\n1. <i>buses</i>\n[cars](http://x.test)\nred &amp; blue")
    assert labels == ("people", "bags", "buses", "cars", "red & blue")


def test_label_list_drops_too_long_labels_with_a_message():
    labels, message = parse_label_list("cat, " + "a" * (MAX_LABEL_CHARS + 1))
    assert labels == ("cat",)
    assert f"longer than {MAX_LABEL_CHARS}" in message


def test_label_list_is_capped_in_count_with_a_message():
    labels, message = parse_label_list(", ".join(f"thing {i}" for i in range(MAX_LABELS + 7)))
    assert len(labels) == MAX_LABELS and labels[-1] == f"thing {MAX_LABELS - 1}"
    assert f"first {MAX_LABELS}" in message and "7 more" in message


def test_label_list_reads_a_bounded_part_of_a_huge_paste():
    labels, message = parse_label_list("cat, " * 100_000)
    assert labels == ("cat",) and "first" in message


def test_clean_label_handles_odd_inputs():
    assert clean_label("  **Golden_retriever**. ") == "Golden retriever"
    assert clean_label("<span class='x'>tabby&nbsp;cat</span>") == "tabby cat"
    assert clean_label("zero\u200bwidth\x00") == "zero width"
    assert clean_label(None) == "" and clean_label(True) == "" and clean_label(7) == "7"
