"""Weights, candidates, learning, preview, publishing and rollback, as an admin sees them."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask.testing import FlaskClient

from matcher.core.scoring import FEATURES, load_default
from matcher.lab.simulation.history import History
from tests.web.admin.conftest import token

SignIn = Callable[[str], FlaskClient]


def _form(client: FlaskClient, path: str, **values: str) -> dict[str, str]:
    default = load_default()
    data = {f"weights.{name}": f"{w:g}" for name, w in default.weights.items()}
    data.update(intercept=f"{default.intercept:g}", csrf_token=token(client, path))
    data.update(values)
    return data


def test_home_shows_each_weight_in_words_and_who_published(sign_in: SignIn) -> None:
    page = sign_in("admin").get("/admin/").get_data(as_text=True)
    default = load_default()
    language = default.weights["language"]
    assert f"A full language match adds {language:.2f}, about {48 * language:.1f} WAI-SR" in page
    assert "Version 1 (default)" in page and "Published by" in page
    for name in FEATURES:
        assert f'<th scope="row">{name}</th>' in page
    assert 'role="img"' in page and "Every weight across versions" in page


def test_a_manual_candidate_keeps_what_was_typed_and_names_each_error(sign_in: SignIn) -> None:
    client = sign_in("admin")
    data = _form(
        client,
        "/admin/models/new",
        **{"weights.language": "-0.1", "weights.style": "lots", "note": ""},
    )
    answer = client.post("/admin/models/new", data=data)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    summary = page.split('id="error-summary"')[1].split("</div>")[0]
    assert 'href="#weights-language"' in summary and "greater than or equal to 0" in summary
    assert 'href="#weights-style"' in summary and "Enter a number" in summary
    assert 'href="#note"' in summary
    assert 'id="weights-language-error"' in page  # beside the field too
    assert 'value="-0.1"' in page and 'value="lots"' in page  # nothing typed is lost


def test_weights_summing_above_one_are_refused_like_the_api(sign_in: SignIn) -> None:
    client = sign_in("admin")
    data = _form(client, "/admin/models/new", intercept="0.9", note="Too much.")
    answer = client.post("/admin/models/new", data=data)
    assert answer.status_code == 400
    assert "intercept + sum(weights) must be &lt;= 1" in answer.get_data(as_text=True)


def test_a_manual_candidate_is_stored_previewed_published_and_rolled_back(
    sign_in: SignIn, history: Callable[[int], History]
) -> None:
    history(40)
    client = sign_in("admin")
    data = _form(
        client,
        "/admin/models/new",
        **{
            "weights.language": "0.2",
            "weights.alliance": "0.08",
            "note": "Language matters more here.",
        },
    )
    answer = client.post("/admin/models/new", data=data)
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/admin/models/2")
    page = client.get("/admin/models/2").get_data(as_text=True)
    assert "candidate, manual" in page and "Language matters more here." in page

    preview = client.get("/admin/models/2/preview?intakes=40").get_data(as_text=True)
    assert "The last 40 recorded intakes" in preview
    changed = re.search(r"<strong>(\d+)</strong> of (\d+) intakes with eligible", preview)
    assert changed and 0 < int(changed.group(1)) <= int(changed.group(2)) <= 40
    assert "Scored with the candidate's weights" in preview
    assert "New: no ratings yet" in preview and "of 40 <span" in preview

    refused = client.post("/admin/models/2/publish", data={"csrf_token": token(client, "/admin/")})
    assert refused.status_code == 400 and "Say why you publish" in refused.get_data(as_text=True)
    published = client.post(
        "/admin/models/2/publish",
        data={"note": "Clients ask for their language.", "csrf_token": token(client, "/admin/")},
    )
    assert published.status_code == 303
    home = client.get("/admin/").get_data(as_text=True)
    assert "Version 2 (manual)" in home and "Clients ask for their language." in home

    confirm = client.get("/admin/models/1/restore").get_data(as_text=True)
    assert "Make version 1 active again?" in confirm
    rolled = client.post("/admin/models/1/restore", data={"csrf_token": token(client, "/admin/")})
    assert rolled.status_code == 303
    assert "Version 1 (default)" in client.get("/admin/").get_data(as_text=True)

    log = client.get("/admin/audit").get_data(as_text=True)
    for action in ("model.create", "model.activate", "model.rollback"):
        assert f"<code>{action}</code>" in log
    assert "language: 0.080 to 0.200" in log or "language:" in log
    only = client.get("/admin/audit?action=model.rollback").get_data(as_text=True)
    assert "<code>model.rollback</code>" in only and "<code>model.activate</code>" not in only
    assert "Rolled back to version 1." in only


def test_learning_below_the_minimum_says_how_many_more(sign_in: SignIn) -> None:
    client = sign_in("admin")
    page = client.get("/admin/models/learn").get_data(as_text=True)
    assert "30 more rated referrals needed" in page and "5 more therapists needed" in page
    answer = client.post("/admin/models/learn", data={"csrf_token": token(client, "/admin/")})
    assert answer.status_code == 400
    assert "Learning needs at least 30 rated referrals" in answer.get_data(as_text=True)


def test_a_learned_candidate_shows_its_evaluation(
    sign_in: SignIn, history: Callable[[int], History]
) -> None:
    played = history(60)
    assert played.counts is not None and played.counts.referrals >= 30
    client = sign_in("admin")
    learn = client.get("/admin/models/learn").get_data(as_text=True)
    assert "are simulated" in learn
    answer = client.post("/admin/models/learn", data={"csrf_token": token(client, "/admin/")})
    assert answer.status_code == 303
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "candidate, learned" in page and "Evaluation" in page
    assert "rated referrals" in page and "Read before publishing" in page
    assert "Rank correlation within each therapist" in page
    assert 'id="intervals"' in page and 'id="calibration"' in page
    assert page.count("The numbers in this chart") == 2
