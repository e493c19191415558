"""The approval gate: an owner of the model, not the author, approved the latest commit. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

DECISIVE = {"APPROVED", "CHANGES_REQUESTED", "DISMISSED"}


@dataclass(frozen=True)
class Review:
    user: str
    state: str  # as the REST API spells it: APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
    commit_id: str


@dataclass(frozen=True)
class Approval:
    ok: bool
    approvers: tuple[str, ...]
    detail: str


def owner_entries(owners: list[str]) -> tuple[set[str], list[tuple[str, str]]]:
    """Users (lowercase logins) and teams (org, slug) from a model's owners list."""
    users, teams = set(), []
    for owner in owners:
        name = owner.lstrip("@")
        if "/" in name:
            org, slug = name.split("/", 1)
            teams.append((org, slug))
        else:
            users.add(name.lower())
    return users, teams


def evaluate(owners: list[str], reviews: list[Review], head_sha: str, author: str,
             is_member: Callable[[str, str, str], bool]) -> Approval:
    """Whether an owner who is not `author` has an APPROVED review standing on `head_sha`.

    Reviews come oldest first; a reviewer's latest decisive review (approve,
    request changes, dismissed) is the one that counts, and it counts only if it
    was given on the head commit: approvals of older commits are stale.
    """
    latest: dict[str, Review] = {}
    for review in reviews:
        if review.state.upper() in DECISIVE:
            latest[review.user.lower()] = review
    users, teams = owner_entries(owners)
    approvers, stale, not_owners = [], [], []
    for login, review in latest.items():
        if review.state.upper() != "APPROVED" or login == author.lower():
            continue
        owner = login in users or any(is_member(org, slug, login) for org, slug in teams)
        if not owner:
            not_owners.append(review.user)
        elif review.commit_id != head_sha:
            stale.append(review.user)
        else:
            approvers.append(review.user)
    if approvers:
        return Approval(True, tuple(sorted(approvers)), f"approved by {', '.join(sorted(approvers))}")
    reasons = []
    if stale:
        reasons.append(f"approvals by {', '.join(stale)} are for an older commit")
    if not_owners:
        reasons.append(f"{', '.join(not_owners)} {'is' if len(not_owners) == 1 else 'are'} not an owner")
    wanted = ", ".join(owners) or "(no owners listed: add owners to the model)"
    detail = f"needs approval of the latest commit from an owner other than the author ({author}): {wanted}"
    return Approval(False, (), detail + (f"; {'; '.join(reasons)}" if reasons else ""))
