"""Talking to Clarifai: the cached gRPC client, its statuses and their messages, and the demo
budget spent on the owner's key.

Imports only the modules directly in `components`."""
