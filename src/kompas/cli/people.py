"""``kompas people ...``: who is who across platforms, and (people pillar) research."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from kompas.cli._common import State, err, fail, out, plain
from kompas.errors import KompasError, SourceError

if TYPE_CHECKING:
    from kompas.people import authenticity
    from kompas.people.profiles import Profile
    from kompas.people.scoring import BadLine
    from kompas.people.verdict import Research

# The pillar (NumPy, the model) and the store load inside each command, not for `--help`.

app = typer.Typer(
    help="People: link accounts across platforms, research accounts.", no_args_is_help=True
)


@app.command("link")
def link_command(
    accounts: Annotated[
        list[str],
        typer.Argument(
            help="Accounts as PLATFORM:ID-OR-HANDLE, e.g. x:ada mastodon:@ada@hachyderm.io"
        ),
    ],
    name: Annotated[str | None, typer.Option("--as", help="The person's name.")] = None,
) -> None:
    """Declare that accounts on several platforms are the same person."""
    from kompas.store import identities

    try:
        with State.workspace().engine.begin() as connection:
            refs = [identities.resolve(connection, a) for a in accounts]
            person = identities.link(connection, refs, name)
    except KompasError as error:
        raise fail(error) from None
    out.print(f"Linked {len(refs)} account(s) as {person!r}.", highlight=False, markup=False)


@app.command("unlink")
def unlink_command(
    account: Annotated[str, typer.Argument(help="An account as PLATFORM:ID-OR-HANDLE.")],
) -> None:
    """Forget that an account belongs to a linked person."""
    from kompas.store import identities

    try:
        with State.workspace().engine.begin() as connection:
            removed = identities.unlink(connection, identities.resolve(connection, account))
    except KompasError as error:
        raise fail(error) from None
    out.print("Unlinked." if removed else "That account was not linked.")


@app.command("links")
def links_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for programs.")] = False,
) -> None:
    """List the people you linked and their accounts."""
    from kompas.store import identities

    with State.workspace().engine.connect() as connection:
        found = identities.people(connection)
    if as_json:
        payload = {p: [r.key for r in refs] for p, refs in found.items()}
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    if not found:
        out.print("No linked people yet: `kompas people link x:ada mastodon:@ada@example.social`.")
    for person, refs in found.items():
        out.print(f"[bold]{escape(person)}[/]: " + escape(", ".join(r.key for r in refs)))


# --- research (the people pillar) ------------------------------------------------------

ModelOption = Annotated[
    Path | None,
    typer.Option(
        "--model",
        help="An authenticity model JSON from `kompas people train` (default: the shipped one).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for programs.")]


def _model(path: Path | None) -> authenticity.Model:
    from kompas.people import authenticity

    try:
        return authenticity.load(path)
    except KompasError as error:
        raise fail(error) from None


def _report_bad(bad: BadLine) -> None:
    err.print(f"line {bad.number}: skipped: {bad.problem}", highlight=False, markup=False)


@app.command("score")
def score_command(
    path: Annotated[
        Path,
        typer.Argument(
            help="JSON Lines of profiles (Mastodon account, Bluesky profile view or X user "
            "object, optionally with recent_posts), or a Gilani folder with --format gilani."
        ),
    ],
    format_: Annotated[
        str, typer.Option("--format", help="Input layout: jsonl (default) or gilani.")
    ] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write results here (default: stdout).")
    ] = None,
    model_path: ModelOption = None,
    jobs: Annotated[
        int,
        typer.Option("--jobs", min=0, help="Worker processes (default 0: one per CPU core)."),
    ] = 0,
) -> None:
    """Score profiles (streaming): one JSON line each with authenticity, reasons, signals."""
    from kompas.people import scoring

    try:
        scoring.check_format(format_)
    except KompasError as error:
        raise fail(error) from None
    model = _model(model_path)
    sink = output.open("wb") if output else sys.stdout.buffer
    bad: list[BadLine] = []

    def on_bad(line: BadLine) -> None:
        bad.append(line)
        _report_bad(line)

    try:
        if format_ == "gilani":
            if not path.is_dir():
                raise SourceError(str(path), "not a folder", expected="a Gilani folder")
            done = scoring.score_gilani(path, sink, model)
        else:
            if not path.is_file():
                raise SourceError(str(path), "no such file", expected="a JSON Lines file")
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            progress = Progress(
                TextColumn("[bold]scoring"),
                BarColumn(),
                DownloadColumn(),
                TextColumn("{task.fields[done]:,} profiles"),
                TimeElapsedColumn(),
                console=err,
                transient=True,
                disable=not err.is_terminal,
            )
            size = path.stat().st_size
            workers = (jobs or os.cpu_count() or 1) if size > 4 * scoring.CHUNK else 1
            with path.open("rb") as source, progress:
                task = progress.add_task("scoring", total=size, done=0)

                def advance(position: int, scored: int) -> None:
                    progress.update(task, completed=position, done=scored)

                done = scoring.score_jsonl(source, sink, model, on_bad, advance, workers)
    except KompasError as error:
        raise fail(error) from None
    finally:
        sink.flush()
        if output:
            sink.close()
    err.print(
        f"scored {done:,} profile(s)" + (f", skipped {len(bad):,} bad line(s)" if bad else ""),
        highlight=False,
    )


@app.command("evaluate")
def evaluate_command(
    path: Annotated[Path, typer.Argument(help="A folder of labelled accounts.")],
    format_: Annotated[
        str, typer.Option("--format", help="Layout of the folder: gilani.")
    ] = "gilani",
    model_path: ModelOption = None,
) -> None:
    """Score labelled accounts with the model (no training on them); print AUC, F1, FPR."""
    from kompas.people import scoring
    from kompas.people.datasets import read_gilani

    if format_ != "gilani":
        raise fail(scoring.FormatError(f"unknown format {format_!r} for evaluate: use gilani"))
    model = _model(model_path)
    if not path.is_dir():
        raise fail(SourceError(str(path), "not a folder", expected="a Gilani folder"))
    try:
        figures = scoring.evaluate(read_gilani(path), model)
    except KompasError as error:
        raise fail(error) from None
    sys.stdout.write(json.dumps(figures) + "\n")


@app.command("train")
def train_command(
    data: Annotated[
        Path,
        typer.Option(
            "--data",
            help="Folder of labelled sets, found recursively: Gilani bots.<band>.csv/"
            "humans.<band>.csv folders, *botwiki*.json[.gz] files, profiles.csv[.gz] tables "
            "with a label column, Kaggle bots_data.csv[.gz] folders.",
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Where to write the model (default: models/authenticity.json in the workspace).",
        ),
    ] = None,
    evaluate_first: Annotated[
        bool,
        typer.Option(
            "--evaluate/--no-evaluate",
            help="Leave each source out in turn and print the table before fitting.",
        ),
    ] = True,
    members: Annotated[
        int, typer.Option("--members", min=1, help="Bootstrap members per model.")
    ] = 15,
) -> None:
    """Retrain the authenticity model from labelled data; use it with --model."""
    from kompas.people import train as training
    from kompas.people.datasets import read_labelled

    try:
        labelled = read_labelled(data)
        model, rows = training.train(
            labelled,
            log=lambda line: err.print(line, highlight=False, markup=False),
            evaluate_first=evaluate_first,
            members=members,
        )
    except KompasError as error:
        raise fail(error) from None
    target = output or State.workspace().home / "models" / "authenticity.json"
    model.save(target)
    if rows:
        out.print(training.table(rows), highlight=False, markup=False)
    tested = ", ".join(f"{g} ({why})" for g, why in model.metrics["test_only"].items())
    out.print(
        f"Trained on {', '.join(model.trained_on)}; only tested on: {tested or 'none'}. "
        f"Thresholds: profile {model.profile.threshold}, posts {model.posts.threshold}. "
        f"Wrote {target}; use it with `--model {target}`.",
        highlight=False,
        markup=False,
    )


def _read_profile_file(path: Path) -> list[Profile]:
    """Profiles from a JSON file (one object or a list) or JSON Lines; bad lines are
    reported on stderr and skipped."""
    import orjson

    from kompas.people import scoring
    from kompas.people.profiles import ProfileError, normalise

    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SourceError(str(path), f"cannot read: {error.strerror}") from None
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return list(scoring.read_profiles(raw.splitlines(), _report_bad))
    try:
        if isinstance(document, list):  # a JSON list of profiles
            return [normalise(item) for item in document]
        return [normalise(document)]
    except ProfileError as error:
        raise SourceError(str(path), str(error)) from None


def _research_store(
    reference: str | None, profile_file: Path | None, model: authenticity.Model
) -> Research:
    from kompas.people import stored as people_store
    from kompas.people.engagement import merge_tiers, tiers_from_model, tiers_from_network
    from kompas.people.train import TIERS
    from kompas.people.verdict import research
    from kompas.store import identities
    from kompas.store import people as stored

    engine = State.workspace().engine
    with engine.connect() as connection:
        if profile_file is None:
            if not reference:
                raise identities.UnknownAccount(
                    "name an account (PLATFORM:ACCOUNT) or --profile FILE"
                )
            ref = identities.resolve(connection, reference)
            found = people_store.research_account(connection, ref.platform, ref.id, model)
            assert found is not None  # resolve() found it
            return found
        profiles = _read_profile_file(profile_file)
        if not profiles:
            raise SourceError(str(profile_file), "no profile in the file")
        chosen = profiles[0]
        if reference:
            bare = reference.partition(":")[2] or reference
            matches = [
                p for p in profiles if bare.lstrip("@").lower() in {p.handle.lower(), p.id.lower()}
            ]
            if not matches:
                raise SourceError(str(profile_file), f"no profile {reference!r} in the file")
            chosen = matches[0]
        me = stored.self_account(connection, chosen.platform)
        user = (me.handle or me.id) if me else None
        key = chosen.handle or chosen.id
        graph: dict[str, Any] = {key: {}}
        for post in chosen.recent_posts:
            for partner in post.partners:
                graph[key][partner] = graph[key].get(partner, 0) + 1
        texts = stored.own_texts(connection)
        tiers = merge_tiers(
            tiers_from_network(stored.network_engagement(connection), TIERS),
            tiers_from_model(model.engagement_tiers),
        )
    return research(chosen, model, tiers, graph, texts, user, key=key, from_file=True)


@app.command("research")
def research_command(
    account: Annotated[
        str | None,
        typer.Argument(help="The account, as PLATFORM:ID-OR-HANDLE (or a handle in --profile)."),
    ] = None,
    profile: Annotated[
        Path | None,
        typer.Option("--profile", help="Read the profile (JSON, as for `score`) from this file."),
    ] = None,
    model_path: ModelOption = None,
    as_json: JsonOption = False,
) -> None:
    """Is this account worth your time? The verdict, with every reason and its number."""
    model = _model(model_path)
    try:
        found = _research_store(account, profile, model)
    except KompasError as error:
        raise fail(error) from None
    if as_json:
        sys.stdout.write(json.dumps(found.as_json(), indent=2, default=str) + "\n")
        return
    colour = {"worth your time": "green", "maybe": "yellow", "probably not": "red"}.get(
        found.verdict, "magenta"
    )
    points = f" ({found.points:+d} points)" if found.points is not None else ""
    out.print(
        f"[bold]{escape(found.platform)}:{escape(found.handle)}[/] — "
        f"[bold {colour}]{found.verdict}[/]{points}"
    )
    for reason in found.reasons:
        out.print(f"  {reason.points:+d}  {reason.text()}", highlight=False, markup=False)


@app.command("audit")
def audit_command(
    profiles: Annotated[
        Path | None,
        typer.Option(
            "--profiles",
            help="JSON Lines of your followers' profiles (as for `score`) instead of the store.",
        ),
    ] = None,
    model_path: ModelOption = None,
    as_json: JsonOption = False,
) -> None:
    """Audit your followers: share of inauthentic ones, the most suspicious, real reach."""
    from kompas.people.audit import audit as audit_followers
    from kompas.people.profiles import from_stored
    from kompas.store import people as stored

    model = _model(model_path)
    try:
        if profiles is not None:
            scored = _read_profile_file(profiles)
            total = len(scored)
        else:
            with State.workspace().engine.connect() as connection:
                total, rows = stored.followers(connection)
            scored = [from_stored(r.platform, r.id, asdict(r)) for r in rows]
    except KompasError as error:
        raise fail(error) from None
    result = audit_followers(scored, model, total)
    if as_json:
        sys.stdout.write(json.dumps(result.as_json(), indent=2) + "\n")
        return
    if not result.followers:
        out.print(result.next_step(), highlight=False)
        return
    out.print(
        f"Followers: {result.followers:,}; with a profile to score: {result.scored:,} "
        f"({(result.coverage or 0):.0%}).",
        highlight=False,
    )
    if (
        result.inauthentic_share is None
        or result.interval is None
        or result.real_reach_interval is None
    ):
        out.print(result.next_step(), highlight=False)
        return
    low, high = result.interval
    out.print(
        f"Estimated inauthentic: {result.inauthentic_share:.0%} "
        f"(95% interval {low:.0%}–{high:.0%}) of the scored followers. "
        f"Real reach ≈ {result.real_reach:,} "
        f"({result.real_reach_interval[0]:,}–{result.real_reach_interval[1]:,}).",
        highlight=False,
    )
    table = Table(title="Most suspicious followers", title_justify="left")
    for column in ("account", "authenticity", "reasons"):
        table.add_column(column)
    for item in result.suspicious:
        table.add_row(
            f"{item['platform']}:{item['handle'] or item['id']}",
            f"{item['authenticity']:.2f}",
            "; ".join(r["text"] for r in item["reasons"]),
        )
    out.print(table)


@app.command("clubs")
def clubs_command(as_json: JsonOption = False) -> None:
    """Your clubs: communities in your own interactions and follows, your attention to each,
    the bridges between them, and who outside your usual club answered or follows back."""
    from kompas.people.clubs import clubs
    from kompas.store import people as stored

    with State.workspace().engine.connect() as connection:
        own, ties, handles = stored.own_graph(connection)
    found = clubs(own, ties, handles)
    if as_json:
        sys.stdout.write(json.dumps(found.as_json(), indent=2) + "\n")
        return
    if not found.accounts:
        out.print(
            "No graph yet: import an export with your replies, mentions and follows "
            "(kompas import ...) or sync an account (kompas sync mastodon|bluesky)."
        )
        return

    def name(account: str, handle: str | None) -> str:
        return escape(f"{account.partition(':')[0]}:{handle}" if handle else account)

    def part(value: float | None) -> str:
        return "no data" if value is None else f"{value:.0%}"

    out.print(
        f"[bold]{len(found.clubs)} club(s)[/] among {found.accounts:,} accounts around you; "
        f"{found.interactions:,} interactions of yours."
    )
    for club in found.clubs[:10]:
        usual = " (your usual club)" if club.number == found.usual else ""
        people = ", ".join(name(m.account, m.handle) for m in club.members[:10])
        more = f" and {club.size - 10} more" if club.size > 10 else ""
        out.print(
            f"  {club.number}. {club.size} accounts, {part(club.attention)} of your attention"
            f"{usual}: {people}{more}"
        )
    if len(found.clubs) > 10:
        rest = sum(c.interactions for c in found.clubs[10:])
        share = part(rest / found.interactions) if found.interactions else "no data"
        out.print(f"  … {len(found.clubs) - 10} smaller clubs: {share} of your attention (--json).")
    out.print(f"  Outside any club: {part(found.unclustered_attention)} of your attention.")
    if found.bridges:
        out.print("[bold]Bridges[/] (tied to several clubs):")
        for bridge in found.bridges[:10]:
            clubs_named = ", ".join(str(n) for n in bridge.clubs)
            out.print(f"  {name(bridge.account, bridge.handle)}: clubs {clubs_named}")
    if found.outside:
        out.print("[bold]Outside your usual club[/], they answered you or follow you back:")
        for other in found.outside[:20]:
            what = [f"answered {other.answered}×"] if other.answered else []
            what += ["follows you back"] if other.follows_back else []
            out.print(f"  {name(other.account, other.handle)}: {', '.join(what)}")


# --- people you keep --------------------------------------------------------------------

AccountArgument = Annotated[str, typer.Argument(help="An account as PLATFORM:ID-OR-HANDLE.")]


def _shown(platform: str, handle: str | None, key: str) -> str:
    return f"{platform}:{handle}" if handle else key


@app.command("note")
def note_command(
    account: AccountArgument,
    text: Annotated[
        str | None, typer.Argument(help="The note: plain text, kept on this machine only.")
    ] = None,
    remove: Annotated[
        int | None, typer.Option("--remove", help="Delete the note with this id (see show).")
    ] = None,
) -> None:
    """Keep a note on someone (plain text, local); --remove ID deletes one; no text lists them."""
    from datetime import UTC, datetime

    from kompas.errors import UsageError
    from kompas.store import identities, keep

    try:
        if text is not None and remove is not None:
            raise UsageError("give a note's text or --remove ID, not both")
        with State.workspace().engine.begin() as connection:
            ref = identities.resolve(connection, account)
            _, refs = keep.person_of(connection, ref)
            if remove is not None:
                keep.remove_note(connection, refs, remove)
                out.print(f"Deleted note {remove} on {plain(ref.key)}.", highlight=False)
                return
            if text is not None:
                note = keep.add_note(connection, ref, text, datetime.now(UTC))
                out.print(f"Noted on {plain(ref.key)} (note {note.id}).", highlight=False)
                return
            notes = keep.notes_for(connection, refs)
    except KompasError as error:
        raise fail(error) from None
    if not notes:
        out.print(f"No notes on {plain(ref.key)} yet.", highlight=False)
    for note in notes:
        _print_note(note)


def _print_note(note: Any) -> None:
    out.print(
        f"  [{note.id}] {note.created_at:%Y-%m-%d} ({note.source}): {plain(note.text)}",
        highlight=False,
    )


@app.command("tag")
def tag_command(
    account: AccountArgument,
    tag: Annotated[str, typer.Argument(help="One word: friend, python, met-at-fosdem …")],
    remove: Annotated[bool, typer.Option("--remove", help="Take the tag off.")] = False,
) -> None:
    """Tag someone (or take a tag off with --remove)."""
    from datetime import UTC, datetime

    from kompas.store import identities, keep

    try:
        with State.workspace().engine.begin() as connection:
            ref = identities.resolve(connection, account)
            if remove:
                _, refs = keep.person_of(connection, ref)
                had = keep.remove_tag(connection, refs, tag)
                word = keep.check_tag(tag)
                message = f"Untagged {word}." if had else f"{plain(ref.key)} had no tag {word}."
            else:
                word = keep.add_tag(connection, ref, tag, datetime.now(UTC))
                message = f"Tagged {plain(ref.key)} {word}."
    except KompasError as error:
        raise fail(error) from None
    out.print(message, highlight=False)


@app.command("cadence")
def cadence_command(
    account: AccountArgument,
    every: Annotated[
        str, typer.Argument(help="Reconnect at least this often: 30d, 2w …, or off to clear.")
    ],
) -> None:
    """Reconnect with someone every N days (kompas today proposes it when due)."""
    from datetime import UTC, datetime

    from kompas.store import identities, keep

    try:
        days = keep.parse_cadence(every)
        with State.workspace().engine.begin() as connection:
            ref = identities.resolve(connection, account)
            keep.set_cadence(connection, ref, days, datetime.now(UTC))
    except KompasError as error:
        raise fail(error) from None
    if days is None:
        out.print(f"No cadence for {plain(ref.key)} any more.", highlight=False)
    else:
        out.print(f"Reconnect with {plain(ref.key)} every {days} days.", highlight=False)


def _ago(moment: datetime, now: datetime) -> str:
    days = (now - moment).days
    if days < 0:
        return f"in {-days} day(s)"
    return "today" if days == 0 else f"{days} day(s) ago"


@app.command("show")
def show_command(
    account: AccountArgument,
    model_path: ModelOption = None,
    as_json: JsonOption = False,
) -> None:
    """Everything you keep on someone: linked accounts, last exchanges both ways, notes,
    tags, cadence and when due, and the research verdict."""
    from datetime import UTC, datetime

    from kompas.people.kept import show
    from kompas.store import identities

    model = _model(model_path)
    now = datetime.now(UTC)
    try:
        with State.workspace().engine.connect() as connection:
            ref = identities.resolve(connection, account)
            view = show(connection, ref, model, now)
    except KompasError as error:
        raise fail(error) from None
    if as_json:
        sys.stdout.write(json.dumps(view.as_json(), indent=2, default=str) + "\n")
        return
    me = view.account
    title = plain(_shown(me.platform, me.handle, me.account))
    name = f" ({plain(me.display_name)})" if me.display_name else ""
    person = f" — linked as {plain(view.person)}" if view.person else ""
    out.print(f"[bold]{title}[/]{name}{person}", highlight=False)
    if len(view.accounts) > 1:
        out.print(
            "Accounts: "
            + ", ".join(plain(_shown(a.platform, a.handle, a.account)) for a in view.accounts),
            highlight=False,
        )
    research = view.research
    points = f" ({research.points:+d} points)" if research.points is not None else ""
    out.print(f"Verdict: [bold]{research.verdict}[/]{points}", highlight=False)
    for reason in research.reasons:
        out.print(f"  {reason.points:+d}  {reason.text()}", highlight=False, markup=False)
    if view.exchanges is None:
        platforms = ", ".join(sorted({a.platform for a in view.accounts}))
        out.print(
            f"Exchanges: unknown (the store holds no account of yours on {platforms}; "
            "import an export or sync an account).",
            highlight=False,
        )
    else:
        last = view.last_exchange
        out.print(
            "Last exchange: "
            + (f"{last:%Y-%m-%d} ({_ago(last, now)})" if last else "none in the store"),
            highlight=False,
        )
        for way, label in (("given", "You to them"), ("received", "Them to you")):
            items = view.exchanges[way]
            if items is None:
                platforms = ", ".join(sorted({a.platform for a in view.accounts}))
                why = (
                    f"the store holds no reply, mention or quote by you on {platforms}"
                    if way == "given"
                    else f"the store holds no reply, mention or quote to you on {platforms}: "
                    "an archive holds only your side, a sync brings theirs"
                )
                out.print(f"{label}: unknown ({why})", highlight=False)
                continue
            out.print(f"{label}:" + ("" if items else " none in the store"), highlight=False)
            for item in items:
                when = f"{item.at:%Y-%m-%d}" if item.at else "undated"
                flat = " ".join((item.text or "").split())
                cut = flat if len(flat) <= 100 else flat[:100].rstrip() + "…"
                said = f": {plain(cut)}" if flat else ""
                out.print(f"  {when} {item.kind}{said}", highlight=False)
    cadence = view.cadence
    if cadence is None:
        out.print("Cadence: none (`kompas people cadence ACCOUNT 30d`).", highlight=False)
    elif cadence.due_at is None:
        out.print(
            f"Cadence: every {cadence.cadence_days} days; due now (no exchange known).",
            highlight=False,
        )
    else:
        state = "due" if cadence.due else "next"
        out.print(
            f"Cadence: every {cadence.cadence_days} days; {state} {cadence.due_at:%Y-%m-%d} "
            f"({_ago(cadence.due_at, now)}).",
            highlight=False,
        )
    out.print("Tags: " + (", ".join(view.tags) if view.tags else "none"), highlight=False)
    if not view.notes:
        out.print("Notes: none", highlight=False)
    else:
        out.print("Notes:", highlight=False)
        for note in view.notes:
            _print_note(note)
