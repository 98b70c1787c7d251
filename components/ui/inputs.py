"""Choosing images: uploads, URLs, samples; and the grid of images chosen so far.

Chosen images live in session state (not in the upload widget), so they survive page switches.
Problems belong to the attempt that met them: the next attempt replaces them, and they show
only on the page where it was made.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import streamlit as st
from PIL import Image, ImageOps
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.uploaded_file_manager import UploadedFile

from components.errors import ImageError
from components.images.limits import MAX_IMAGES_PER_RUN, SUPPORTED_EXTENSIONS, SUPPORTED_FORMAT_NAMES
from components.images.preparation import (
    PreparedImage,
    PrepareOptions,
    parse_url_lines,
    prepare_upload,
    prepare_url,
)
from components.images.samples import CLARIFAI_SAMPLE_URL, SAMPLES, SAMPLES_BY_KEY, prepare_sample
from components.text import last_path_part, plain, plural, shorten
from components.ui import image_picker as browser_picker
from components.ui import state as ui_state
from components.ui.state import ImageProblem

# HEIC/HEIF is not listed: the app cannot read it, and says so for a HEIC file under another name.
UPLOAD_TYPES = list(SUPPORTED_EXTENSIONS)
UPLOAD_LABEL = f"Images ({', '.join(SUPPORTED_FORMAT_NAMES)}; each under 20 MB)"
UPLOAD_HINT = f"{', '.join(SUPPORTED_FORMAT_NAMES)}; each under 20 MB."
SHRUNK_HINT = "Photos are shrunk on your device before they are sent."
ORIGINALS_HINT = "Files are sent as they are: shrinking is off."
GALLERY_LIMIT = 12  # thumbnails shown before "show all"
THUMBNAIL_SIDE = 160  # pixels of the square thumbnail sent (sharp on a 1.5x screen)
THUMBNAIL_WIDTH = 96  # CSS pixels: three to a row on a 390 px phone, a dozen on a desktop
SAMPLE_TILE_WIDTH = 150
PREPARE_WORKERS = 2
PREPARE_WAIT_S = 120  # for a free preparation slot while other visitors' images are prepared
THUMBNAIL_NAME_LENGTH = 13  # one line under a thumbnail
PROBLEMS_LISTED = 6  # in the message itself; the rest in an expander below it
CLARIFAI_SAMPLE_TILE = Path(__file__).resolve().parents[2] / "assets" / "clarifai-sample.svg"


def image_picker(options: PrepareOptions) -> None:
    """Upload / URL / camera / sample tabs that add images to the session's set."""
    upload_tab, url_tab, camera_tab, sample_tab = st.tabs(
        [":material/upload: Upload", ":material/link: Image URLs", ":material/photo_camera: Camera", ":material/photo_library: Samples"]
    )
    with upload_tab:
        _uploader(options)
    with url_tab:
        _url_form(options)
    with camera_tab:
        _camera(options)
    with sample_tab:
        sample_buttons(options)


def _camera(options: PrepareOptions) -> None:
    """A photo from the device's camera (a phone pointed at something in a meeting), prepared like an upload."""
    # The camera is asked for only once the visitor turns it on: a browser would otherwise ask for
    # the camera whenever a page opens.
    if not st.toggle("Use the camera", key="camera_on", help="Your browser asks before the app can use it."):
        return
    generation = st.session_state.setdefault("camera_generation", 0)
    key = f"camera_{generation}"
    st.camera_input(
        "Take a photo", key=key, on_change=_take_photo, args=(key, options),
        help="The photo is added to the images chosen, like an upload. Your browser asks before it uses the camera.",
    )


def _take_photo(key: str, options: PrepareOptions) -> None:
    photo = st.session_state.get(key)
    if photo is None:
        return
    name = f"camera-{time.strftime('%H%M%S')}.jpg"

    def prepare_and_release() -> PreparedImage:
        try:
            return prepare_upload(name, photo.getvalue(), options, source="camera")
        finally:
            _release(photo)

    ui_state.set_problems(add_prepared([name], [prepare_and_release]))
    # A fresh camera widget: the photo is kept with the chosen images, ready for the next one.
    st.session_state["camera_generation"] = st.session_state.get("camera_generation", 0) + 1


