"""Driving the app under Streamlit's AppTest: open a page as a browser does, upload, predict, read."""

from __future__ import annotations

import binascii
import os
import re

from streamlit.testing.v1 import AppTest

from components.navigation import ALL_TASKS, HOME
from components.tasks import TASKS
from tests.conftest import PROJECT_ROOT

ENTRY = "streamlit_app.py"  # the navigation: every run starts here, as in a browser
PAGES = {"home": HOME.path, **{task.value: spec.page_path for task, spec in TASKS.items()}, "all": ALL_TASKS.path}
TIMEOUT = 60
VISITOR_STATE = "test_visitor_signals"  # read by the `visitors` fixture


def open_page(name: str, key: str | None = None, state: dict | None = None, **secrets) -> AppTest:
    """Opens the app at its entry file, as a browser does, then goes to the page.

    `state` is put in session state before the first run (e.g. who the visitor is).
    """
    at = AppTest.from_file(str(PROJECT_ROOT / ENTRY), default_timeout=TIMEOUT)
    for name_in_state, value in (state or {}).items():
        at.session_state[name_in_state] = value
    if key:
        at.secrets["CLARIFAI_PAT"] = key
    for secret, value in secrets.items():
        at.secrets[secret] = value
    at.run()
    if name != "home":
        at.switch_page(PAGES[name]).run()
    return at


def upload(at: AppTest, *files: tuple[str, bytes]) -> AppTest:
    at.file_uploader[0].set_value([(name, data, "application/octet-stream") for name, data in files])
    return at.run()


def predict(at: AppTest) -> AppTest:
    return at.button(key="predict").click().run()


_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def as_read(markdown: str) -> str:
    """Markdown's backslash escapes removed: the characters a visitor reads."""
    return _ESCAPED.sub(r"\1", str(markdown))


def page_text(at: AppTest) -> str:
    parts = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "subheader"):
        parts += [as_read(element.value) for element in getattr(at, kind)]
    parts += [str(element.value) for element in at.code]  # code blocks show their text as it is
    return "\n".join(parts)


def visible_text(at: AppTest) -> str:
    """Everything a visitor can read on the page: `page_text`, plain text elements and every cell
    of every table."""
    parts = [page_text(at), *(str(element.value) for element in at.text)]
    for table in at.dataframe:
        frame = table.value
        parts += [str(column) for column in frame.columns]
        parts += [str(cell) for cell in frame.astype(str).to_numpy().ravel()]
    return "\n".join(parts)


def answer_blocks(at: AppTest) -> list:
    """The blocks of plain text (st.text) that hold a model's answer, a caption or the text read."""
    return list(at.text)


def no_traceback(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def photo(testdata, name: str) -> tuple[str, bytes]:
    folder = "exif" if name.startswith("Landscape") else "photos"
    return name, (testdata / folder / name).read_bytes()


def xsrf_cookie(token: bytes, timestamp: int = 1_700_000_000) -> str:
    """Streamlit's `_streamlit_xsrf` cookie for a browser's token, with a fresh mask as each page load gets."""
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(token))
    return f"2|{binascii.b2a_hex(mask).decode()}|{binascii.b2a_hex(masked).decode()}|{timestamp}"


def as_visitor(at: AppTest, browser: bytes | None = None, address: str | None = None) -> AppTest:
    """Makes this session come from a browser (its XSRF token) and an address, as the `visitors` fixture reads."""
    at.session_state[VISITOR_STATE] = visitor_state(browser, address)
    return at.run()


def visitor_state(browser: bytes | None = None, address: str | None = None) -> tuple[str | None, str | None]:
    """What `as_visitor` puts in session state; pass it to `open_page(state=...)` to be that visitor from the start."""
    return (xsrf_cookie(browser) if browser else None, address)


def use_classic_models(at: AppTest) -> AppTest:
    """Chooses each task's classic model as a person would in the sidebar's picker: the seed page's
    where the page suggests one, else an old-style model of the local server typed in."""
    from tests.fake_clarifai import classic_model_for

    for task, spec in TASKS.items():
        classic = [model for model in spec.models if model.classic]
        if classic:
            at.session_state[f"model_suggested_{task.value}"] = classic[0].ref.path
        else:
            at.session_state[f"model_source_{task.value}"] = "typed"
            at.session_state[f"model_text_{task.value}"] = classic_model_for(spec).path
    return at


def built(registered: dict, name: str) -> bytes:
    """A download the page offered (see the `deferred_downloads` fixture), built as a click would."""
    data = registered[name]()
    return data.encode() if isinstance(data, str) else data
