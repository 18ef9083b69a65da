"""The brand's people, the conversation view and moderation in the open: the roster, replies as
a named person reaching real widgets, hiding, blocking, the public log, and brands kept apart."""

from __future__ import annotations

import re
import time
import uuid

import pytest
import requests
import socketio

from socialads.runtime.cli import make_brand

from ..browser.test_browser import browser, person, publish, publisher  # noqa: F401  (fixtures used below)
from ..conftest import AdminSession

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def add_person(store, brand_id: str, name: str = "Maya Lopez", role: str = "Head of sourcing",
               ) -> dict:
    someone = {"id": "p_" + uuid.uuid4().hex[:12], "name": name, "role": role,
               "photo_url": "", "bio": ""}
    store.save_person(brand_id, someone)
    return someone


def feature(store, campaign: dict, *people: dict) -> dict:
    """Feature people in a campaign (the editor's `people` field), straight in the store."""
    updated = {**campaign, "people": [someone["id"] for someone in people]}
    store.save_campaign(updated)
    return updated


def viewer_message(store, cid: str, text: str = "Where does the money go?") -> tuple[str, dict]:
    """A session with one viewer message, written the way the Hub writes it."""
    token = store.create_session(cid, "v-" + uuid.uuid4().hex)
    _, message = store.post_message(cid, token, f"v\0{uuid.uuid4().hex}", {
        "text": text, "ts": int(time.time() * 1000),
        "author": {"id": uuid.uuid4().hex[:12], "name": "Curious Otter", "brand_person": False}})
    return token, message


class WebAdmin:
    """A team member logged in to a real `serve` process through the login form."""

    def __init__(self, base: str, email: str, password: str = "password123"):
        self.base = base
        self.http = requests.Session()
        answer = self.http.post(f"{base}/admin/login", allow_redirects=False, data={
            "email": email, "password": password, "csrf_token": self.csrf("/admin/login")})
        assert answer.status_code == 302, answer.text[:500]

    def csrf(self, path: str) -> str:
        return CSRF.search(self.http.get(self.base + path).text).group(1)

    def get(self, path: str):
        return self.http.get(self.base + path)

    def post(self, path: str, data: dict, csrf_from: str, **kwargs):
        return self.http.post(self.base + path, data={**data, "csrf_token": self.csrf(csrf_from)},
                              allow_redirects=False, **kwargs)

    def socket(self, **kwargs) -> socketio.Client:
        """A client of the ``/admin`` namespace carrying this login's session cookie."""
        client = socketio.Client(reconnection=False)
        client.connect(self.base, namespaces=["/admin"], transports=["websocket"],
                       wait_timeout=10, headers={
                           "Cookie": "; ".join(f"{c.name}={c.value}" for c in self.http.cookies),
                           "User-Agent": self.http.headers["User-Agent"]}, **kwargs)
        return client


@pytest.fixture
def web_admin(server, brand):
    return WebAdmin(server.url, brand["email"])


def conversation(cid: str) -> str:
    return f"/admin/campaigns/{cid}/conversation"


# -- the roster -------------------------------------------------------------------------------


def test_the_roster_adds_edits_and_removes_people_with_errors_by_the_fields(admin, brand,
                                                                            store, app):
    page = admin.get("/admin/people")
    assert page.status_code == 200 and 'href="/admin/people"' in page.get_data(as_text=True)

    refused = admin.post("/admin/people", {"name": " ", "role": "x" * 61,
                                           "photo_url": "http://cdn.example/m.jpg",
                                           "bio": "b" * 281})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    for field in ("name", "role", "photo_url", "bio"):
        assert f'id="{field}-error"' in html, field
    assert "https://" in html and store.brand_people(brand["brand_id"]) == []

    added = admin.post("/admin/people", {"name": "  Maya   Lopez ", "role": "Head of sourcing",
                                         "photo_url": "https://cdn.example/maya.jpg",
                                         "bio": "Buys the cotton."})
    assert added.status_code == 302
    [maya] = store.brand_people(brand["brand_id"])
    assert (maya["name"], maya["role"], maya["photo_url"], maya["bio"]) == (
        "Maya Lopez", "Head of sourcing", "https://cdn.example/maya.jpg", "Buys the cotton.")
    listed = admin.get("/admin/people").get_data(as_text=True)
    assert "Maya Lopez" in listed and "Head of sourcing" in listed

    # members keep the roster too, not only owners
    email = f"member-{uuid.uuid4().hex[:6]}@example.test"
    from socialads.admin.auth import hasher

    store.create_user(email, brand["brand_id"], hasher.hash("password123"), "member")
    member = AdminSession(app.test_client(), email, "password123")
    assert member.login().status_code == 302
    path = f"/admin/people/{maya['id']}"
    assert "Maya Lopez" in member.get(path).get_data(as_text=True)
    assert member.post(path, {"name": "Maya López", "role": "Sourcing lead"}).status_code == 302
    assert store.get_person(brand["brand_id"], maya["id"])["role"] == "Sourcing lead"
    assert member.post(path, {"name": "Maya", "role": ""}).status_code == 400

    removed = member.post(f"{path}/delete", csrf_from="/admin/people")
    assert removed.status_code == 302 and store.brand_people(brand["brand_id"]) == []


