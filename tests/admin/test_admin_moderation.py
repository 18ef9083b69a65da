"""Moderation in the open: hiding, blocking, closing a group, the public log and the CSRF
tokens they need; and brands kept apart, in the admin's pages and its live namespace."""

from __future__ import annotations

import uuid

from socialads.domain.accounts import make_brand
from tests.support.admin import add_person, conversation, viewer_message
from tests.support.seeds import CAMPAIGN

# -- moderation -------------------------------------------------------------------------------


def test_hiding_a_message_removes_it_everywhere_and_logs_why(
    server, viewers, make_campaign, store, brand, web_admin, client
):
    campaign = make_campaign()
    cid = campaign["id"]
    sam = add_person(store, brand["brand_id"], "Sam Okafor", "Community lead")
    ana = viewers(server.url, name="Ana")
    token = ana.join(cid)["session"]
    ben = viewers(server.url, name="Ben")
    ben.join(cid, session=token)
    spam = ana.say("BUY CHEAP WATCHES at spam.example")["message"]
    kept = ana.say("Count me in")["message"]
    ben.wait_for("message", lambda m: m["id"] == kept["id"])

    mark = ben.mark()
    hidden = web_admin.post(
        f"{conversation(cid)}/hide",
        {
            "session": token,
            "message": str(spam["id"]),
            "person": sam["id"],
            "reason": "Advertising",
        },
        csrf_from=conversation(cid),
    )
    assert hidden.status_code == 302
    assert ben.wait_for("hidden", after=mark) == {"id": spam["id"]}

    snapshot = viewers(server.url).join(cid, session=token)
    assert [m["id"] for m in snapshot["messages"]] == [kept["id"]]
    since = viewers(server.url).join(cid, session=token, since=0)
    assert [m["id"] for m in since["messages"]] == [kept["id"]]

    page = web_admin.get(conversation(cid)).text
    assert "BUY CHEAP WATCHES" not in page and "Hidden by Sam Okafor: Advertising" in page

    log = client.get(f"/c/{cid}/moderation")
    html = log.get_data(as_text=True)
    assert log.status_code == 200 and "Content-Security-Policy" in log.headers
    assert "Advertising" in html and "Hid a message" in html and "Sam Okafor" in html
    assert "Community lead" in html
    assert "WATCHES" not in html and "Ana" not in html and brand["email"] not in html
    assert ' data-live="' not in html  # a page to read: no live code (boot.js only sizes it)
    widget = client.get(f"/w/{cid}").get_data(as_text=True)
    assert f'href="/c/{cid}/moderation"' in widget

    # a reason is required, and it is short
    for reason, status in (("", 400), ("r" * 201, 400)):
        refused = web_admin.post(
            f"{conversation(cid)}/hide",
            {"session": token, "message": str(kept["id"]), "person": sam["id"], "reason": reason},
            csrf_from=conversation(cid),
        )
        assert refused.status_code == status
    assert [m["id"] for m in store.conversations(cid)[0]["messages"]] == [spam["id"], kept["id"]]


def test_a_blocked_viewer_cannot_join_act_or_say(
    server, viewers, make_campaign, store, brand, web_admin, client
):
    campaign = make_campaign()
    cid = campaign["id"]
    sam = add_person(store, brand["brand_id"], "Sam Okafor", "Community lead")
    troll = viewers(server.url, name="Troll")
    token = troll.join(cid)["session"]
    said = troll.say("you are all idiots")["message"]
    ana = viewers(server.url, name="Ana")
    ana.join(cid, session=token)

    mark = troll.mark()
    blocked = web_admin.post(
        f"{conversation(cid)}/block",
        {
            "session": token,
            "message": str(said["id"]),
            "person": sam["id"],
            "reason": "Insults other viewers",
        },
        csrf_from=conversation(cid),
    )
    assert blocked.status_code == 302
    told = troll.wait_for("blocked", after=mark)
    assert "Insults other viewers" in told["message"]
    ana.wait_for("presence", lambda p: [m["name"] for m in p["members"]] == ["Ana"])

    for answer in (troll.act(), troll.say("let me in")):
        assert answer["ok"] is False and answer["error"]["code"] == "inactive"
        assert "Insults other viewers" in answer["error"]["message"]
    again = viewers(server.url, viewer=troll.viewer).join(cid, session=token)
    assert again["ok"] is False and again["error"]["code"] == "inactive"
    assert viewers(server.url, viewer=troll.viewer).join(cid)["error"]["code"] == "inactive"
    assert ana.act()["ok"] and ana.say("Still here")["ok"]  # nobody else is touched

    html = client.get(f"/c/{cid}/moderation").get_data(as_text=True)
    assert "Blocked a viewer" in html and "Insults other viewers" in html
    assert "idiots" not in html and "Troll" not in html
    page = web_admin.get(conversation(cid)).text
    assert "Blocked viewers" in page and "Insults other viewers" in page

    member = said["author"]["id"]
    assert (
        web_admin.post(
            f"{conversation(cid)}/unblock",
            {"member": member, "person": sam["id"], "reason": "Apologised"},
            csrf_from=conversation(cid),
        ).status_code
        == 302
    )
    assert viewers(server.url, viewer=troll.viewer).join(cid, session=token)["ok"] is True
    html = client.get(f"/c/{cid}/moderation").get_data(as_text=True)
    assert html.index("Unblocked a viewer") < html.index("Blocked a viewer")  # newest first


