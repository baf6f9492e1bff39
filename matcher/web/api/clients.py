"""Erasure of a client's recorded intakes (scope ``outcomes``)."""

from __future__ import annotations

from flask.views import MethodView

from matcher.services import clients
from matcher.web.api.auth import current_key, current_reach
from matcher.web.api.blueprint import ApiBlueprint
from matcher.web.context import services

blp = ApiBlueprint("clients", __name__, url_prefix="/api/v1/clients", description="Clients")


@blp.route("/<id:client_ref>")
class ClientByRef(MethodView):
    """One client, by the caller's pseudonymous reference."""

    @blp.requires("outcomes")
    @blp.response(204)
    def delete(self, client_ref: str) -> None:
        """Erase every recorded intake for this reference in the key's organisation (idempotent).

        Referrals and ratings stay for learning with no link left to the reference; the audit
        log records that an erasure happened, never the reference.
        """
        with services().writing() as session:
            clients.erase(
                session,
                client_ref=client_ref,
                actor=f"key:{current_key().id}",
                organisation_id=current_reach(),
            )
