"""Choosing images: uploads, URLs, samples; and the strip of images chosen so far.

Chosen images live in session state (not in the upload widget), so they survive page switches.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import streamlit as st
from PIL import Image
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.uploaded_file_manager import UploadedFile

from components import ui_state
from components.errors import ImageError
from components.images import (
    MAX_IMAGES_PER_RUN,
    PreparedImage,
    PrepareOptions,
    parse_url_lines,
    prepare_upload,
    prepare_url,
)
from components.samples import CLARIFAI_SAMPLE_URL, SAMPLES, prepare_sample
from components.text import last_path_part, shorten
from components.ui_state import ImageProblem

UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff", "gif", "avif", "mpo", "heic", "heif"]
GALLERY_LIMIT = 24  # thumbnails shown before "show all"
THUMBNAIL_SIDE = 160
PREPARE_WORKERS = 2
THUMBNAIL_NAME_LENGTH = 22


def image_picker(options: PrepareOptions) -> None:
    """Upload / URL / sample tabs that add images to the session's set."""
    upload_tab, url_tab, sample_tab = st.tabs(
        [":material/upload: Upload", ":material/link: Image URLs", ":material/photo_library: Samples"]
    )
    with upload_tab:
        _uploader(options)
    with url_tab:
        _url_form(options)
    with sample_tab:
        sample_buttons(options)


def _uploader(options: PrepareOptions) -> None:
    generation = st.session_state.setdefault("uploader_generation", 0)
    key = f"uploader_{generation}"
    st.file_uploader(
        "Images (JPEG, PNG, WebP, BMP, TIFF, GIF, AVIF, MPO; each under 20 MB)",
        type=UPLOAD_TYPES,
        accept_multiple_files=True,
        key=key,
        on_change=_take_uploads,
        args=(key, options),
    )


def _take_uploads(key: str, options: PrepareOptions) -> None:
    """Prepares new uploads, then lets Streamlit forget them.

    Runs as the uploader's callback: reading the files from session state here avoids the copy
    the widget's return value would make, and each file is released once prepared, so a batch
    of phone photos is not held in memory twice or for the rest of the session.
    """
    files = list(st.session_state.get(key) or [])

    def prepare_and_release(file: UploadedFile) -> PreparedImage:
        try:
            return prepare_upload(file.name, file.getvalue(), options)
        finally:
            _release(file)

    _add_prepared([file.name for file in files], [lambda file=file: prepare_and_release(file) for file in files])
    for file in files:  # those over the per-run limit were never prepared
        _release(file)
    # A fresh uploader: chosen images are kept in session state, not in the widget.
    st.session_state["uploader_generation"] = st.session_state.get("uploader_generation", 0) + 1


def _release(file: UploadedFile) -> None:
    context = get_script_run_ctx()
    manager = getattr(context, "uploaded_file_mgr", None)
    if manager is not None and hasattr(manager, "remove_file"):
        manager.remove_file(session_id=context.session_id, file_id=file.file_id)
    file.close()


def _url_form(options: PrepareOptions) -> None:
    with st.form("url_form", clear_on_submit=False, border=False):
        text = st.text_area(
            "Image URLs, one per line",
            key="url_text",
            placeholder="https://samples.clarifai.com/metro-north.jpg",
            height=110,
        )
        submitted = st.form_submit_button("Add images from URLs", icon=":material/add_link:")
    if submitted:
        add_urls(text, options)


def add_urls(text: str, options: PrepareOptions) -> None:
    urls, line_problems = parse_url_lines(text)
    for error in line_problems:
        _add_problem(ImageProblem("URL list", error.message))
    if not urls and not line_problems:
        _add_problem(ImageProblem("URL list", "No URLs given: paste one image address per line."))
    if urls:
        with st.spinner(f"Fetching {len(urls)} image(s)…"):
            _add_prepared(urls, [lambda url=url: prepare_url(url, options) for url in urls])
    st.rerun()


def sample_buttons(options: PrepareOptions, columns: int = 5) -> None:
    st.caption("Pictures made by this app, and Clarifai's own sample photo (downloaded from its URL).")
    cells = st.columns(columns)
    for cell, sample in zip(cells, SAMPLES):
        with cell:
            prepared = prepare_sample(sample.key, options)
            st.image(_thumbnail(prepared.preview, prepared.digest), width="stretch")
            if st.button(sample.title, key=f"sample_{sample.key}", help=sample.description, width="stretch"):
                _add_prepared([sample.title], [lambda key=sample.key: prepare_sample(key, options)])
                st.rerun()
    with cells[len(SAMPLES) % columns]:
        st.markdown("<div style='height:.25rem'></div>", unsafe_allow_html=True)
        if st.button("Clarifai's metro-north.jpg", key="sample_clarifai_url", help=CLARIFAI_SAMPLE_URL, width="stretch"):
            add_urls(CLARIFAI_SAMPLE_URL, options)


