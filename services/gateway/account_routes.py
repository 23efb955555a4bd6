"""Gateway routes for signing in and accounts.

Mixed into the gateway service, whose ``clients`` make the RPCs; each route's
access rule and schemas come from the operation it names.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from services.accounts import schemas as account
from services.accounts.api import AccountsApi as Accounts
from services.gateway.clients import Clients
from services.gateway.limits import SIGN_IN_REQUESTS, client_of
from services.gateway.routes import TooManyRequests, route
from services.gateway.web.pages import SESSION_COOKIE
from shared.access import SIGNED_IN
from shared.runtime import settings_of

SENT = "If that address has an account, a sign-in link is on its way."


def check_sign_in_rate(config: Any, request: Any) -> None:
    """Refuse (429) a client that has asked for too many sign-in links this hour."""
    settings = settings_of(config)
    wait = SIGN_IN_REQUESTS.take(client_of(request, settings.trusted_proxies),
                                 settings.sign_in_requests_per_client)
    if wait is not None:
        raise TooManyRequests(f"Too many sign-in requests from your network; try again in "
                              f"{max(1, round(wait / 60))} minutes.", wait)


def credential_of(request: Any) -> str:
    """The credential this request was made with (the gateway's authenticate checked it)."""
    header = request.headers.get("Authorization", "")
    if header:
        return header.partition(" ")[2].strip()
    return request.cookies.get(SESSION_COOKIE, "")


class AccountRoutes:
    clients: Clients
    config: Any

    @route("POST", "/auth/sign-in-link", "Email me a one-time sign-in link (the same answer whether "
           "or not the address has an account; a few links an hour per address, more asks are "
           "answered alike and send nothing; too many asks from one client: 429 with Retry-After)",
           "accounts", op=Accounts.request_sign_in, response=account.Accepted, status=202,
           errors=(429,))
    def request_sign_in(self, request: Any) -> dict:
        check_sign_in_rate(self.config, request)
        self.clients.accounts.request_sign_in(None, request.data_in)
        return {"message": SENT}

    @route("POST", "/auth/session", "Exchange a sign-in link for a session", "accounts",
           op=Accounts.sign_in, status=201, errors=(401,))
    def sign_in(self, request: Any) -> dict:
        return self.clients.accounts.sign_in(None, request.data_in)

    @route("POST", "/auth/sign-out", "End this session (an API token is revoked instead: 409)",
           "accounts", allow=SIGNED_IN, status=204, errors=(401, 409))
    def sign_out(self, request: Any) -> Response:
        self.clients.accounts.sign_out(credential_of(request))
        return Response(status=204)

    @route("POST", "/auth/sign-out-everywhere", "End every session of mine; says which API tokens "
           "still work and how to revoke them", "accounts", op=Accounts.sign_out_everywhere,
           errors=(401,))
    def sign_out_everywhere(self, request: Any) -> dict:
        return self.clients.accounts.sign_out_everywhere(request.principal)

    @route("GET", "/me", "Who I am and what I may do", "accounts", op=Accounts.me, errors=(401,))
    def me(self, request: Any) -> dict:
        return self.clients.accounts.me(request.principal)

    @route("POST", "/me/tokens", "Create a personal API token (shown once)", "accounts",
           op=Accounts.issue_token, status=201, errors=(401,))
    def issue_token(self, request: Any) -> dict:
        return self.clients.accounts.issue_token(request.principal, request.data_in)

    @route("DELETE", "/me/tokens/<token_id>", "Revoke one of my API tokens", "accounts",
           op=Accounts.revoke_token, status=204, errors=(401, 409))
    def revoke_token(self, request: Any, token_id: str) -> Response:
        self.clients.accounts.revoke_token(request.principal, token_id)
        return Response(status=204)

    @route("GET", "/accounts", "Every account", "accounts", op=Accounts.accounts, errors=(401, 403))
    def list_accounts(self, request: Any) -> dict:
        return self.clients.accounts.accounts(request.principal)

    @route("POST", "/accounts", "Invite someone: create their account with roles", "accounts",
           op=Accounts.invite, status=201, errors=(401, 403, 409))
    def invite(self, request: Any) -> dict:
        return self.clients.accounts.invite(request.principal, request.data_in)

    @route("GET", "/accounts/<account_id>", "One account", "accounts", op=Accounts.account,
           errors=(401, 403, 404))
    def get_account(self, request: Any, account_id: str) -> dict:
        return self.clients.accounts.account(request.principal, account_id)

    @route("POST", "/accounts/<account_id>/grants", "Grant a role", "accounts", op=Accounts.grant,
           errors=(401, 403, 404, 409))
    def grant(self, request: Any, account_id: str) -> dict:
        return self.clients.accounts.grant(request.principal, account_id, request.data_in)

    @route("POST", "/accounts/<account_id>/revocations", "Take a role away", "accounts",
           op=Accounts.revoke, errors=(401, 403, 404, 409))
    def revoke(self, request: Any, account_id: str) -> dict:
        return self.clients.accounts.revoke(request.principal, account_id, request.data_in)

    @route("POST", "/accounts/<account_id>/closure", "Close an account", "accounts",
           op=Accounts.close_account, errors=(401, 403, 404, 409))
    def close(self, request: Any, account_id: str) -> dict:
        return self.clients.accounts.close_account(request.principal, account_id)

    @route("PUT", "/accounts/<account_id>/lived-experience", "Record whether a panel member has lived "
           "experience of seeking sanctuary", "accounts", op=Accounts.record_lived_experience,
           errors=(401, 403, 404, 409))
    def record_lived_experience(self, request: Any, account_id: str) -> dict:
        return self.clients.accounts.record_lived_experience(request.principal, account_id, request.data_in)
