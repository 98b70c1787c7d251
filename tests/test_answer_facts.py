"""How one answer is described beside it: the time its call took (never "0.0 s") and its tokens,
as the model reported them (cached ones too) or that it did not."""

from __future__ import annotations

import pytest

from components.results import TOKENS_NOT_REPORTED, Prediction, TokenUsage
from components.text import duration


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0.0, "under 1 ms"), (0.0004, "under 1 ms"), (0.0042, "4 ms"), (0.35, "350 ms"), (0.9996, "1.0 s"), (2.44, "2.4 s")],
)
def test_a_duration_below_a_second_is_in_milliseconds(seconds, words):
    assert duration(seconds) == words


def test_tokens_are_shown_as_reported_with_the_cached_ones():
    reported = Prediction(usage=TokenUsage(1200, 34, 1024), seconds=0.012, answered_in_text=True)
    assert reported.facts == ("12 ms", "1,200 tokens in (1,024 cached), 34 out")
    assert Prediction(usage=TokenUsage(5, 7)).token_words == "5 tokens in, 7 out"


def test_a_language_model_that_reports_no_tokens_says_so_and_other_answers_say_nothing_of_tokens():
    assert Prediction(seconds=1.5, answered_in_text=True).facts == ("1.5 s", TOKENS_NOT_REPORTED)
    assert Prediction(seconds=0.2).facts == ("200 ms",)  # masks or concepts from a method: no tokens to speak of
    assert Prediction().facts == ()  # a classic batch: no time per image
