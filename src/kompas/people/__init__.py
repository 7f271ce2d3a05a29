"""The people pillar: is this account worth my time, and are its numbers real?

Signals from a profile and its recent posts (:mod:`~kompas.people.signals`), an
authenticity likelihood with reasons and uncertainty from a small shipped model
(:mod:`~kompas.people.authenticity`), engagement against expectation, insularity,
relevance, a verdict (:mod:`~kompas.people.verdict`) and an audit of one's own audience
(:mod:`~kompas.people.audit`). Everything here is pure computation; the CLI reads files
and the store.
"""

from kompas.people.audit import Audit, audit
from kompas.people.authenticity import Model, load
from kompas.people.insularity import Insularity, insularity
from kompas.people.profiles import PostFacts, Profile, ProfileError, normalise
from kompas.people.verdict import Research, research

__all__ = [
    "Audit",
    "Insularity",
    "Model",
    "PostFacts",
    "Profile",
    "ProfileError",
    "Research",
    "audit",
    "insularity",
    "load",
    "normalise",
    "research",
]