def _uploader(options: PrepareOptions) -> None:
    """The browser-shrinking picker, or Streamlit's uploader when it is off or cannot run."""
    if browser_picker.wanted():
        hint = f"{UPLOAD_HINT} {SHRUNK_HINT if options.max_side else ORIGINALS_HINT}"
        browser_picker.shrinking_uploader(options, hint, add_prepared)
        return
    generation = st.session_state.setdefault("uploader_generation", 0)
    key = f"uploader_{generation}"
    st.file_uploader(
        UPLOAD_LABEL,
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

    jobs = [lambda file=file: prepare_and_release(file) for file in files]
    problems = add_prepared([file.name for file in files], jobs)
    ui_state.set_problems(problems)
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
    problems = [ImageProblem("URL list", error.message) for error in line_problems]
    if not urls and not line_problems:
        problems.append(ImageProblem("URL list", "No URLs given: paste one image address per line."))
    if urls:
        with st.spinner(f"Fetching {plural(len(urls), 'image')}…"):
            problems += add_prepared(urls, [lambda url=url: prepare_url(url, options) for url in urls])
    ui_state.set_problems(problems)
    st.rerun()


def add_sample(key: str, options: PrepareOptions) -> None:
    """Adds one of the app's own sample pictures to the chosen images."""
    ui_state.set_problems(add_prepared([SAMPLES_BY_KEY[key].title], [lambda: prepare_sample(key, options)]))


def sample_buttons(options: PrepareOptions) -> None:
    """A tile per sample picture (a thumbnail over its button), as many to a row as fit."""
    st.caption("Pictures made by this app, and Clarifai's own sample photo (fetched from its URL when you add it).")
    with st.container(horizontal=True, gap="small", key="sample_tiles"):
        for sample in SAMPLES:
            with st.container(width=SAMPLE_TILE_WIDTH, gap="small"):
                prepared = prepare_sample(sample.key, options)
                st.image(_thumbnail(prepared.preview, prepared.digest), width="stretch")
                if st.button(sample.title, key=f"sample_{sample.key}", help=sample.description, width="stretch"):
                    add_sample(sample.key, options)
                    st.rerun()
        with st.container(width=SAMPLE_TILE_WIDTH, gap="small"):
            st.image(_clarifai_sample_thumbnail(), width="stretch")
            clicked = st.button(
                "Clarifai's sample", key="sample_clarifai_url", help=CLARIFAI_SAMPLE_URL, width="stretch"
            )
            if clicked:
                add_urls(CLARIFAI_SAMPLE_URL, options)


def _clarifai_sample_thumbnail() -> bytes | str:
    """Clarifai's photo once this visitor has it; before that (and offline, where its address
    cannot be reached) a drawn tile saying what it is and where it comes from, never a stand-in
    picture passed off as the photo."""
    fetched = next(
        (image for image in ui_state.images().values() if image.name == CLARIFAI_SAMPLE_URL and image.preview), None
    )
    if fetched is not None:
        return _thumbnail(fetched.preview, fetched.digest)
    return CLARIFAI_SAMPLE_TILE.read_text()


def add_prepared(names: Sequence[str], jobs: Sequence[Callable[[], PreparedImage]]) -> list[ImageProblem]:
    """Runs preparation jobs (two at a time, each holding one of the visitor's preparation
    slots), adds the images, and returns each problem met."""
    chosen = ui_state.images()
    problems = []
    room = MAX_IMAGES_PER_RUN - len(chosen)
    if len(jobs) > room:
        problems.append(
            ImageProblem(
                plural(len(jobs) - max(room, 0), "image"),
                f"Up to {MAX_IMAGES_PER_RUN} images go in one run and {len(chosen)} are chosen already, so "
                f"{len(jobs) - max(room, 0)} were not added. Clear some images first.",
            )
        )
        names, jobs = names[: max(room, 0)], jobs[: max(room, 0)]
    visitor = ui_state.visitor()  # read here: worker threads have no session to read it from
    with ThreadPoolExecutor(max_workers=PREPARE_WORKERS) as pool:
        outcomes = list(pool.map(lambda job: _prepare_in_slot(job, visitor), jobs))
    for name, outcome in zip(names, outcomes):
        if isinstance(outcome, ImageError):
            problems.append(ImageProblem(name, outcome.message))
        else:
            chosen.setdefault(outcome.digest, outcome)
    return problems


def _prepare_in_slot(job: Callable[[], PreparedImage], visitor: Hashable) -> PreparedImage | ImageError:
    with ExitStack() as slot:
        try:
            slot.enter_context(ui_state.PREPARATION_SLOTS.hold(visitor, timeout=PREPARE_WAIT_S))
        except TimeoutError:
            return ImageError("The server is busy preparing other visitors' images: add this one again in a minute.")
        try:
            return job()
        except ImageError as error:
            return error


def chosen_images_panel() -> list[PreparedImage]:
    """The images chosen so far, the problems met adding them, and ways to clear both."""
    chosen = list(ui_state.images().values())
    problems = ui_state.problems()
    show_problems(problems)
    if not chosen:
        if not problems:
            st.info("No images yet: upload some, paste image URLs, or pick a sample above.", icon=":material/image:")
        elif st.button("Dismiss", key="dismiss_problems"):
            ui_state.clear_problems()
            st.rerun()
        return []

    saved = sum(max(image.bytes_saved, 0) for image in chosen if image.data is not None)
    summary = f"**{plural(len(chosen), 'image')} chosen**"
    if saved > 1024 * 1024:
        summary += f" · {saved / 1024 / 1024:.1f} MB smaller to send after shrinking"
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.markdown(summary, width="content")
        st.space("stretch")
        if st.button("Clear images", icon=":material/delete:", key="clear_images"):
            ui_state.images().clear()
            ui_state.clear_problems()
            st.rerun()
        if problems and st.button("Dismiss", key="dismiss_problems", help="Hide the messages above"):
            ui_state.clear_problems()
            st.rerun()

    show_all = len(chosen) <= GALLERY_LIMIT or st.toggle(
        f"Show all {len(chosen)} thumbnails", key="show_all_thumbnails"
    )
    thumbnail_grid(chosen if show_all else chosen[:GALLERY_LIMIT])
    if not ui_state.reload_keeps_images():
        st.caption(
            ":material/info: A reload of the page starts over: this browser cannot be recognised, "
            "so images are not kept."
        )
    with st.expander("Image details"):
        st.dataframe([_details_row(image) for image in chosen], hide_index=True, width="stretch")
    return chosen


def thumbnail_grid(images: Sequence[PreparedImage]) -> None:
    """Small square thumbnails in the order chosen, left to right, as many to a row as fit."""
    with st.container(horizontal=True, gap="small", key="chosen_thumbnails"):
        for image in images:
            with st.container(width=THUMBNAIL_WIDTH, gap=None):
                if image.preview:
                    st.image(_thumbnail(image.preview, image.digest), width="stretch")
                else:
                    st.markdown(":material/link: *fetched by Clarifai*")
                st.caption(plain(shorten(last_path_part(image.name), THUMBNAIL_NAME_LENGTH, keep="both")))


def show_problems(problems: Sequence[ImageProblem]) -> None:
    """One message for every problem of the last attempt, each with its own reason."""
    if not problems:
        return
    lines = [_problem_line(problem) for problem in problems]
    if len(lines) == 1:
        st.error(lines[0], icon=":material/broken_image:")
        return
    listed = lines if len(lines) <= PROBLEMS_LISTED else lines[: PROBLEMS_LISTED - 1]
    text = f"**{len(lines)} images could not be added:**\n" + "\n".join(f"- {line}" for line in listed)
    if len(listed) < len(lines):
        text += f"\n\n…and {len(lines) - len(listed)} more, listed below."
    st.error(text, icon=":material/broken_image:")
    if len(listed) < len(lines):
        with st.expander(f"All {len(lines)} problems"):
            st.markdown("\n".join(f"- {line}" for line in lines))


def _problem_line(problem: ImageProblem) -> str:
    """One problem as markdown: its file name or address, and the message quoting it, are plain text."""
    if problem.name in problem.message:
        return plain(problem.message)
    return f"**{plain(problem.name)}**: {plain(problem.message)}"


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
    """A small square JPEG, the middle of the picture, for the grid (cached by image digest, not by bytes)."""
    picture = ImageOps.fit(Image.open(io.BytesIO(_preview)), (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, "JPEG", quality=80)
    return buffer.getvalue()