def _add_prepared(names: Sequence[str], jobs: Sequence[Callable[[], PreparedImage]]) -> None:
    """Runs preparation jobs (two at a time), adding images and per-image problems."""
    chosen = ui_state.images()
    room = MAX_IMAGES_PER_RUN - len(chosen)
    if len(jobs) > room:
        _add_problem(
            ImageProblem(
                f"{len(jobs) - max(room, 0)} image(s)",
                f"Up to {MAX_IMAGES_PER_RUN} images go in one run and {len(chosen)} are chosen already, so "
                f"{len(jobs) - max(room, 0)} were not added. Clear some images first.",
            )
        )
        names, jobs = names[: max(room, 0)], jobs[: max(room, 0)]

    def attempt(job: Callable[[], PreparedImage]) -> PreparedImage | ImageError:
        try:
            return job()
        except ImageError as error:
            return error

    with ThreadPoolExecutor(max_workers=PREPARE_WORKERS) as pool:
        outcomes = list(pool.map(attempt, jobs))
    for name, outcome in zip(names, outcomes):
        if isinstance(outcome, ImageError):
            _add_problem(ImageProblem(name, outcome.message))
        else:
            chosen.setdefault(outcome.digest, outcome)


def _add_problem(problem: ImageProblem) -> None:
    """Records a problem once, however often the same input is submitted."""
    if problem not in ui_state.problems():
        ui_state.problems().append(problem)


def chosen_images_panel() -> list[PreparedImage]:
    """The images chosen so far, their notes, the problems met, and ways to clear them."""
    chosen = list(ui_state.images().values())
    problems = ui_state.problems()
    for problem in problems:
        named = problem.message if problem.name in problem.message else f"**{problem.name}**: {problem.message}"
        st.error(named, icon=":material/broken_image:")
    if not chosen:
        if not problems:
            st.info("No images yet: upload some, paste image URLs, or pick a sample above.", icon=":material/image:")
        elif st.button("Dismiss messages", key="dismiss_problems"):
            problems.clear()
            st.rerun()
        return []

    saved = sum(max(image.bytes_saved, 0) for image in chosen if image.data is not None)
    summary = f"**{len(chosen)} image(s) chosen**"
    if saved > 1024 * 1024:
        summary += f" · {saved / 1024 / 1024:.1f} MB smaller to send after shrinking"
    head, clear, dismiss = st.columns([5, 1.8, 2.1], vertical_alignment="center")
    head.markdown(summary)
    if clear.button("Clear images", icon=":material/delete:", key="clear_images", width="stretch"):
        ui_state.images().clear()
        problems.clear()
        st.rerun()
    if problems and dismiss.button("Dismiss messages", key="dismiss_problems", width="stretch"):
        problems.clear()
        st.rerun()

    show_all = len(chosen) <= GALLERY_LIMIT or st.toggle(f"Show all {len(chosen)} thumbnails", key="show_all_thumbnails")
    shown = chosen if show_all else chosen[:GALLERY_LIMIT]
    columns = st.columns(8)
    for index, image in enumerate(shown):
        with columns[index % 8]:
            if image.preview:
                st.image(_thumbnail(image.preview, image.digest), width="stretch")
            else:
                st.markdown(":material/link: *fetched by Clarifai*")
            st.caption(shorten(last_path_part(image.name), THUMBNAIL_NAME_LENGTH))
    with st.expander("Image details"):
        st.dataframe([_details_row(image) for image in chosen], hide_index=True, width="stretch")
    return chosen


def _details_row(image: PreparedImage) -> dict[str, object]:
    sent = f"{len(image.data) / 1024:,.0f} KB" if image.data is not None else "URL"
    given = f"{image.original_size / 1024:,.0f} KB" if image.original_size else "—"
    return {
        "Image": image.name,
        "Size sent": f"{image.width}×{image.height}" if image.width else "—",
        "Given": given,
        "Sent": sent,
        "Notes": "; ".join(image.notes),
    }


@st.cache_data(max_entries=1024, show_spinner=False)
def _thumbnail(_preview: bytes, digest: str) -> bytes:
    """A small JPEG for the strip of chosen images (cached by image digest, not by bytes)."""
    picture = Image.open(io.BytesIO(_preview))
    picture.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, "JPEG", quality=80)
    return buffer.getvalue()
