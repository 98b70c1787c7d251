"""Pictures in: from an upload or a URL to the picture that is sent and drawn on.

- `preparation`: `prepare_upload`, `prepare_url` and the `PreparedImage` they give
- `limits`: the limits on images taken and the formats read, and the checks against them
- `decoding`: opening a file, decoding it within a memory bound, reducing it, turning it upright
- `colour_conversion`: each band to 8-bit sRGB (profiles, CMYK, 16-bit and float grey, transparency)
- `decode_errors`: why a file cannot be opened or decoded, in words
- `encoding`: the picture re-encoded without metadata, and its preview
- `bands`: band-wise decoding (libvips streams)
- `metadata`: frame counts and orientation read from the file's bytes
- `url_fetch`: fetching image URLs safely
- `samples`: the sample pictures
- `slots`: the cap on preparations in flight

Imports only the modules directly in `components`, and each other."""