# -- replies ----------------------------------------------------------------------------------


def test_a_reply_as_a_person_reaches_the_widget_live(server, viewers, make_campaign, store,
                                                     brand, web_admin):
    campaign = make_campaign()
    cid = campaign["id"]
    maya = add_person(store, brand["brand_id"])
    ana = viewers(server.url, name="Ana")
    token = ana.join(cid)["session"]
    asked = ana.say("Is the cotton really organic?")["message"]
    ben = viewers(server.url, name="Ben")
    ben.join(cid, session=token)

    page = web_admin.get(conversation(cid))
    assert page.status_code == 200
    assert "Is the cotton really organic?" in page.text and token in page.text
    assert "data-waiting>Waiting for an answer" in page.text

    marks = {viewer: viewer.mark() for viewer in (ana, ben)}
    answer = web_admin.post(f"{conversation(cid)}/reply", {
        "session": token, "reply_id": "r-" + uuid.uuid4().hex, "person": maya["id"],
        "text": "Yes: certified by GOTS, and we publish the farms."}, csrf_from=conversation(cid))
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"#s-{token}")
    for viewer in (ana, ben):
        reply = viewer.wait_for("message", lambda m: m["author"].get("brand_person"),
                                after=marks[viewer])
        assert reply["text"] == "Yes: certified by GOTS, and we publish the farms."
        assert reply["author"] == {"id": maya["id"], "name": "Maya Lopez",
                                   "role": "Head of sourcing", "brand_person": True}
        assert reply["id"] == asked["id"] + 1  # numbered like any message

    # the same form sent twice (a double click) posts once; fetch gets JSON
    again = web_admin.post(f"{conversation(cid)}/reply", {
        "session": token, "reply_id": "r-twice-1", "person": maya["id"], "text": "Thanks!"},
        csrf_from=conversation(cid), headers={"Accept": "application/json"})
    repeat = web_admin.post(f"{conversation(cid)}/reply", {
        "session": token, "reply_id": "r-twice-1", "person": maya["id"], "text": "Thanks!"},
        csrf_from=conversation(cid), headers={"Accept": "application/json"})
    assert again.json()["ok"] and repeat.json()["message"] == again.json()["message"]
    snapshot = viewers(server.url).join(cid, session=token)["messages"]
    assert [m["text"] for m in snapshot].count("Thanks!") == 1

    assert store.brand_replies(cid) == 2  # the repeat is not a reply
    waited = store.reply_seconds(cid)
    assert len(waited) == 1 and 0 <= waited[0] < 30  # the second reply answered nobody waiting
    assert store.median_reply_seconds(cid) == waited[0]
    widget = requests.get(f"{server.url}/w/{cid}", timeout=10).text
    assert f"People from {brand['name']} usually answer within a minute." in widget
    assert "data-waiting>Waiting for an answer" not in web_admin.get(conversation(cid)).text


