"""core/approvals.py, pinned down to its words: who counts as an owner, whose review stands, and why not.

Written to kill the mutants of `make mutation` (docs/testing.md): every branch of evaluate()
and every word of its detail is asserted, since the PR comment shows them to people.
"""

from __future__ import annotations

import pytest

from modelreg.core.approvals import Approval, Review, approvers, evaluate, owner_entries, standing

HEAD, OLD = "h" * 40, "o" * 40


def no_teams(org, slug, login):
    raise AssertionError(f"no team lookup expected, asked {org}/{slug} for {login}")


class Teams:
    """is_member for a fixed membership table; records what it was asked."""

    def __init__(self, table: dict[tuple[str, str], dict[str, bool | None]]):
        self.table, self.calls = table, []

    def __call__(self, org, slug, login):
        self.calls.append((org, slug, login))
        return self.table.get((org, slug), {}).get(login, False)


# ---- owner_entries ----

def test_owner_entries_split_users_and_teams():
    users, teams = owner_entries(["@Alice", "bob", "@acme/ML-Leads", "org/team/sub", "@carol"])
    assert users == {"alice", "bob", "carol"}  # logins compare lowercased
    assert teams == [("acme", "ML-Leads"), ("org", "team/sub")]  # split at the first slash only, in order


def test_owner_entries_of_nothing():
    assert owner_entries([]) == (set(), [])


# ---- standing ----

def test_standing_keeps_the_latest_decisive_review_per_login():
    reviews = [Review("Alice", "APPROVED", OLD), Review("alice", "COMMENTED", HEAD),
               Review("bob", "APPROVED", HEAD), Review("bob", "changes_requested", HEAD),
               Review("carol", "APPROVED", OLD), Review("carol", "Dismissed", HEAD),
               Review("dave", "PENDING", HEAD)]
    result = standing(reviews)
    assert set(result) == {"alice", "bob", "carol"}
    assert result["alice"] == Review("Alice", "APPROVED", OLD)  # a later comment does not replace an approval
    assert result["bob"].state == "changes_requested"
    assert result["carol"].state == "Dismissed"


def test_standing_of_no_reviews():
    assert standing([]) == {}


def test_approvers_are_sorted_and_only_those_whose_latest_word_approves():
    reviews = [Review("zoe", "approved", HEAD), Review("Bob", "APPROVED", OLD), Review("amy", "APPROVED", HEAD),
               Review("amy", "CHANGES_REQUESTED", HEAD), Review("cid", "COMMENTED", HEAD)]
    assert approvers(reviews) == ["Bob", "zoe"]
    assert approvers([]) == []


# ---- evaluate ----

def test_an_owner_approving_the_head_passes():
    result = evaluate(["alice"], [Review("Alice", "APPROVED", HEAD)], HEAD, ["bob"], no_teams)
    assert result == Approval(True, ("Alice",), "approved by Alice")


def test_several_owners_are_listed_sorted():
    reviews = [Review("zed", "APPROVED", HEAD), Review("alice", "approved", HEAD)]
    result = evaluate(["alice", "@zed"], reviews, HEAD, [], no_teams)
    assert result == Approval(True, ("alice", "zed"), "approved by alice, zed")


def test_one_good_approval_outweighs_every_other_reason():
    reviews = [Review("bob", "APPROVED", HEAD), Review("carol", "APPROVED", HEAD), Review("alice", "APPROVED", HEAD)]
    result = evaluate(["alice", "bob"], reviews, HEAD, ["bob"], no_teams)
    assert result.ok and result.approvers == ("alice",)


def test_no_reviews_says_who_is_needed_and_who_is_excluded():
    result = evaluate(["alice", "@acme/leads"], [], HEAD, ["Bob", "carol"], no_teams)
    assert result == Approval(False, (), "needs approval of the latest commit from an owner who did not write the "
                                         "change (bob, carol): alice, @acme/leads")


def test_no_owners_and_no_writers():
    result = evaluate([], [], HEAD, [], no_teams)
    assert result.detail == ("needs approval of the latest commit from an owner who did not write the change "
                             "(nobody): (no owners listed: add owners to the model)")


def test_a_writer_cannot_approve_even_as_an_owner():
    result = evaluate(["bob"], [Review("Bob", "APPROVED", HEAD)], HEAD, ["BOB"], no_teams)
    assert not result.ok and result.approvers == ()
    assert result.detail.endswith("(bob): bob; Bob wrote part of this change and cannot approve it")


def test_an_approval_of_an_older_commit_is_stale():
    result = evaluate(["alice"], [Review("alice", "APPROVED", OLD)], HEAD, [], no_teams)
    assert result.detail.endswith("(nobody): alice; approvals by alice are for an older commit")


def test_non_owners_are_named_in_singular_and_plural():
    one = evaluate(["alice"], [Review("carol", "APPROVED", HEAD)], HEAD, [], no_teams)
    assert one.detail.endswith("; carol is not an owner")
    two = evaluate(["alice"], [Review("carol", "APPROVED", HEAD), Review("dave", "APPROVED", OLD)], HEAD, [], no_teams)
    assert two.detail.endswith("; carol, dave are not an owner")


def test_a_review_that_does_not_approve_gives_no_reason():
    reviews = [Review("alice", "CHANGES_REQUESTED", HEAD), Review("carol", "DISMISSED", HEAD)]
    result = evaluate(["alice"], reviews, HEAD, [], no_teams)
    assert result.detail == ("needs approval of the latest commit from an owner who did not write the change "
                             "(nobody): alice")


