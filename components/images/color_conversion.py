"""How each band of a picture becomes 8-bit sRGB (or grey): through its colour profile, from
CMYK, 16-bit or float grey, and with transparency flattened onto white."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageCms

_SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_WHITE = (255, 255, 255)


_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_SIXTEEN_TO_EIGHT_BITS = np.rint(np.arange(65536) / 257.0).astype(np.uint8)  # a lookup is one pass
_PROFILE_ERRORS = (ImageCms.PyCMSError, OSError, ValueError, TypeError)


class Color:
    """How each band of a picture becomes 8-bit sRGB (or grey), decided once from its mode and profile.

    Every step works pixel by pixel, so converting band by band gives exactly the pixels that
    converting the whole picture would. The exception is 32-bit integer and float grey, whose
    scale depends on the brightest pixel of the whole picture: those bands stay float (mode F),
    are reduced like the others, and are scaled in `finish` once the peak is known.
    """

    def __init__(self, image: Image.Image) -> None:
        mode = image.mode
        icc = image.info.get("icc_profile")
        self._source_mode = mode
        self._transform: ImageCms.ImageCmsTransform | None = None
        self._transform_failed = False
        self._transparent_seen = False
        self._peak = 0.0
        self._profile_note = ""
        self.is_identity = False
        has_alpha = mode in _ALPHA_MODES or (mode in ("P", "L", "RGB", "1") and "transparency" in image.info)

        if mode == "CMYK":
            self._transform = _profile_transform(icc, "CMYK")
            self._step, self.working_mode = self._through_profile, "RGB"
        elif mode.startswith("I;16") or mode in ("I", "F"):
            self._transform = _profile_transform(icc, "L")
            if mode in ("I", "F"):
                self._step, self.working_mode = self._to_float, "F"
            else:
                self._step, self.working_mode = self._grey16_to_l, "RGB" if self._transform else "L"
        elif mode == "P" and "transparency" in image.info:
            self._flat_palette: tuple[bytes, tuple[int, ...]] | None = None  # made from the first band
            self._step, self.working_mode = self._flat_palette_to_rgb, "RGB"
        elif has_alpha:
            self._step, self.working_mode = self._flatten_on_white, "RGB"
        elif mode in ("RGB", "L") and icc and not _is_srgb(icc, mode):
            self._transform = _profile_transform(icc, mode)
            self._step, self.working_mode = self._through_profile, "RGB"
            if mode == "RGB" and self._transform is not None:
                self._profile_note = f"colours converted to sRGB from its {_profile_name(icc)} profile"
        elif mode in ("RGB", "L"):
            self._step, self.working_mode, self.is_identity = _unchanged, mode, True
        else:
            self._step, self.working_mode = _plain_rgb, "RGB"

    def convert(self, band: Image.Image) -> Image.Image:
        return self._step(band)

    def finish(self, reduced: Image.Image) -> Image.Image:
        if reduced.mode != "F":
            return reduced
        values = np.array(reduced, dtype=np.float32)  # one copy, scaled in place
        peak = self._peak
        if self._source_mode == "F":
            values *= 255.0 if peak <= 1.0 else 255.0 / 65535.0 if peak > 255 else 1.0
        elif peak > 255:
            values /= 257.0
        np.clip(np.rint(values, out=values), 0, 255, out=values)
        grey = Image.fromarray(values.astype(np.uint8), "L")
        return self._through_profile(grey) if self._transform else grey

    def notes(self) -> list[str]:
        if self._source_mode == "CMYK":
            converted = self._transform is not None and not self._transform_failed
            return ["CMYK converted to RGB through its colour profile" if converted else "CMYK converted to RGB"]
        if self._profile_note and not self._transform_failed:
            return [self._profile_note]
        return ["transparent areas filled with white"] if self._transparent_seen else []

    def _through_profile(self, band: Image.Image) -> Image.Image:
        if self._transform is not None and not self._transform_failed:
            try:
                return ImageCms.applyTransform(band, self._transform)
            except _PROFILE_ERRORS:
                self._transform_failed = True  # a broken profile: plain conversion is the best we can do
        return band if band.mode == "L" and self.working_mode == "L" else band.convert("RGB")

    def _grey16_to_l(self, band: Image.Image) -> Image.Image:
        """16-bit grey to 8 bits by scaling (v/257, rounded), not clipping as Pillow's convert does."""
        values = np.asarray(band)
        if values.dtype.kind != "u":  # signed 16-bit: below zero is black
            values = np.clip(values, 0, None).astype(np.uint16)
        grey = Image.fromarray(_SIXTEEN_TO_EIGHT_BITS[values], "L")
        return self._through_profile(grey) if self._transform else grey

    def _to_float(self, band: Image.Image) -> Image.Image:
        values = np.nan_to_num(np.asarray(band, dtype=np.float32))
        self._peak = max(self._peak, float(values.max(initial=0.0)))
        # Whatever the scale turns out to be, a pixel ends up clipped to black below 0 and to white
        # above 65535 (or below a lower peak, which no pixel exceeds): clip now, before averaging.
        np.clip(values, 0, 65535, out=values)
        return Image.fromarray(values, "F")

    def _flat_palette_to_rgb(self, band: Image.Image) -> Image.Image:
        """A palette band through the palette already flattened on white: one lookup per pixel."""
        if self._flat_palette is None:
            self._flat_palette = _palette_flattened_on_white(band)
        flat_palette, see_through = self._flat_palette
        if not self._transparent_seen:
            counts = band.histogram()
            self._transparent_seen = any(counts[index] for index in see_through)
        band = band.copy()
        band.info.pop("transparency", None)
        band.putpalette(flat_palette)
        return band.convert("RGB")

    def _flatten_on_white(self, band: Image.Image) -> Image.Image:
        rgba = band.convert("RGBA")
        lowest, highest = rgba.getchannel("A").getextrema()
        if lowest == 255:
            return rgba.convert("RGB")
        self._transparent_seen = True
        if highest == 0:  # all see-through: compositing gives the background itself
            return Image.new("RGB", rgba.size, _WHITE)
        background = Image.new("RGBA", rgba.size, _WHITE + (255,))
        background.alpha_composite(rgba)
        return background.convert("RGB")


