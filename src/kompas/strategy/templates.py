"""Starter strategy files (``kompas strategy init``), commented, in English or French,
one per style. Their key results use ``community.*`` metrics, which kompas computes from
imported data, so a starter file works from the first run."""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES = ("en", "fr")


@dataclass(frozen=True, slots=True)
class _Style:
    mix: tuple[int, int, int]  # conversation, sharing, broadcast (percent)
    key_results: tuple[str, ...]
    habits: tuple[
        tuple[str, str, str, str | None, int], ...
    ]  # en name, fr name, count, distinct, target/per
    per: tuple[str, ...]


_STYLES: dict[str, _Style] = {
    "connector": _Style(
        (60, 25, 15),
        (
            "community.replies_given per week >= 20",
            "community.new_connections per month >= 10",
            "community.reciprocity >= 0.4",
        ),
        (
            ("Reply to 5 people a day", "Répondre à 5 personnes par jour", "reply", "people", 5),
            ("Start 2 conversations a week", "Lancer 2 conversations par semaine", "post", None, 2),
        ),
        ("day", "week"),
    ),
    "curator": _Style(
        (30, 50, 20),
        (
            "community.reposts_of_others per week >= 10",
            "community.distinct_people_shared per month >= 15",
            "community.replies_given per week >= 5",
        ),
        (
            ("Share 3 useful links a week", "Partager 3 liens utiles par semaine", "link", None, 3),
            ("Boost 5 people a week", "Relayer 5 personnes par semaine", "repost", "people", 5),
        ),
        ("week", "week"),
    ),
    "promoter": _Style(
        (40, 20, 40),
        (
            "community.replies_given per week >= 10",
            "community.self_promotion per month <= 4",
            "community.new_connections per month >= 5",
        ),
        (
            ("Reply to 3 people a day", "Répondre à 3 personnes par jour", "reply", "people", 3),
            ("Publish 2 posts a week", "Publier 2 posts par semaine", "post", None, 2),
        ),
        ("day", "week"),
    ),
    "all-rounder": _Style(
        (50, 30, 20),
        (
            "community.replies_given per week >= 15",
            "community.new_connections per month >= 8",
            "community.reciprocity >= 0.4",
        ),
        (
            ("Reply to 3 people a day", "Répondre à 3 personnes par jour", "reply", "people", 3),
            ("Share 3 useful links a week", "Partager 3 liens utiles par semaine", "link", None, 3),
        ),
        ("day", "week"),
    ),
    "lurker": _Style(
        (60, 30, 10),
        (
            "community.replies_given per week >= 3",
            "community.new_connections per month >= 3",
            "community.posts per week >= 2",
        ),
        (
            ("Reply to one person a day", "Répondre à une personne par jour", "reply", "people", 1),
            (
                "Bookmark 3 things worth keeping a week",
                "Garder 3 choses qui en valent la peine par semaine",
                "bookmark",
                None,
                3,
            ),
        ),
        ("day", "week"),
    ),
}
STYLES = tuple(_STYLES)