def test_every_reason_in_order():
    reviews = [Review("bob", "APPROVED", HEAD), Review("alice", "APPROVED", OLD), Review("carol", "APPROVED", HEAD),
               Review("erin", "APPROVED", HEAD)]
    teams = Teams({("acme", "leads"): {"erin": None}})
    result = evaluate(["alice", "bob", "@acme/leads"], reviews, HEAD, ["bob"], teams)
    assert result == Approval(False, (), (
        "needs approval of the latest commit from an owner who did not write the change (bob): alice, bob, "
        "@acme/leads; bob wrote part of this change and cannot approve it; approvals by alice are for an older "
        "commit; carol is not an owner; membership of @acme/leads could not be verified (set the "
        "MODELREG_MEMBERS_TOKEN secret to a token that can read organisation members)"))


# ---- teams ----

def test_a_team_member_counts_as_an_owner():
    teams = Teams({("acme", "leads"): {"dana": True}})
    result = evaluate(["@acme/leads"], [Review("Dana", "APPROVED", HEAD)], HEAD, [], teams)
    assert result == Approval(True, ("Dana",), "approved by Dana")
    assert teams.calls == [("acme", "leads", "dana")]  # asked with the lowercased login


def test_a_team_member_approving_an_older_commit_is_stale():
    teams = Teams({("acme", "leads"): {"dana": True}})
    result = evaluate(["@acme/leads"], [Review("dana", "APPROVED", OLD)], HEAD, [], teams)
    assert result.detail.endswith("; approvals by dana are for an older commit")


def test_a_user_owner_is_never_looked_up_in_teams():
    teams = Teams({})
    result = evaluate(["alice", "@acme/leads"], [Review("alice", "APPROVED", HEAD)], HEAD, [], teams)
    assert result.ok and teams.calls == []


def test_teams_are_asked_in_order_until_one_says_member():
    teams = Teams({("a", "one"): {"dana": False}, ("b", "two"): {"dana": True}, ("c", "three"): {"dana": True}})
    result = evaluate(["@a/one", "@b/two", "@c/three"], [Review("dana", "APPROVED", HEAD)], HEAD, [], teams)
    assert result.ok
    assert teams.calls == [("a", "one", "dana"), ("b", "two", "dana")]  # stops at the first yes


def test_not_a_member_of_any_team_is_not_an_owner():
    teams = Teams({("a", "one"): {"dana": False}})
    result = evaluate(["@a/one"], [Review("dana", "APPROVED", HEAD)], HEAD, [], teams)
    assert result.detail.endswith("; dana is not an owner")


def test_an_unverifiable_team_is_reported_and_the_reviewer_is_not_called_a_non_owner():
    teams = Teams({("b", "two"): {"dana": None}, ("a", "one"): {"dana": None}})
    result = evaluate(["@b/two", "@a/one"], [Review("dana", "APPROVED", HEAD)], HEAD, [], teams)
    assert not result.ok
    assert "not an owner" not in result.detail
    assert "membership of @a/one, @b/two could not be verified" in result.detail  # sorted, each once


def test_a_member_of_a_later_team_counts_though_an_earlier_one_is_unverified():
    teams = Teams({("a", "one"): {"dana": None}, ("b", "two"): {"dana": True}})
    result = evaluate(["@a/one", "@b/two"], [Review("dana", "APPROVED", HEAD)], HEAD, [], teams)
    assert result.ok and result.approvers == ("dana",)


def test_an_unverified_team_is_reported_even_when_its_reviewer_is_stale_elsewhere():
    teams = Teams({("a", "one"): {"dana": None}, ("b", "two"): {"dana": True}})
    result = evaluate(["@a/one", "@b/two"], [Review("dana", "APPROVED", OLD)], HEAD, [], teams)
    assert result.detail.endswith("; approvals by dana are for an older commit; membership of @a/one could not be "
                                  "verified (set the MODELREG_MEMBERS_TOKEN secret to a token that can read "
                                  "organisation members)")


@pytest.mark.parametrize("state", ["APPROVED", "approved", "Approved"])
def test_the_state_is_read_in_any_case(state):
    assert evaluate(["alice"], [Review("alice", state, HEAD)], HEAD, [], no_teams).ok


def test_a_review_that_does_not_approve_does_not_hide_the_ones_after_it():
    reviews = [Review("carol", "CHANGES_REQUESTED", HEAD), Review("alice", "APPROVED", HEAD)]
    assert evaluate(["alice", "carol"], reviews, HEAD, [], no_teams).ok


def test_several_writers_and_several_stale_approvals_are_listed():
    reviews = [Review("bob", "APPROVED", HEAD), Review("dan", "APPROVED", HEAD), Review("alice", "APPROVED", OLD),
               Review("erin", "APPROVED", OLD)]
    result = evaluate(["alice", "erin"], reviews, HEAD, ["bob", "dan"], no_teams)
    assert "; bob, dan wrote part of this change and cannot approve it; approvals by alice, erin are for an older " \
           "commit" in result.detail


def test_only_the_at_sign_is_taken_off_an_owner():
    assert owner_entries(["@Xena", "XX@yo"]) == ({"xena", "xx@yo"}, [])