def test_reply_latency_counts_from_the_oldest_unanswered_message(make_campaign, store):
    from socialads.domain.conversation import answer_time

    cid = make_campaign()["id"]
    brand_author = {"id": "p_x", "name": "Maya", "role": "Sourcing", "brand_person": True}

    def session(*events):
        token = store.create_session(cid, "leader")
        for kind, ts in events:
            if kind == "viewer":
                store.post_message(cid, token, f"v\0{uuid.uuid4().hex}", {
                    "text": "?", "ts": ts, "author": {"id": "m", "name": "V",
                                                      "brand_person": False}})
            else:
                store.post_brand_reply(cid, token, uuid.uuid4().hex,
                                       {"text": "!", "ts": ts, "author": brand_author})

    assert store.median_reply_seconds(cid) is None
    # two questions, one answer: the wait counts from the first; a second reply waits for
    # nobody and adds no latency
    session(("viewer", 1_000), ("viewer", 30_000), ("brand", 61_000), ("brand", 90_000))
    assert store.reply_seconds(cid) == [60.0] and store.median_reply_seconds(cid) == 60.0
    session(("viewer", 0), ("brand", 10_000), ("viewer", 20_000), ("brand", 40_000))
    assert store.reply_seconds(cid) == [20.0, 10.0, 60.0]
    assert store.median_reply_seconds(cid) == 20.0
    session(("viewer", 0), ("brand", 1_000_000))
    assert store.median_reply_seconds(cid) == 40.0  # (20 + 60) / 2
    assert store.brand_replies(cid) == 5
    assert [answer_time(s) for s in (5, 60, 61, 7199, 7201, 200_000)] == [
        "a minute", "a minute", "2 minutes", "2 hours", "3 hours", "3 days"]


def test_a_reply_needs_text_and_a_person(admin, make_campaign, store, brand):
    campaign = make_campaign()
    cid = campaign["id"]
    maya = add_person(store, brand["brand_id"])
    token, _ = viewer_message(store, cid)
    empty = admin.post(f"{conversation(cid)}/reply", {
        "session": token, "reply_id": "r-12345678", "person": maya["id"], "text": "  "},
        csrf_from=conversation(cid))
    assert empty.status_code == 400 and "Write a reply." in empty.get_data(as_text=True)
    long = admin.post(f"{conversation(cid)}/reply", {
        "session": token, "reply_id": "r-12345678", "person": maya["id"], "text": "x" * 501},
        csrf_from=conversation(cid), headers={"Accept": "application/json"})
    assert long.status_code == 400 and long.get_json()["error"]["fields"]["text"]
    nobody = admin.post(f"{conversation(cid)}/reply", {
        "session": token, "reply_id": "r-12345678", "person": "", "text": "Hello"},
        csrf_from=conversation(cid))
    assert nobody.status_code == 400 and "Choose who speaks." in nobody.get_data(as_text=True)
    assert store.brand_replies(cid) == 0


def test_the_conversation_page_without_people_says_who_to_add(admin, make_campaign, store):
    campaign = make_campaign()
    viewer_message(store, campaign["id"], "Hello?")
    html = admin.get(conversation(campaign["id"])).get_data(as_text=True)
    assert "Hello?" in html and "Add someone to your roster" in html
    tab = admin.get(f"/admin/campaigns/{campaign['id']}").get_data(as_text=True)
    assert f'href="{conversation(campaign["id"])}"' in tab


# -- moderation -------------------------------------------------------------------------------


def test_hiding_a_message_removes_it_everywhere_and_logs_why(server, viewers, make_campaign,
                                                            store, brand, web_admin, client):
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
    hidden = web_admin.post(f"{conversation(cid)}/hide", {
        "session": token, "message": str(spam["id"]), "person": sam["id"],
        "reason": "Advertising"}, csrf_from=conversation(cid))
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
        refused = web_admin.post(f"{conversation(cid)}/hide", {
            "session": token, "message": str(kept["id"]), "person": sam["id"],
            "reason": reason}, csrf_from=conversation(cid))
        assert refused.status_code == status
    assert [m["id"] for m in store.conversations(cid)[0]["messages"]] == [spam["id"], kept["id"]]


