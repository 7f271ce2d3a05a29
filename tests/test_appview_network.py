"""The local Bluesky network with an AppView works end to end: what one account posts
reaches another's home timeline (``app.bsky.feed.getTimeline``) through the real PDS and
AppView. The timeline and notification tests build on this; when it fails, they cannot pass.

Collected only when ``KOMPAS_TEST_APPVIEW_PDS_URL`` names the network
(``tests/appview/start_network.sh``; CI starts it).
"""

from __future__ import annotations

from bluesky_network import PDS_URL, Account, eventually

if PDS_URL:

    def test_a_followed_accounts_post_reaches_the_home_timeline() -> None:
        alice = Account("alice")
        bob = Account("bob")
        carol = Account("carol")
        alice.client.follow(bob.did)
        posted = bob.client.send_post("Bob, seen by the people who follow him")
        carol.client.send_post("Carol, whom nobody here follows")

        timeline = eventually(
            lambda: alice.client.get_timeline(limit=50).feed,
            lambda feed: any(item.post.uri == posted.uri for item in feed),
        )
        seen = {item.post.uri: item.post for item in timeline}
        post = seen[posted.uri]
        assert post.author.did == bob.did
        assert post.record.text == "Bob, seen by the people who follow him"
        assert {item.post.author.did for item in timeline} == {bob.did}

    def test_a_reply_is_a_notification_for_the_author() -> None:
        alice = Account("alice")
        bob = Account("bob")
        root = alice.client.send_post("A question from Alice?")
        alice.indexed(root.uri)
        ref = {"uri": root.uri, "cid": root.cid}
        bob.client.send_post("Bob answers", reply_to={"root": ref, "parent": ref})

        notifications = eventually(
            lambda: alice.client.app.bsky.notification.list_notifications().notifications,
            lambda found: any(n.reason == "reply" for n in found),
        )
        reply = next(n for n in notifications if n.reason == "reply")
        assert reply.author.did == bob.did
        assert reply.record.text == "Bob answers"