def test_the_brand_closes_a_group_for_good_and_says_why(
    servers, viewers, make_campaign, store, brand, web_admin, client, admin
):
    campaign = make_campaign()
    cid = campaign["id"]
    sam = add_person(store, brand["brand_id"], "Sam Okafor", "Community lead")
    ana = viewers(servers[0].url, name="Ana")
    ben = viewers(servers[1].url, name="Ben")
    token = ana.join(cid)["session"]
    ben.join(cid, session=token)
    ana.say("anyone here?")
    assert ben.act()["total"] == 1

    # a reason is required, and the form needs its CSRF token
    assert (
        web_admin.post(
            f"{conversation(cid)}/close",
            {"session": token, "person": sam["id"], "reason": ""},
            csrf_from=conversation(cid),
        ).status_code
        == 400
    )
    assert (
        admin.client.post(
            f"{conversation(cid)}/close",
            data={"session": token, "person": sam["id"], "reason": "x"},
        ).status_code
        == 400
    )
    assert store.session_open(cid, token)

    marks = ana.mark(), ben.mark()
    closed = web_admin.post(
        f"{conversation(cid)}/close",
        {"session": token, "person": sam["id"], "reason": "Off-topic spam ring"},
        csrf_from=conversation(cid),
    )
    assert closed.status_code == 302
    for viewer, mark in zip((ana, ben), marks, strict=True):  # on both processes
        told = viewer.wait_for("closed", after=mark)
        assert told["reason"] == "Off-topic spam ring"
    # nothing more counts or is said there, whatever a late client sends
    for answer in (ben.act(), ben.say("still?")):
        assert answer["ok"] is False and answer["error"]["code"] in ("not_joined", "not_found")
    again = viewers(servers[1].url, viewer=ben.viewer).join(cid, session=token)
    assert again["ok"] is False and again["error"]["code"] == "not_found"
    assert again["error"]["closed"] is True
    assert store.record_action(cid, token, "late", "x", 1).status == -4
    assert store.campaign_progress(cid, [token])[2][0]["total"] == 1
    # a new group works as ever, and the invite page of the closed one is 404
    assert viewers(servers[0].url, viewer=ben.viewer).join(cid)["ok"] is True
    assert client.get(f"/s/{token}").status_code == 404

    html = client.get(f"/c/{cid}/moderation").get_data(as_text=True)
    assert "Closed a group" in html and "Off-topic spam ring" in html
    page = web_admin.get(conversation(cid)).text
    assert "Closed by Sam Okafor: Off-topic spam ring" in page
    assert "Close this group" not in page.split(f'id="s-{token}"')[1].split("</section>")[0]
    # a reply typed in a page opened before the group closed is refused, not a crash
    late = web_admin.post(
        f"{conversation(cid)}/reply",
        {"session": token, "reply_id": "r-late-1234", "person": sam["id"], "text": "Hello?"},
        csrf_from=conversation(cid),
    )
    assert late.status_code == 409 and "This group was closed" in late.text
    # closing again changes nothing
    assert (
        web_admin.post(
            f"{conversation(cid)}/close",
            {"session": token, "person": sam["id"], "reason": "again"},
            csrf_from=conversation(cid),
        ).status_code
        == 302
    )
    assert [e["action"] for e in store.moderation_log(cid)] == ["close"]


def test_the_moderation_log_of_an_unknown_campaign_is_404(client):
    assert client.get("/c/c_nosuchcampaign/moderation").status_code == 404
    assert client.get("/c/bad id!/moderation").status_code == 404


