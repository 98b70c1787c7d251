"""Pictures in: preparation (decode, orient, limit, downscale), band-wise decoding, metadata,
fetching image URLs safely, the sample pictures, and the cap on preparations in flight.

Imports only the modules directly in `components`."""
