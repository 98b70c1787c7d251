"""Model look-ups: GetModel, GetModelVersion, the runner's own signatures and ListModels (by app or
by search), each answer cached for a few minutes per query and key, refusals for a little while.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

import cachetools
from clarifai_grpc.grpc.api import resources_pb2, service_pb2

from components import errors
from components.clarifai import parts
from components.clarifai.requests import route
from components.clarifai.transport import Transport, status_error
from components.models import ModelInfo, ModelRef, Routing
from components.results import SUCCESS
from components.settings import Credentials
from components.signatures import Method

MAX_SEARCH_CHARS = 200
# Types of the classic single-task models. One of these declaring no signatures is taken as
# old-style without asking its runner, which would cost a prediction call.
OLD_STYLE_TYPES = frozenset({"visual-classifier", "visual-detector", "visual-segmenter", "image-to-text"})
BeforeCall = Callable[[], None]  # runs just before a look-up request is sent; may refuse it by raising


class Catalogue:
    """Looks models up through one transport, with the answers cached. Thread-safe."""

    def __init__(self, transport: Transport):
        self._transport = transport
        self._info_cache: cachetools.TTLCache = cachetools.TTLCache(maxsize=256, ttl=600)
        # Look-ups Clarifai refused for good (no such model, not for this key), remembered briefly so
        # that a page redrawn again and again does not ask again each time.
        self._refusals: cachetools.TTLCache = cachetools.TTLCache(maxsize=256, ttl=120)
        self._info_lock = threading.Lock()

    def get_model(
        self,
        model: ModelRef,
        credentials: Credentials,
        *,
        routing: Routing = Routing(),
        before_call: BeforeCall | None = None,
    ) -> ModelInfo:
        """Name, type and method signatures of a model (cached for a few minutes per model and key).

        Signatures come with GetModel (with the version it describes), else from GetModelVersion when
        GetModel named no version, else (for types other than the classic ones) from the runner's
        `_GET_SIGNATURES` call; none means an old-style model.
        `before_call` runs just before each request really sent (not on cache hits); what it
        raises stops the request.
        """
        cache_key = ("model", model, credentials.fingerprint, routing)
        with self._info_lock:
            if cache_key in self._info_cache:
                return self._info_cache[cache_key]
            refusal = self._refusals.get(cache_key)
        if refusal is not None:  # a model that is not there, or not for this key, is not asked about again soon
            raise type(refusal)(refusal.message, refusal.code, refusal.description)
        request = service_pb2.GetModelRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id=model.user_id, app_id=model.app_id),
            model_id=model.model_id,
            version_id=model.version_id,
        )
        before = before_call or _nothing
        before()
        try:
            response = self._info_call(self._transport.stub.GetModel, request, credentials, model)
        except (errors.ModelNotFoundError, errors.ModelForbiddenError) as error:
            with self._info_lock:
                self._refusals[cache_key] = error
            raise
        info = _model_info(response.model, model.version_id)
        if not info.methods:
            # GetModel carries the version it describes; only when it does not is the version asked for.
            # Every request names the model as it was asked for (a version only when one was named).
            ask_version = not response.model.model_version.id
            ask_runner = info.model_type_id not in OLD_STYLE_TYPES
            methods = self._signatures(model, credentials, routing, ask_version, ask_runner, before)
            info = replace(info, methods=methods)
        with self._info_lock:
            self._info_cache[cache_key] = info
        return info

    def _signatures(
        self,
        model: ModelRef,
        credentials: Credentials,
        routing: Routing,
        ask_version: bool,
        ask_runner: bool,
        before: BeforeCall,
    ) -> tuple[Method, ...]:
        if ask_version and model.version_id:
            before()
            request = service_pb2.GetModelVersionRequest(
                user_app_id=resources_pb2.UserAppIDSet(user_id=model.user_id, app_id=model.app_id),
                model_id=model.model_id,
                version_id=model.version_id,
            )
            try:
                response = self._info_call(self._transport.stub.GetModelVersion, request, credentials, model)
            except errors.ClarifaiError:
                response = None
            if response is not None and response.model_version.method_signatures:
                return parts.methods_from_protos(response.model_version.method_signatures)
        if not ask_runner:
            return ()
        # The fallback Clarifai's SDK uses: ask the runner itself. Old-style models answer with an
        # error or an empty text, which means they have no signatures.
        request = service_pb2.PostModelOutputsRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id=model.user_id, app_id=model.app_id),
            model_id=model.model_id,
            version_id=model.version_id,
            inputs=[resources_pb2.Input(data=parts.signatures_request_data())],
        )
        route(request, routing)
        before()
        try:
            response = self._transport.call(
                self._transport.stub.PostModelOutputs,
                request,
                credentials,
                self._transport.policy.info_timeout_s,
                model=model,
                routing=routing,
            )
        except errors.ClarifaiError:
            return ()
        if response.status.code != SUCCESS or not response.outputs:
            return ()
        return parts.methods_from_json(response.outputs[0].data.text.raw)

    def list_models(
        self,
        user_id: str,
        app_id: str,
        model_type_id: str,
        credentials: Credentials,
        per_page: int = 100,
        before_call: BeforeCall | None = None,
    ) -> list[ModelInfo]:
        """Models of one type in one app (cached for a few minutes per query and key).

        `before_call` runs only when the request is really sent, just before; what it raises stops it.
        """
        request = service_pb2.ListModelsRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id=user_id, app_id=app_id),
            model_type_id=model_type_id,
            per_page=per_page,
        )
        cache_key = ("list", user_id, app_id, model_type_id, per_page, credentials.fingerprint)
        return self._listed(request, cache_key, credentials, before_call, by_name=True)

    def search_models(
        self,
        query: str,
        credentials: Credentials,
        *,
        featured_only: bool = False,
        page: int = 1,
        per_page: int = 20,
        before_call: BeforeCall | None = None,
    ) -> list[ModelInfo]:
        """Clarifai's community models matching `query`, across users, one page at a time
        (cached for a few minutes per query and key). Each carries its method signatures."""
        query = " ".join(query.split())[:MAX_SEARCH_CHARS]
        request = service_pb2.ListModelsRequest(
            search=query, featured_only=featured_only, page=max(page, 1), per_page=per_page
        )
        cache_key = ("search", query, featured_only, page, per_page, credentials.fingerprint)
        return self._listed(request, cache_key, credentials, before_call, by_name=False)

    def _listed(
        self,
        request: service_pb2.ListModelsRequest,
        cache_key: tuple,
        credentials: Credentials,
        before_call: BeforeCall | None,
        by_name: bool,
    ) -> list[ModelInfo]:
        """The models ListModels answers `request` with, in its order or `by_name`, cached under
        `cache_key`; `before_call` runs only when the request is really sent."""
        with self._info_lock:
            if cache_key in self._info_cache:
                return self._info_cache[cache_key]
        if before_call is not None:
            before_call()
        response = self._info_call(self._transport.stub.ListModels, request, credentials, None)
        models = [_model_info(m, "") for m in response.models]
        if by_name:
            models.sort(key=lambda info: info.name.lower())
        with self._info_lock:
            self._info_cache[cache_key] = models
        return models

    def _info_call(self, rpc, request, credentials: Credentials, model: ModelRef | None):
        response = self._transport.call(rpc, request, credentials, self._transport.policy.info_timeout_s, model=model)
        if response.status.code != SUCCESS:
            raise status_error(response.status, model, credentials)
        return response


def _nothing() -> None:
    pass


def _model_info(model: resources_pb2.Model, named_version: str) -> ModelInfo:
    """The model Clarifai described; its ref keeps only the version that was named (none for a
    listing), and `version_id` the one Clarifai described."""
    return ModelInfo(
        ref=ModelRef(model.user_id, model.app_id, model.id, named_version),
        name=model.name or model.display_name or model.id,
        model_type_id=model.model_type_id,
        description=model.description,
        methods=parts.methods_from_protos(model.model_version.method_signatures),
        version_id=model.model_version.id or named_version,
    )