_TEXT = {
    "en": {
        "head": "# kompas strategy file ({style} style). Edit it, then `kompas review --week`.\n"
        "# Schema: `kompas strategy schema`. Check it: `kompas strategy check`.\n",
        "why": "# Why are you on social media? One or two sentences, in your own words.\n"
        "why: >\n  I am here to learn from people I respect, help where I can, and\n"
        "  build a few real relationships around what I care about.\n",
        "goals": "# Goals, each with key results bound to metrics kompas computes:\n"
        "#   METRIC [per day|week|month] OP NUMBER   (OP: >=, >, <=, <, ==; 40% also works)\n"
        "# Valid metrics: `kompas strategy check` lists them when one is unknown.\n"
        "goals:\n  - name: Build real relationships\n    key_results:\n",
        "pillars": "# Content pillars: what you mean to post about. Each post is matched to them\n"
        "# by its words (keywords, description, examples; English and French work).\n"
        "pillars:\n"
        "  - name: My field\n"
        "    description: What I work on and learn about, explained for people in my field.\n"
        "    keywords: [work, project, lesson]\n"
        "    examples:\n"
        "      - What I learnt this week shipping the new version of our project.\n"
        "  - name: Everyday life\n"
        "    description: Small things from my days, books, music, walks, family.\n"
        "    keywords: [book, music, walk, family]\n"
        "    examples:\n"
        "      - Finished a great book on the train this morning.\n",
        "mix": "# Target mix of your posts (conversation: replies to others; sharing: reposts\n"
        "# and quotes of others; broadcast: your own links, self-reposts). At most 100%.\n"
        "mix:\n",
        "habits": "# Habits: counts of what you do, per day, week or month. count: post, reply,\n"
        "# quote, repost, link, mention, like, bookmark or follow; or tag: a tag your rules\n"
        "# file gives (kompas rules). distinct: people counts people rather than actions.\n"
        "habits:\n",
    },
    "fr": {
        "head": "# Fichier de stratégie kompas (style {style}). Modifiez-le, puis lancez\n"
        "# `kompas review --week`. Schéma : `kompas strategy schema`. Vérification :\n"
        "# `kompas strategy check`.\n",
        "why": "# Pourquoi êtes-vous sur les réseaux sociaux ? Une ou deux phrases.\n"
        "why: >\n  Je suis ici pour apprendre de personnes que j'estime, aider quand je le\n"
        "  peux, et tisser quelques vraies relations autour de ce qui m'importe.\n",
        "goals": "# Objectifs, avec des résultats clés liés à des mesures que kompas calcule :\n"
        "#   MESURE [par jour|semaine|mois] OP NOMBRE  (OP : >=, >, <=, <, == ; 40% aussi)\n"
        "# Les mesures valides sont listées par `kompas strategy check` si l'une est inconnue.\n"
        "goals:\n  - name: Tisser de vraies relations\n    key_results:\n",
        "pillars": "# Piliers de contenu : ce dont vous voulez parler. Chaque post leur est\n"
        "# associé d'après ses mots (mots-clés, description, exemples ; français et anglais).\n"
        "pillars:\n"
        "  - name: Mon domaine\n"
        "    description: Ce sur quoi je travaille et ce que j'apprends, expliqué pour mes pairs.\n"
        "    keywords: [travail, projet, leçon]\n"
        "    examples:\n"
        "      - Ce que j'ai appris cette semaine en livrant la nouvelle version du projet.\n"
        "  - name: La vie de tous les jours\n"
        "    description: Les petites choses de mes journées, livres, musique, balades, famille.\n"
        "    keywords: [livre, musique, balade, famille]\n"
        "    examples:\n"
        "      - Fini un excellent livre dans le train ce matin.\n",
        "mix": "# Répartition visée de vos posts (conversation : réponses aux autres ; sharing :\n"
        "# reposts et citations des autres ; broadcast : vos liens, auto-reposts). 100 % max.\n"
        "mix:\n",
        "habits": "# Habitudes : ce que vous faites par jour (day), semaine (week), mois (month).\n"
        "# count : post, reply, quote, repost, link, mention, like, bookmark ou follow ; ou\n"
        "# tag : une étiquette donnée par vos règles (kompas rules). distinct: people compte\n"
        "# les personnes plutôt que les actions.\n"
        "habits:\n",
    },
}
_TAG_HABIT = {
    "en": "  # A habit over a tag of your rules file (no data until you have one):\n"
    "  # - name: Ask a question a week\n  #   tag: question\n  #   per: week\n"
    "  #   target: 1\n",
    "fr": "  # Une habitude sur une étiquette de vos règles (sans données avant d'en avoir) :\n"
    "  # - name: Poser une question par semaine\n  #   tag: question\n  #   per: week\n"
    "  #   target: 1\n",
}
_PER_FR = {"day": "jour", "week": "semaine", "month": "mois"}


def starter(style: str = "all-rounder", language: str = "en") -> str:
    """The commented starter file for ``style`` in ``language`` (``en`` or ``fr``)."""
    if style not in _STYLES:
        raise ValueError(f"unknown style {style!r}; known: {', '.join(STYLES)}")
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; known: {', '.join(LANGUAGES)}")
    chosen = _STYLES[style]
    text = _TEXT[language]
    parts = [
        "version: 1\n",
        f"style: {style}\n",
        f"language: {language}\n\n",
        text["why"],
        "\n",
        text["goals"],
    ]
    for kr in chosen.key_results:
        if language == "fr":
            for en, fr in _PER_FR.items():
                kr = kr.replace(f" per {en} ", f" par {fr} ")
        parts.append(f"      - {kr}\n")
    parts += ["\n", text["pillars"], "\n", text["mix"]]
    for kind, share in zip(("conversation", "sharing", "broadcast"), chosen.mix, strict=True):
        parts.append(f"  {kind}: {share}%\n")
    parts += ["\n", text["habits"]]
    for (en_name, fr_name, count, distinct, target), per in zip(
        chosen.habits, chosen.per, strict=True
    ):
        parts.append(f"  - name: {fr_name if language == 'fr' else en_name}\n")
        parts.append(f"    count: {count}\n")
        if distinct:
            parts.append(f"    distinct: {distinct}\n")
        parts.append(f"    per: {per}\n    target: {target}\n")
    parts.append(_TAG_HABIT[language])
    return text["head"].format(style=style) + "\n" + "".join(parts)
