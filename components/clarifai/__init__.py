"""Talking to Clarifai, in these modules:

- `client`: `ClarifaiClient`, the cached client of one endpoint: predictions and model information;
- `transport`: the channel and stub, the key in metadata, deadlines, bounded retries, the rate
  limit and the slots for requests in flight;
- `requests`: building prediction requests: batches planned in chunks, method calls, routing;
- `replies`: Clarifai's answers as the types of `components.results`;
- `catalogue`: model look-ups (GetModel, GetModelVersion, ListModels) and their cache;
- `parts`: new-style methods on the wire: signatures read, argument values as `data.parts`, answers read;
- `status`: Clarifai's statuses and gRPC failures as typed errors with their messages;
- `budget`: the demo budget spent on the owner's key.

Imports only the modules directly in `components`."""