def test_a_blocked_viewer_cannot_join_act_or_say(server, viewers, make_campaign, store, brand,
                                                  web_admin, client):
    campaign = make_campaign()
    cid = campaign["id"]
    sam = add_person(store, brand["brand_id"], "Sam Okafor", "Community lead")
    troll = viewers(server.url, name="Troll")
    token = troll.join(cid)["session"]
    said = troll.say("you are all idiots")["message"]
    ana = viewers(server.url, name="Ana")
    ana.join(cid, session=token)

    mark = troll.mark()
    blocked = web_admin.post(f"{conversation(cid)}/block", {
        "session": token, "message": str(said["id"]), "person": sam["id"],
        "reason": "Insults other viewers"}, csrf_from=conversation(cid))
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
    assert web_admin.post(f"{conversation(cid)}/unblock", {
        "member": member, "person": sam["id"], "reason": "Apologised"},
        csrf_from=conversation(cid)).status_code == 302
    assert viewers(server.url, viewer=troll.viewer).join(cid, session=token)["ok"] is True
    html = client.get(f"/c/{cid}/moderation").get_data(as_text=True)
    assert html.index("Unblocked a viewer") < html.index("Blocked a viewer")  # newest first


def test_the_brand_closes_a_group_for_good_and_says_why(servers, viewers, make_campaign, store,
                                                       brand, web_admin, client, admin):
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
    assert web_admin.post(f"{conversation(cid)}/close", {
        "session": token, "person": sam["id"], "reason": ""},
        csrf_from=conversation(cid)).status_code == 400
    assert admin.client.post(f"{conversation(cid)}/close", data={
        "session": token, "person": sam["id"], "reason": "x"}).status_code == 400
    assert store.session_open(cid, token)

    marks = ana.mark(), ben.mark()
    closed = web_admin.post(f"{conversation(cid)}/close", {
        "session": token, "person": sam["id"], "reason": "Off-topic spam ring"},
        csrf_from=conversation(cid))
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
    late = web_admin.post(f"{conversation(cid)}/reply", {
        "session": token, "reply_id": "r-late-1234", "person": sam["id"], "text": "Hello?"},
        csrf_from=conversation(cid))
    assert late.status_code == 409 and "This group was closed" in late.text
    # closing again changes nothing
    assert web_admin.post(f"{conversation(cid)}/close", {
        "session": token, "person": sam["id"], "reason": "again"},
        csrf_from=conversation(cid)).status_code == 302
    assert [e["action"] for e in store.moderation_log(cid)] == ["close"]


def test_the_moderation_log_of_an_unknown_campaign_is_404(client):
    assert client.get("/c/c_nosuchcampaign/moderation").status_code == 404
    assert client.get("/c/bad id!/moderation").status_code == 404


def test_reply_hide_block_and_unblock_need_their_csrf_token(admin, make_campaign, store, brand):
    campaign = make_campaign()
    cid = campaign["id"]
    maya = add_person(store, brand["brand_id"])
    token, message = viewer_message(store, cid)
    forms = {"reply": {"session": token, "reply_id": "r-12345678", "person": maya["id"],
                       "text": "Hi"},
             "hide": {"session": token, "message": str(message["id"]), "person": maya["id"],
                      "reason": "Spam"},
             "block": {"session": token, "message": str(message["id"]), "person": maya["id"],
                       "reason": "Spam"},
             "unblock": {"member": message["author"]["id"], "person": maya["id"],
                         "reason": "Oops"}}
    for action, form in forms.items():
        for headers in ({}, {"X-CSRFToken": "not-the-token"}):
            answer = admin.client.post(f"{conversation(cid)}/{action}", data=form,
                                       headers=headers)
            assert answer.status_code == 400, action
    assert store.brand_replies(cid) == 0 and store.moderation_log(cid) == []
    # the header alone is enough (that is how conversation.js sends its forms)
    header = {"X-CSRFToken": admin.csrf(conversation(cid)), "Accept": "application/json"}
    answer = admin.client.post(f"{conversation(cid)}/reply", headers=header,
                               data={k: v for k, v in forms["reply"].items()})
    assert answer.status_code == 200 and answer.get_json()["message"]["author"]["brand_person"]


# -- brands kept apart ------------------------------------------------------------------------