def _palette_flattened_on_white(band: Image.Image) -> tuple[bytes, tuple[int, ...]]:
    """Each palette colour flattened on white exactly as a pixel of it would be, and the indices
    that are not fully opaque."""
    palette_mode = band.palette.mode if band.palette is not None else "RGB"
    indices = Image.frombytes("P", (256, 1), bytes(range(256)))
    indices.putpalette(band.getpalette(palette_mode) or b"", palette_mode)
    indices.info["transparency"] = band.info["transparency"]
    rgba = indices.convert("RGBA")
    background = Image.new("RGBA", rgba.size, _WHITE + (255,))
    background.alpha_composite(rgba)
    alpha = rgba.getchannel("A").tobytes()
    return background.convert("RGB").tobytes(), tuple(i for i, value in enumerate(alpha) if value < 255)


def _unchanged(band: Image.Image) -> Image.Image:
    return band


def _plain_rgb(band: Image.Image) -> Image.Image:
    return band.convert("RGB")


def _profile_transform(icc: bytes | None, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A transform from the embedded ICC profile to sRGB; None if there is none usable."""
    if not icc:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.buildTransform(
            profile, _SRGB_PROFILE, mode, "RGB", renderingIntent=ImageCms.Intent.PERCEPTUAL
        )
    except _PROFILE_ERRORS:
        return None


def _is_srgb(icc: bytes, mode: str) -> bool:
    if mode != "RGB":
        return False
    try:
        return "srgb" in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).lower()
    except _PROFILE_ERRORS:
        return False


def _profile_name(icc: bytes) -> str:
    try:
        name = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip()
    except _PROFILE_ERRORS:
        return "embedded"
    return name[:40] or "embedded"
