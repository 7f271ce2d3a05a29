"""Fill a local Bluesky PDS with a small social graph and export repos as CAR.

Run by make_car.sh once a local PLC + PDS are up:

    python make_car.py http://127.0.0.1:PORT OUT_DIR

Creates alice.test, bob.test and carol.test through the Python ``atproto`` SDK
(the same calls a real client makes), then downloads alice's (and bob's)
repository with ``com.atproto.sync.getRepo``.  Next to each CAR it writes
``*.expected.json``: what *this script created* in that repo, recorded at
creation time, so tests compare a parser's output against an independent
account of the content rather than against the CAR read back.
"""

import json
import sys
from collections import Counter
from pathlib import Path

from atproto import Client, client_utils, models

PASSWORD = "hunter2-local-only"


class Actor:
    """One logged-in account plus a ledger of the records it created."""

    def __init__(self, base_url: str, handle: str) -> None:
        self.handle = handle
        self.client = Client(base_url=base_url)
        acc = self.client.com.atproto.server.create_account(
            models.ComAtprotoServerCreateAccount.Data(
                handle=handle, email=f"{handle.split('.')[0]}@example.com", password=PASSWORD
            )
        )
        self.did = acc.did
        # There is no AppView here, so skip the app.bsky.actor.getProfile that
        # login() would make.  The SDK's like/repost/follow helpers take the repo
        # DID from client.me, so fill in the minimal profile view ourselves.
        self.client.login(handle, PASSWORD, fetch_bsky_profile=False)
        self.client.me = models.AppBskyActorDefs.ProfileViewDetailed(did=self.did, handle=handle)
        self.counts: Counter = Counter()
        self.profile = None
        self.post_texts: list = []
        self.reply_parents: list = []
        self.quote_subjects: list = []
        self.like_subjects: list = []
        self.repost_subjects: list = []
        self.follow_subjects: list = []
        self.facets: Counter = Counter()

    # -- records -----------------------------------------------------------
    def set_profile(self, display_name: str, description: str) -> None:
        record = models.AppBskyActorProfile.Record(
            display_name=display_name, description=description
        )
        self.client.com.atproto.repo.put_record(
            models.ComAtprotoRepoPutRecord.Data(
                repo=self.did, collection="app.bsky.actor.profile", rkey="self", record=record
            )
        )
        self.profile = {"displayName": display_name, "description": description}

    def post(self, text, langs=("en",), reply_to=None, quote=None):
        """text: str or TextBuilder (which also yields facets).  Returns a strong ref."""
        embed = models.AppBskyEmbedRecord.Main(record=quote) if quote else None
        reply = None
        if reply_to is not None:
            parent, root = reply_to
            reply = models.AppBskyFeedPost.ReplyRef(parent=parent, root=root)
        res = self.client.send_post(text, reply_to=reply, embed=embed, langs=list(langs))
        if isinstance(text, client_utils.TextBuilder):
            for facet in text.build_facets():
                for feature in facet.features:
                    self.facets[feature.py_type.rsplit("#", 1)[1]] += 1
            text = text.build_text()
        self.counts["posts"] += 1
        self.post_texts.append(text)
        if reply:
            self.counts["replies"] += 1
            self.reply_parents.append(reply.parent.uri)
        if quote:
            self.counts["quotes"] += 1
            self.quote_subjects.append(quote.uri)
        return models.create_strong_ref(res)

    def like(self, ref) -> None:
        self.client.like(ref.uri, ref.cid)
        self.counts["likes"] += 1
        self.like_subjects.append(ref.uri)

    def repost(self, ref) -> None:
        self.client.repost(ref.uri, ref.cid)
        self.counts["reposts"] += 1
        self.repost_subjects.append(ref.uri)

    def follow(self, other: "Actor") -> None:
        self.client.follow(other.did)
        self.counts["follows"] += 1
        self.follow_subjects.append(other.did)

    # -- export ------------------------------------------------------------
    def expected(self) -> dict:
        c = self.counts
        return {
            "did": self.did,
            "handle": self.handle,
            "posts": c["posts"],  # every app.bsky.feed.post, incl. replies and quotes
            "replies": c["replies"],
            "quotes": c["quotes"],
            "reposts": c["reposts"],
            "likes": c["likes"],
            "follows": c["follows"],
            "profile": self.profile,
            "records_total": sum(c[k] for k in ("posts", "reposts", "likes", "follows"))
            + (1 if self.profile else 0),
            "facets": dict(
                sorted(self.facets.items())
            ),  # feature kind -> count: link, mention, tag
            "post_texts": self.post_texts,  # in creation order
            "reply_parents": self.reply_parents,
            "quote_subjects": self.quote_subjects,
            "follow_subjects": self.follow_subjects,
            "like_subjects": self.like_subjects,
            "repost_subjects": self.repost_subjects,
        }

    def export(self, out_dir: Path, stem: str) -> None:
        car = self.client.com.atproto.sync.get_repo(
            models.ComAtprotoSyncGetRepo.Params(did=self.did)
        )
        (out_dir / f"{stem}.car").write_bytes(car)
        (out_dir / f"{stem}.expected.json").write_text(
            json.dumps(self.expected(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        print(f"{stem}.car: {len(car)} bytes, {dict(self.counts)}")


def tb():
    return client_utils.TextBuilder()


def main(base_url: str, out_dir: Path) -> None:
    alice = Actor(base_url, "alice.test")
    bob = Actor(base_url, "bob.test")
    carol = Actor(base_url, "carol.test")

    alice.set_profile(
        "Alice Lindqvist",
        "Cartographer by day, trail runner by weekend. 🧭 Maps, hikes and good coffee.",
    )
    bob.set_profile("Bob Okafor", "Builds weather stations out of spare parts.")
    carol.set_profile("Carol Díaz", "Librarian. Reads everything twice.")

    # Others post first, so alice has something to reply to, quote, like and repost.
    b1 = bob.post("Finally got the rooftop weather station online. Wind readings look plausible!")
    b2 = bob.post("Anyone have a favourite offline map app for the mountains?")
    c1 = carol.post("A good map is an argument about what matters. Every legend is an opinion.")
    c2 = carol.post("New exhibit at the library: two centuries of hand-drawn city maps.")

    # Alice's six top-level posts, with rich-text facets of each kind.
    alice.post("Hello Bluesky! First post from my new account.")
    alice.post(
        tb()
        .text("Reading up on how the protocol works: ")
        .link("atproto.com/guides/overview", "https://atproto.com/guides/overview")
    )
    alice.post(
        tb()
        .text("Sunday hike up the north ridge, 14 km and not a cloud in the sky. ")
        .tag("#hiking", "hiking")
    )
    a4 = alice.post(
        tb()
        .text("Coffee with ")
        .mention("@bob.test", bob.did)
        .text(" this morning, great chat about old compasses.")
    )
    # Non-ASCII text before the facet, so byte offsets differ from char offsets.
    alice.post(
        tb()
        .text("Bonjour à tous ! Première randonnée de l'année, quelle vue. ")
        .tag("#randonnée", "randonnée"),
        langs=["fr"],
    )
    a6 = alice.post(
        tb()
        .text("Thanks ")
        .mention("@bob.test", bob.did)
        .text(" for the tip: ")
        .link("example.com/maps", "https://example.com/maps")
        .text(" ")
        .tag("#maps", "maps")
    )

    # Replies: alice answers two of bob's posts; carol joins the first thread
    # and alice answers carol there (root stays bob's post).
    r1 = alice.post("Congrats! What sensor are you using for the wind?", reply_to=(b1, b1))
    alice.post(
        "I use an offline topo app with downloaded tiles, works great above the tree line.",
        reply_to=(b2, b2),
    )
    cr = carol.post("Following this, I want one for the library roof.", reply_to=(r1, b1))
    alice.post("Carol, a library weather station would be brilliant!", reply_to=(cr, b1))

    # Quote carol's post (app.bsky.embed.record).
    alice.post("This is exactly why I love this job 👇", quote=c1)

    alice.repost(b2)
    alice.repost(c2)
    alice.like(b1)
    alice.like(c1)
    alice.like(cr)
    alice.follow(bob)
    alice.follow(carol)

    # The other direction lives in bob's and carol's repos.
    bob.follow(alice)
    carol.follow(alice)
    bob.like(a4)
    bob.like(a6)
    carol.like(a6)
    carol.repost(a4)
    bob.post("Ha, the compass collection keeps growing.", reply_to=(a4, a4))

    alice.export(out_dir, "repo")
    bob.export(out_dir, "repo-bob")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