def test_reply_hide_block_and_unblock_need_their_csrf_token(admin, make_campaign, store, brand):
    campaign = make_campaign()
    cid = campaign["id"]
    maya = add_person(store, brand["brand_id"])
    token, message = viewer_message(store, cid)
    forms = {
        "reply": {"session": token, "reply_id": "r-12345678", "person": maya["id"], "text": "Hi"},
        "hide": {
            "session": token,
            "message": str(message["id"]),
            "person": maya["id"],
            "reason": "Spam",
        },
        "block": {
            "session": token,
            "message": str(message["id"]),
            "person": maya["id"],
            "reason": "Spam",
        },
        "unblock": {"member": message["author"]["id"], "person": maya["id"], "reason": "Oops"},
    }
    for action, form in forms.items():
        for headers in ({}, {"X-CSRFToken": "not-the-token"}):
            answer = admin.client.post(f"{conversation(cid)}/{action}", data=form, headers=headers)
            assert answer.status_code == 400, action
    assert store.brand_replies(cid) == 0 and store.moderation_log(cid) == []
    # the header alone is enough (that is how conversation.js sends its forms)
    header = {"X-CSRFToken": admin.csrf(conversation(cid)), "Accept": "application/json"}
    answer = admin.client.post(
        f"{conversation(cid)}/reply", headers=header, data={k: v for k, v in forms["reply"].items()}
    )
    assert answer.status_code == 200 and answer.get_json()["message"]["author"]["brand_person"]


# -- brands kept apart ------------------------------------------------------------------------


def test_another_brands_campaign_person_and_messages_are_404(
    admin, app, make_campaign, store, brand
):
    suffix = uuid.uuid4().hex[:6]
    other = make_brand(store, "Other", f"other-{suffix}@example.test", "password123")
    from socialads.domain import campaigns

    theirs = campaigns.create(store, other["brand_id"], CAMPAIGN)
    their_person = add_person(store, other["brand_id"], "Their Person")
    their_token, their_message = viewer_message(store, theirs.id)
    ours = make_campaign()
    maya = add_person(store, brand["brand_id"])
    our_token, our_message = viewer_message(store, ours["id"])

    page = conversation(ours["id"])
    assert admin.get(page).status_code == 200
    assert admin.get(conversation(theirs.id)).status_code == 404
    for path in (f"/admin/people/{their_person['id']}",):
        assert admin.get(path).status_code == 404
        assert (
            admin.post(path, {"name": "X", "role": "Y"}, csrf_from="/admin/people").status_code
            == 404
        )
        assert admin.post(f"{path}/delete", csrf_from="/admin/people").status_code == 404
    assert store.get_person(other["brand_id"], their_person["id"])["name"] == "Their Person"

    def forms(cid, token, message_id, speaker, member):
        return {
            "reply": {"session": token, "reply_id": "r-12345678", "person": speaker, "text": "Hi"},
            "hide": {
                "session": token,
                "message": str(message_id),
                "person": speaker,
                "reason": "Spam",
            },
            "block": {
                "session": token,
                "message": str(message_id),
                "person": speaker,
                "reason": "Spam",
            },
            "unblock": {"member": member, "person": speaker, "reason": "Oops"},
            "close": {"session": token, "person": speaker, "reason": "Spam"},
        }

    cases = {
        "their campaign": (
            theirs.id,
            forms(
                theirs.id,
                their_token,
                their_message["id"],
                their_person["id"],
                their_message["author"]["id"],
            ),
        ),
        "their person": (
            ours["id"],
            forms(
                ours["id"],
                our_token,
                our_message["id"],
                their_person["id"],
                our_message["author"]["id"],
            ),
        ),
        "their session": (
            ours["id"],
            forms(
                ours["id"], their_token, our_message["id"], maya["id"], our_message["author"]["id"]
            ),
        ),
        "no such message": (
            ours["id"],
            forms(ours["id"], our_token, our_message["id"] + 7, maya["id"], "abc123"),
        ),
    }
    for case, (cid, by_action) in cases.items():
        for action, form in by_action.items():
            if case == "their session" and action == "unblock":
                continue  # unblock names no session
            if case == "no such message" and action in ("reply", "close"):
                continue  # a reply, a closing name no message
            answer = admin.post(f"{conversation(cid)}/{action}", form, csrf_from=page)
            assert answer.status_code == 404, (case, action)
    assert store.brand_replies(theirs.id) == store.brand_replies(ours["id"]) == 0
    assert store.moderation_log(theirs.id) == store.moderation_log(ours["id"]) == []
    assert store.blocked_viewers(ours["id"]) == []
    assert store.session_open(theirs.id, their_token) and store.session_open(ours["id"], our_token)