def test_another_brands_campaign_person_and_messages_are_404(admin, app, make_campaign, store,
                                                             brand):
    suffix = uuid.uuid4().hex[:6]
    other = make_brand(store, "Other", f"other-{suffix}@example.test", "password123")
    from socialads.domain import campaigns

    from ..conftest import CAMPAIGN

    theirs = campaigns.create(store, other["brand_id"], CAMPAIGN)
    their_person = add_person(store, other["brand_id"], "Their Person")
    their_token, their_message = viewer_message(store, theirs["id"])
    ours = make_campaign()
    maya = add_person(store, brand["brand_id"])
    our_token, our_message = viewer_message(store, ours["id"])

    page = conversation(ours["id"])
    assert admin.get(page).status_code == 200
    assert admin.get(conversation(theirs["id"])).status_code == 404
    for path in (f"/admin/people/{their_person['id']}",):
        assert admin.get(path).status_code == 404
        assert admin.post(path, {"name": "X", "role": "Y"}, csrf_from="/admin/people"
                          ).status_code == 404
        assert admin.post(f"{path}/delete", csrf_from="/admin/people").status_code == 404
    assert store.get_person(other["brand_id"], their_person["id"])["name"] == "Their Person"

    def forms(cid, token, message_id, speaker, member):
        return {"reply": {"session": token, "reply_id": "r-12345678", "person": speaker,
                          "text": "Hi"},
                "hide": {"session": token, "message": str(message_id), "person": speaker,
                         "reason": "Spam"},
                "block": {"session": token, "message": str(message_id), "person": speaker,
                          "reason": "Spam"},
                "unblock": {"member": member, "person": speaker, "reason": "Oops"},
                "close": {"session": token, "person": speaker, "reason": "Spam"}}

    cases = {
        "their campaign": (theirs["id"], forms(theirs["id"], their_token, their_message["id"],
                                               their_person["id"],
                                               their_message["author"]["id"])),
        "their person": (ours["id"], forms(ours["id"], our_token, our_message["id"],
                                           their_person["id"], our_message["author"]["id"])),
        "their session": (ours["id"], forms(ours["id"], their_token, our_message["id"],
                                            maya["id"], our_message["author"]["id"])),
        "no such message": (ours["id"], forms(ours["id"], our_token, our_message["id"] + 7,
                                              maya["id"], "abc123")),
    }
    for case, (cid, by_action) in cases.items():
        for action, form in by_action.items():
            if case == "their session" and action == "unblock":
                continue  # unblock names no session
            if case == "no such message" and action in ("reply", "close"):
                continue  # a reply, a closing name no message
            answer = admin.post(f"{conversation(cid)}/{action}", form, csrf_from=page)
            assert answer.status_code == 404, (case, action)
    assert store.brand_replies(theirs["id"]) == store.brand_replies(ours["id"]) == 0
    assert store.moderation_log(theirs["id"]) == store.moderation_log(ours["id"]) == []
    assert store.blocked_viewers(ours["id"]) == []
    assert store.session_open(theirs["id"], their_token) and store.session_open(ours["id"],
                                                                                our_token)


def test_the_admin_namespace_needs_a_login_and_watches_own_campaigns_only(
        server, viewers, make_campaign, store, brand, web_admin):
    anonymous = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        anonymous.connect(server.url, namespaces=["/admin"], transports=["websocket"],
                          wait_timeout=10)
    forged = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        forged.connect(server.url, namespaces=["/admin"], transports=["websocket"],
                       wait_timeout=10, headers={"Cookie": "socialads_admin=forged.value.x"})

    suffix = uuid.uuid4().hex[:6]
    other = make_brand(store, "Other", f"other-{suffix}@example.test", "password123")
    from socialads.domain import campaigns

    from ..conftest import CAMPAIGN

    theirs = campaigns.create(store, other["brand_id"], CAMPAIGN)
    ours = make_campaign()
    maya = add_person(store, brand["brand_id"])
    team = web_admin.socket()
    heard: list[tuple[str, dict]] = []
    for event in ("message", "hidden", "blocked"):
        team.on(event, lambda data, event=event: heard.append((event, data)), namespace="/admin")
    try:
        refused = team.call("watch", {"campaign": theirs["id"]}, namespace="/admin", timeout=5)
        assert refused["ok"] is False and refused["error"]["code"] == "not_found"
        for payload in ({"campaign": "c_nosuchthing"}, {"campaign": 5}, "x", None):
            answer = team.call("watch", payload, namespace="/admin", timeout=5)
            assert answer["error"]["code"] == "not_found"
        assert team.call("watch", {"campaign": ours["id"]}, namespace="/admin",
                         timeout=5) == {"ok": True}

        stranger = viewers(server.url, name="Stranger")
        stranger.join(theirs["id"])
        stranger.say("for the other brand only")
        ana = viewers(server.url, name="Ana")
        token = ana.join(ours["id"])["session"]
        said = ana.say("Hello brand")["message"]
        web_admin.post(f"{conversation(ours['id'])}/reply", {
            "session": token, "reply_id": "r-" + uuid.uuid4().hex, "person": maya["id"],
            "text": "Hello Ana"}, csrf_from=conversation(ours["id"]))
        web_admin.post(f"{conversation(ours['id'])}/hide", {
            "session": token, "message": str(said["id"]), "person": maya["id"],
            "reason": "Test"}, csrf_from=conversation(ours["id"]))
        deadline = time.monotonic() + 5
        while len(heard) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [event for event, _ in heard] == ["message", "message", "hidden"]
        assert heard[0][1] == {"session": token, "message": said}
        assert heard[1][1]["message"]["author"]["name"] == "Maya Lopez"
        assert heard[2][1]["id"] == said["id"] and heard[2][1]["hidden"]["reason"] == "Test"
        assert all(data.get("session") == token for _, data in heard)
    finally:
        team.disconnect()


