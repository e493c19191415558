"""The approval gate: an owner who did not write the change approved its latest commit. Pure.

"Did not write the change" means: not the pull request's author, and not the
author or committer of any of its commits, so an owner who pushes a commit to
someone else's pull request cannot approve it. A team owner counts only when
its membership could be verified; when it could not (the Actions token cannot
read organisation teams), the check says so instead of silently not counting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

DECISIVE = {"APPROVED", "CHANGES_REQUESTED", "DISMISSED"}

# (org, team slug, login) -> True (active member), False (not a member), None (could not be verified)
Membership = Callable[[str, str, str], "bool | None"]


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


def owner_entries(owners: Iterable[str]) -> tuple[set[str], list[tuple[str, str]]]:
    """Users (lowercase logins) and teams (org, slug) from an owners list."""
    users, teams = set(), []
    for owner in owners:
        name = owner.lstrip("@")
        if "/" in name:
            org, slug = name.split("/", 1)
            teams.append((org, slug))
        else:
            users.add(name.lower())
    return users, teams


def standing(reviews: Iterable[Review]) -> dict[str, Review]:
    """Each reviewer's latest decisive review (approve, request changes, dismissed), by lowercase login.

    Reviews come oldest first. A later COMMENTED review does not replace an approval.
    """
    latest: dict[str, Review] = {}
    for review in reviews:
        if review.state.upper() in DECISIVE:
            latest[review.user.lower()] = review
    return latest


def approvers(reviews: Iterable[Review]) -> list[str]:
    """Who approves, as their latest decisive review says (for release notes and tag messages)."""
    return sorted(r.user for r in standing(reviews).values() if r.state.upper() == "APPROVED")


def evaluate(owners: list[str], reviews: list[Review], head_sha: str, writers: Iterable[str],
             is_member: Membership) -> Approval:
    """Whether an owner who is not one of `writers` has an APPROVED review standing on `head_sha`.

    writers: the PR's author and every author and committer of its commits; their
    approvals never count. Approvals of older commits are stale.
    """
    excluded = {w.lower() for w in writers}
    users, teams = owner_entries(owners)
    found, stale, not_owners, writers_approving, unverified = [], [], [], [], set()
    for login, review in standing(reviews).items():
        if review.state.upper() != "APPROVED":
            continue
        if login in excluded:
            writers_approving.append(review.user)
            continue
        owner, unknown = login in users, False
        for org, slug in teams if not owner else ():
            member = is_member(org, slug, login)
            if member is None:
                unverified.add(f"@{org}/{slug}")
                unknown = True
            elif member:
                owner = True
                break
        if not owner:
            if not unknown:
                not_owners.append(review.user)
        elif review.commit_id != head_sha:
            stale.append(review.user)
        else:
            found.append(review.user)
    if found:
        return Approval(True, tuple(sorted(found)), f"approved by {', '.join(sorted(found))}")
    reasons = []
    if writers_approving:
        reasons.append(f"{', '.join(writers_approving)} wrote part of this change and cannot approve it")
    if stale:
        reasons.append(f"approvals by {', '.join(stale)} are for an older commit")
    if not_owners:
        reasons.append(f"{', '.join(not_owners)} {'is' if len(not_owners) == 1 else 'are'} not an owner")
    if unverified:
        reasons.append(f"membership of {', '.join(sorted(unverified))} could not be verified (set the "
                       "MODELREG_MEMBERS_TOKEN secret to a token that can read organisation members)")
    wanted = ", ".join(owners) or "(no owners listed: add owners to the model)"
    shown = ", ".join(sorted(excluded)) or "nobody"
    detail = f"needs approval of the latest commit from an owner who did not write the change ({shown}): {wanted}"
    return Approval(False, (), detail + (f"; {'; '.join(reasons)}" if reasons else ""))
