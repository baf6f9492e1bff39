"""The application object: Flask, answering each hook's sync-or-async question once."""

from __future__ import annotations

from flask import Flask

from matcher.app import SYNC_REMEMBERED, MatcherFlask


def test_hooks_are_looked_at_once_and_per_request_callbacks_not_kept(app: Flask) -> None:
    assert isinstance(app, MatcherFlask)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    remembered = dict(app._sync)
    hooks = [*app.before_request_funcs[None], *app.after_request_funcs[None]]
    assert all(hook in remembered for hook in hooks)
    assert client.get("/healthz").status_code == 200
    assert all(app._sync[hook] is remembered[hook] for hook in hooks)  # not asked again

    def plain(value: int) -> int:
        return value + 1

    assert app.ensure_sync(plain)(1) == 2
    for n in range(2 * SYNC_REMEMBERED):  # fresh callbacks, as after_this_request makes
        assert app.ensure_sync(lambda n=n: n)() == n
    assert len(app._sync) <= SYNC_REMEMBERED