def test_the_widget_shows_the_featured_people_as_initials(client, make_campaign, store, brand):
    campaign = make_campaign()
    maya = add_person(store, brand["brand_id"])
    gone = add_person(store, brand["brand_id"], "Gone Person")
    feature(store, campaign, maya, gone)
    store.delete_person(brand["brand_id"], gone["id"])
    html = client.get(f"/w/{campaign['id']}").get_data(as_text=True)
    assert f"People from {brand['name']} here:" in html
    assert "Maya Lopez" in html and "Head of sourcing" in html and ">ML<" in html
    assert "Gone Person" not in html and "<img" not in html
    assert "usually answer" not in html  # no reply yet
    assert f"People from {brand['name']} may answer here." in html

    plain = make_campaign()
    html = client.get(f"/w/{plain['id']}").get_data(as_text=True)
    assert "here:" not in html and "Moderation log" in html


# -- in a real browser ------------------------------------------------------------------------


def test_a_reply_typed_in_the_admin_shows_in_the_widget(person, publisher, server,  # noqa: F811
                                                        store, brand):
    from playwright.sync_api import expect

    from ..browser.test_browser import TIMEOUT, expect_text, unit

    origin, campaign = publisher
    maya = add_person(store, brand["brand_id"])
    add_person(store, brand["brand_id"], "Sam Okafor", "Community lead")
    viewer = person()
    viewer.goto(origin + "/")
    widget = unit(viewer)
    chat = widget.locator("[data-socialad-chat-input]")
    expect(chat).to_be_enabled(timeout=TIMEOUT)
    chat.fill("Who checks the clean-up days?")
    chat.press("Enter")
    log = widget.locator("[data-socialad-chat-log]")
    expect_text(log, r"Who checks the clean-up days\?")

    team = person()  # another browser context: the brand's team member
    team.goto(f"{server.url}/admin/login")
    team.fill("input[name=email]", brand["email"])
    team.fill("input[name=password]", "password123")
    team.get_by_role("button", name="Log in").click()
    team.wait_for_url(f"{server.url}/admin/")
    team.goto(server.url + conversation(campaign["id"]))
    expect(team.locator("[data-conversation]")).to_have_attribute("data-live", "true")
    card = team.locator("[data-session]").first
    expect(card).to_contain_text("Who checks the clean-up days?")
    card.get_by_label("Reply as").select_option(maya["id"])
    card.locator("textarea[name=text]").fill("I do! Maya here: I walk the bay every Saturday.")
    card.get_by_role("button", name="Send reply").click()

    reply = log.locator(".sa-msg-brand")
    expect(reply).to_have_count(1, timeout=TIMEOUT)
    expect(reply.locator(".sa-msg-author")).to_have_text("Maya Lopez")
    expect(reply.locator(".sa-badge")).to_have_text("Brand · Head of sourcing")
    expect(reply).to_contain_text("I walk the bay every Saturday.")
    # the admin page followed along without a reload: the reply, then the viewer's answer
    expect(card.locator(".msg-brand")).to_contain_text("I walk the bay")
    expect(card.locator("textarea[name=text]")).to_have_value("")
    chat.fill("Thank you, Maya!")
    chat.press("Enter")
    expect(card.locator(".msg").last).to_contain_text("Thank you, Maya!")
